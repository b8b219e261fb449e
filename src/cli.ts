import yargs from 'yargs';
import { InputError } from './errors.js';
import { editDistance } from './support/closest.js';
import { BACKEND_CHOICE, BACKEND_NAMES, backendOptionProblems } from './backends/index.js';
import type { Backend } from './backends/backend.js';
import { defaultOptions, FLAGS, flagSpec, type FlagName, type Options } from './options.js';

export type ParsedArgs =
  /** `empty`: flags given an empty value where that is an error (already among the problems). */
  | { kind: 'options'; options: Options; problems: string[]; empty: string[] }
  | { kind: 'help' }
  | { kind: 'version' };

/** Go's strconv.ParseBool: the spellings a Go boolean flag accepts. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * The command line as Go's flag package reads it (compat): `-flag` or `--flag`, `=value` or the next argument as the
 * value, booleans only with `=`. Beyond Go: parsing goes on after a problem so that every problem is reported at once,
 * and an argument that is not a flag is an error instead of silently ending the flags.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const problems: string[] = [];
  const values = new Map<FlagName, string[]>();
  const unknown = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const m = /^--?([^-=][^=]*)?(=([\s\S]*))?$/.exec(arg);
    if (arg === '--' || !arg.startsWith('-') || arg === '-') {
      problems.push(unexpectedArgument(arg, argv[i - 1]));
      continue;
    }
    const name = m?.[1];
    if (!m || name === undefined) {
      problems.push(`bad flag syntax: ${shown(arg)}; write --name=value`);
      continue;
    }
    const inline = m[2] === undefined ? undefined : (m[3] ?? '');
    if (name === 'help' || name === 'h') return { kind: 'help' };
    if (name === 'version') return { kind: 'version' };
    const spec = flagSpec(name);
    if (!spec) {
      if (!unknown.has(name)) problems.push(unknownFlag(name));
      unknown.add(name);
      continue;
    }
    let value = inline;
    if (spec.type === 'boolean') {
      value ??= 'true';
    } else if (value === undefined) {
      if (i + 1 >= argv.length) {
        problems.push(`--${name} needs a value: write --${name}=<value>`);
        continue;
      }
      value = argv[++i] ?? '';
    }
    const list = values.get(name as FlagName) ?? [];
    list.push(value);
    values.set(name as FlagName, list);
  }
  const { options, problems: valueProblems, empty } = toOptions(values);
  return { kind: 'options', options, problems: [...problems, ...valueProblems], empty };
}

/** Raw flag values → Options: last value wins for single-valued flags (Go), lists accumulate. */
function toOptions(values: Map<FlagName, string[]>): { options: Options; problems: string[]; empty: string[] } {
  const problems: string[] = [];
  const empty: string[] = [];
  const out = defaultOptions() as unknown as Record<string, unknown>;
  /** Which flag set a boolean key: two flags of one key (--reuse, --no-reuse) must agree. */
  const setBy = new Map<string, string>();
  for (const [name, raw] of values) {
    const spec = FLAGS[name];
    if (spec.type === 'boolean') {
      const last = raw[raw.length - 1] ?? 'true';
      const value = GO_TRUE.has(last) ? true : GO_FALSE.has(last) ? false : undefined;
      if (value === undefined) {
        problems.push(`--${name}: invalid boolean value ${JSON.stringify(last)}; use true or false (as in --${name}=false)`);
        continue;
      }
      const set = 'negates' in spec && spec.negates ? !value : value;
      const other = setBy.get(spec.key);
      if (other !== undefined && out[spec.key] !== set) problems.push(`--${other} and --${name} contradict each other; give one of them`);
      setBy.set(spec.key, name);
      out[spec.key] = set;
    } else if (spec.type === 'list') {
      // Job files generate `--tag=` from empty inputs: an empty value is no value.
      const items = 'commas' in spec && spec.commas ? raw.flatMap((v) => v.split(',')).map((v) => v.trim()) : raw;
      out[spec.key] = items.filter((v) => v !== '');
    } else {
      const last = raw[raw.length - 1] ?? '';
      if (last.trim() !== '') out[spec.key] = last;
      else if ('nonEmpty' in spec && spec.nonEmpty && empty.push(name)) problems.push(`--${name} is empty; ${name === 'name' ? 'give the image name, e.g. --name=test-infra/ginkgo' : 'give a path or leave the flag out for its default'}`);
    }
  }
  const options = out as unknown as Options;
  if (options.backend !== undefined && !BACKEND_NAMES.includes(options.backend)) {
    problems.push(`--backend: unknown backend ${JSON.stringify(options.backend)}; use one of ${BACKEND_NAMES.join(', ')}`);
    delete out.backend;
  }
  return { options, problems, empty };
}

function shown(arg: string): string {
  return JSON.stringify(arg.length > 60 ? `${arg.slice(0, 60)}…` : arg);
}

function unexpectedArgument(arg: string, previous: string | undefined): string {
  const before = previous && /^--?([\w-]+)$/.exec(previous)?.[1];
  const boolean = before && flagSpec(before)?.type === 'boolean';
  if (boolean && (GO_TRUE.has(arg) || GO_FALSE.has(arg))) {
    return `--${before} ${arg}: a boolean flag takes its value with "=": write --${before}=${arg}`;
  }
  const what = arg === '--' ? '"--"' : `argument ${shown(arg)}`;
  return `unexpected ${what}: image-builder takes only flags (--name=value); run with --help to list them`;
}

function unknownFlag(name: string): string {
  const hint = closestFlag(name);
  return `unknown flag --${name}${hint ? `; did you mean --${hint}?` : ''} (run with --help to list the flags)`;
}

/** The known flag nearest to a mistyped one, if it is near enough to be what was meant. */
export function closestFlag(name: string): string | undefined {
  const wanted = name.toLowerCase();
  let best: { flag: string; distance: number } | undefined;
  for (const flag of Object.keys(FLAGS)) {
    const distance = editDistance(wanted, flag);
    if (!best || distance < best.distance) best = { flag, distance };
  }
  if (!best) return undefined;
  const limit = best.flag.length >= 8 ? 3 : 2;
  if (best.distance <= limit) return best.flag;
  // camelCase or a prefix of a long flag: buildArg → build-arg, --platforms → platform.
  const flat = (s: string) => s.replaceAll('-', '').toLowerCase();
  return Object.keys(FLAGS).find((flag) => flat(flag) === flat(name) || (wanted.length >= 4 && flag.startsWith(wanted)));
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9.]+)?$/;

/** The rules of SPEC section 2 that involve more than one flag, once the backend is known. */
export function validateOptions(o: Options, backend: Backend, emptyFlags: readonly string[] = []): string[] {
  const problems: string[] = [];
  const building = !o.signOnly && !o.parseTagsOnly && !o.adoPreviewRun;
  if (building && o.name === undefined && !emptyFlags.includes('name')) problems.push('--name is required to build; give the image name, e.g. --name=test-infra/ginkgo');
  if (o.signOnly && o.imagesToSign.length === 0) problems.push('--sign-only needs at least one --images-to-sign=<image>');
  if (!o.signOnly && o.imagesToSign.length > 0) problems.push('--images-to-sign is only used with --sign-only; add --sign-only or drop it');
  if (o.signOnly && o.parseTagsOnly) problems.push('--sign-only and --parse-tags-only are two different modes; give one');
  problems.push(...backendOptionProblems(o, backend, building));
  if (o.adoStateOutput && !o.signOnly) problems.push('--ado-state-output is only used with --sign-only; add --sign-only or drop it');
  if (o.commitSha !== undefined && !/^[0-9a-fA-F]{7,64}$/.test(o.commitSha)) {
    problems.push(`--commit-sha ${JSON.stringify(o.commitSha)} is not a commit SHA; give 7 to 64 hexadecimal characters`);
  }
  for (const platform of o.platforms) {
    if (!PLATFORM.test(platform)) problems.push(`--platform ${JSON.stringify(platform)} is not a platform; write os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7`);
  }
  return problems;
}

/** --help, generated by yargs from the flag table. */
export async function helpText(version: string): Promise<string> {
  let y = yargs()
    .scriptName('image-builder')
    .usage('image-builder [flags]\n\nBuilds a Dockerfile into OCI images with computed tags, pushes and signs them.\nFlags are read as Go reads them: -flag or --flag, --flag=value or --flag value; booleans as --flag or --flag=false.')
    .version(version)
    .wrap(Math.min(120, process.stdout.columns || 100));
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const describe = flag === 'backend' ? BACKEND_CHOICE : spec.describe;
    const common = 'default' in spec ? { describe, default: spec.default } : { describe };
    y = y.option(flag, { ...common, type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.type === 'list' ? { array: true } : {}) });
  }
  return y.getHelp();
}

export function describeError(err: unknown): string {
  if (err instanceof InputError) return err.problems.map((p) => `error: ${p}`).join('\n');
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
