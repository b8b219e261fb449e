import { parse } from 'yaml';
import { InputError, Problems } from './errors.js';
import { dict } from './support/dict.js';

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--build-arg NAME=VALUE` (the value may contain `=`). */
export function parseBuildArg(raw: string, where = '--build-arg'): [string, string] {
  const eq = raw.indexOf('=');
  const name = eq < 0 ? raw : raw.slice(0, eq);
  if (eq < 0) throw new InputError(`${where} "${name}" has no value; write NAME=VALUE`);
  if (!ARG_NAME.test(name)) throw new InputError(`${where}: "${name}" is not a valid build argument name; use letters, digits and _ (not starting with a digit)`);
  return [name, raw.slice(eq + 1)];
}

/** The deprecated --env-file: KEY=VALUE lines, blank lines and # comments skipped. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const problems = new Problems();
  const out: Record<string, string> = dict();
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const entry = problems.collect(() => parseBuildArg(trimmed.replace(/^export\s+/, ''), `${file}:${i + 1}`));
    if (entry) out[entry[0]] = entry[1];
  });
  problems.throwIfAny();
  return out;
}

/** variants.yaml: variant name → { ARG: value }. */
export function parseVariants(text: string, file: string): Map<string, Record<string, string>> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InputError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError(`${file}: expected a mapping of variant name to build arguments, e.g. "main: {KUBECTL_VERSION: '1.24.4'}"`);
  }
  const problems = new Problems();
  const variants = new Map<string, Record<string, string>>();
  for (const [name, args] of Object.entries(doc as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) {
      problems.add(`${file}: variant "${name}" cannot be used as a tag suffix; use letters, digits, ".", "_" and "-"`);
      continue;
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      problems.add(`${file}: variant "${name}" must map build argument names to values`);
      continue;
    }
    const out: Record<string, string> = dict();
    for (const [arg, value] of Object.entries(args as Record<string, unknown>)) {
      if (!ARG_NAME.test(arg)) problems.add(`${file}: variant "${name}": "${arg}" is not a valid build argument name`);
      else if (value === null || typeof value === 'object') problems.add(`${file}: variant "${name}": ${arg} must be a string, number or boolean`);
      else out[arg] = String(value);
    }
    variants.set(name, out);
  }
  problems.throwIfAny();
  return variants;
}
