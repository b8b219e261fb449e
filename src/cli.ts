import yargs from 'yargs';
import { InputError, Problems } from './errors.js';
import { BACKENDS, type Options } from './options.js';
import type { BackendName } from './plan-types.js';

type FlagType = 'string' | 'boolean' | 'list';

interface FlagSpec {
  type: FlagType;
  default?: string | boolean;
  describe: string;
  /** Splits comma-separated values too. */
  commas?: boolean;
  /** Flags that must never be echoed back. */
  secret?: boolean;
}

/** The whole command line; --help is generated from this table. */
export const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', default: '/config/image-builder-config.yaml', describe: 'path of config.yaml' },
  name: { type: 'string', describe: 'image name, may contain "/" (e.g. test-infra/ginkgo); required to build' },
  context: { type: 'string', default: '.', describe: 'build context directory' },
  dockerfile: { type: 'string', default: 'Dockerfile', describe: 'Dockerfile path relative to the context' },
  tag: { type: 'list', describe: 'extra tag, name=value or value; the value may be a template (repeatable)' },
  'tag-base64': { type: 'string', describe: 'base64 of comma-separated name=value tags' },
  'build-arg': { type: 'list', describe: 'NAME=VALUE passed to the Dockerfile (repeatable)' },
  platform: { type: 'list', commas: true, describe: 'target platform, e.g. linux/amd64,linux/arm64 (repeatable)' },
  target: { type: 'string', describe: 'Dockerfile stage to build' },
  'export-tags': { type: 'boolean', default: false, describe: 'also pass every tag as build arg TAG_<name>=<value>' },
  variant: { type: 'string', describe: 'build only this variant of variants.yaml' },
  'env-file': { type: 'string', describe: 'deprecated: KEY=VALUE file, relative to the Dockerfile folder, loaded as build args' },
  'log-dir': { type: 'string', default: '/logs/artifacts', describe: 'folder for per-build log files' },
  silent: { type: 'boolean', default: false, describe: 'do not stream builder output to the terminal' },
  repo: { type: 'string', describe: 'org/repo, used outside CI to pick repository signers' },
  backend: { type: 'string', describe: `build backend: ${BACKENDS.join(', ')} (default: kaniko, buildkit with USE_BUILDKIT=true)` },
  'build-in-ado': { type: 'boolean', default: false, describe: 'build in the Azure DevOps pipeline (same as --backend ado)' },
  'ado-preview-run': { type: 'boolean', default: false, describe: 'validate the ADO pipeline YAML and print the final YAML; builds nothing' },
  'ado-preview-run-yaml-path': { type: 'string', describe: 'pipeline YAML sent as override in a preview run' },
  'test-kaniko-build-config': { type: 'boolean', default: false, describe: 'ADO parameter UseKanikoConfigFromPR=true' },
  'parse-tags-only': { type: 'boolean', default: false, describe: 'print the computed tags as JSON on stdout; builds nothing' },
  'sign-only': { type: 'boolean', default: false, describe: 'sign the images of --images-to-sign; builds nothing' },
  'images-to-sign': { type: 'list', commas: true, describe: 'image to sign in sign-only mode (repeatable)' },
  'oidc-token': { type: 'string', secret: true, describe: 'CI identity token forwarded to the ADO pipeline' },
  'azure-access-token': { type: 'string', secret: true, describe: 'Azure DevOps token (else env ADO_PAT)' },
  'azure-client-id': { type: 'string', describe: 'Azure service principal client ID' },
  'azure-client-secret': { type: 'string', secret: true, describe: 'Azure service principal secret' },
  'azure-tenant-id': { type: 'string', describe: 'Azure service principal tenant ID' },
  'ado-param': { type: 'list', describe: 'extra KEY=VALUE pipeline template parameter (repeatable)' },
  'tags-output-file': { type: 'string', describe: 'also write the computed tags JSON to this file' },
  'build-report-path': { type: 'string', describe: 'write the build report JSON to this file' },
  'commit-sha': { type: 'string', describe: 'build this commit: overrides the SHA the CI context gives' },
  'dry-run': { type: 'boolean', default: false, describe: 'print the whole plan as JSON; touch no network, spawn no builder' },
  debug: { type: 'boolean', default: false, describe: 'verbose logs on stderr' },
};

const SECRET_FLAGS = Object.entries(FLAGS).filter(([, s]) => s.secret).map(([n]) => n);

/** Go's flag package accepts `-name=x`: give known single-dash long flags their second dash. */
function goStyle(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const m = /^-([A-Za-z][\w-]+)(=.*)?$/s.exec(arg);
    const name = m?.[1];
    return name && (name in FLAGS || name === 'help' || name === 'version') ? `-${arg}` : arg;
  });
}

function parser(version: string) {
  let y = yargs()
    .scriptName('image-builder')
    .usage('image-builder [flags]\n\nBuilds a Dockerfile into OCI images with computed tags, pushes and signs them.')
    .parserConfiguration({
      'short-option-groups': false,
      'boolean-negation': false,
      'duplicate-arguments-array': true,
      'greedy-arrays': false,
      'strip-dashed': false,
    })
    .version(version)
    .help('help')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .strict();
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const common = spec.default === undefined ? { describe: spec.describe } : { describe: spec.describe, default: spec.default };
    y = spec.type === 'boolean' ? y.option(flag, { ...common, type: 'boolean' })
      : spec.type === 'list' ? y.option(flag, { ...common, type: 'string', array: true })
      : y.option(flag, { ...common, type: 'string' });
  }
  return y;
}

export type ParsedArgs = { kind: 'options'; options: Options } | { kind: 'text'; text: string };

/** Flags → Options. All problems are reported together as one InputError. */
export async function parseArgs(argv: readonly string[], version: string): Promise<ParsedArgs> {
  const problems = new Problems();
  const args = goStyle(argv);
  let output = '';
  let failure: string | undefined;
  const parsed = parser(version)
    .fail((msg: string | null, err: Error | undefined) => {
      failure = msg ?? err?.message ?? 'invalid command line';
    })
    .parseSync(args, {}, (_err: unknown, _argv: unknown, out: string) => {
      output = out;
    }) as Record<string, unknown>;
  if (failure) problems.add(redact(`${failure}; run with --help to list the flags`));
  if (!failure && output) return { kind: 'text', text: output };

  const str = (flag: string): string | undefined => {
    const v = parsed[flag];
    // Go's flag package lets the last of repeated values win; job files rely on it to override defaults.
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return last === undefined ? undefined : String(last);
  };
  const list = (flag: string): string[] => {
    const v = parsed[flag];
    const items = v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
    return FLAGS[flag]?.commas ? items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean) : items;
  };
  const bool = (flag: string): boolean => {
    const v = parsed[flag];
    return Array.isArray(v) ? Boolean(v[v.length - 1]) : Boolean(v);
  };

  const backend = str('backend');
  if (backend !== undefined && !BACKENDS.includes(backend as BackendName)) {
    problems.add(`--backend: unknown backend "${backend}"; use one of ${BACKENDS.join(', ')}`);
  }
  const options: Options = {
    config: str('config') ?? '',
    name: str('name'),
    context: str('context') ?? '',
    dockerfile: str('dockerfile') ?? '',
    tags: list('tag'),
    tagBase64: str('tag-base64'),
    buildArgs: list('build-arg'),
    platforms: list('platform'),
    target: str('target'),
    exportTags: bool('export-tags'),
    variant: str('variant'),
    envFile: str('env-file'),
    logDir: str('log-dir') ?? '',
    silent: bool('silent'),
    repo: str('repo'),
    backend: backend as BackendName | undefined,
    buildInAdo: bool('build-in-ado'),
    adoPreviewRun: bool('ado-preview-run'),
    adoPreviewRunYamlPath: str('ado-preview-run-yaml-path'),
    testKanikoBuildConfig: bool('test-kaniko-build-config'),
    parseTagsOnly: bool('parse-tags-only'),
    signOnly: bool('sign-only'),
    imagesToSign: list('images-to-sign'),
    oidcToken: str('oidc-token'),
    azureAccessToken: str('azure-access-token'),
    azureClientId: str('azure-client-id'),
    azureClientSecret: str('azure-client-secret'),
    azureTenantId: str('azure-tenant-id'),
    adoParams: list('ado-param'),
    tagsOutputFile: str('tags-output-file'),
    buildReportPath: str('build-report-path'),
    commitSha: str('commit-sha'),
    dryRun: bool('dry-run'),
    debug: bool('debug'),
  };
  for (const p of validateOptions(options)) problems.add(p);
  problems.throwIfAny();
  return { kind: 'options', options };
}

/** The rules of SPEC section 2 that involve more than one flag. */
function validateOptions(o: Options): string[] {
  const problems: string[] = [];
  const ado = o.backend === 'ado' || (o.backend === undefined && o.buildInAdo);
  for (const [flag, value] of [['config', o.config], ['context', o.context], ['dockerfile', o.dockerfile], ['log-dir', o.logDir]] as const) {
    if (value.trim() === '') problems.push(`--${flag} is empty; give a path or leave the flag out for its default`);
  }
  for (const [flag, value] of [['name', o.name], ['tag-base64', o.tagBase64], ['target', o.target], ['variant', o.variant], ['env-file', o.envFile], ['repo', o.repo], ['commit-sha', o.commitSha], ['tags-output-file', o.tagsOutputFile], ['build-report-path', o.buildReportPath], ['ado-preview-run-yaml-path', o.adoPreviewRunYamlPath]] as const) {
    if (value !== undefined && value.trim() === '') problems.push(`--${flag} is empty; give a value or leave the flag out`);
  }
  if (o.backend !== undefined && o.buildInAdo && o.backend !== 'ado') {
    problems.push(`--build-in-ado conflicts with --backend ${o.backend}; keep one of them`);
  }
  const building = !o.signOnly && !o.parseTagsOnly && !o.adoPreviewRun;
  if (building && (o.name === undefined || o.name.trim() === '')) {
    problems.push('--name is required to build; give the image name, e.g. --name=test-infra/ginkgo');
  }
  if (o.signOnly && o.imagesToSign.length === 0) problems.push('--sign-only needs at least one --images-to-sign=<image>');
  if (!o.signOnly && o.imagesToSign.length > 0) problems.push('--images-to-sign is only used with --sign-only; add --sign-only or drop it');
  if (o.signOnly && o.parseTagsOnly) problems.push('--sign-only and --parse-tags-only are two different modes; give one');
  if (ado && o.variant !== undefined) problems.push('--variant is not supported with the ADO backend: the pipeline builds no variants; drop --variant or use another --backend');
  if (ado && o.envFile !== undefined) problems.push('--env-file is not supported with the ADO backend; pass the values with --build-arg instead');
  if (o.adoPreviewRun && !ado) problems.push('--ado-preview-run needs the ADO backend; add --build-in-ado or --backend ado');
  if (o.adoPreviewRun && o.adoPreviewRunYamlPath === undefined) problems.push('--ado-preview-run needs --ado-preview-run-yaml-path=<pipeline.yaml>');
  if (!o.adoPreviewRun && o.adoPreviewRunYamlPath !== undefined) problems.push('--ado-preview-run-yaml-path is only used with --ado-preview-run; add it or drop the path');
  if (o.commitSha !== undefined && o.commitSha.trim() !== '' && !/^[0-9a-fA-F]{7,64}$/.test(o.commitSha)) {
    problems.push(`--commit-sha "${o.commitSha}" is not a commit SHA; give 7 to 64 hexadecimal characters`);
  }
  for (const p of o.adoParams) {
    if (!/^[A-Za-z_][\w.-]*=/.test(p)) problems.push(`--ado-param "${p}" is not KEY=VALUE`);
  }
  return problems;
}

const SECRET_VALUE = new RegExp(`(--?(?:${SECRET_FLAGS.join('|')})[= ])\\S+`, 'g');

/** Yargs echoes values in some messages: never let a secret flag's value through. */
function redact(text: string): string {
  return text.replace(SECRET_VALUE, '$1***');
}

export function describeError(err: unknown): string {
  if (err instanceof InputError) return err.problems.map((p) => `error: ${p}`).join('\n');
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
