import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { isLoopbackHost, registryHost, type Destination } from '../reference.js';
import { selfPushingBackend } from './run.js';
import { secretMounts } from './secret-files.js';

const DEFAULT_BUILDCTL = 'buildctl-daemonless.sh';
const MISSING_HINT = 'run inside the moby/buildkit image, or set BUILDCTL to buildctl-daemonless.sh';
const buildctl = (env: Env): string => env.BUILDCTL || DEFAULT_BUILDCTL;

/** BuildKit through buildctl-daemonless.sh: starts its own buildkitd, builds, pushes every destination. */
export const buildkitBackend = selfPushingBackend({
  name: 'buildkit',
  capabilities: { variants: true, platforms: true, diskDestinations: false, needsRegistry: true, signsItself: false, localInputs: true, reuse: true, secrets: true },

  validate(plan) {
    const problems: string[] = [];
    if (plan.cache.enabled && !plan.cache.cacheRepo) {
      problems.push('config.yaml cache.enabled is true but cache.cache-repo is empty: buildkit keeps its cache in a registry repository, set cache.cache-repo');
    }
    for (const unit of plan.builds) {
      const loopback = unit.destinations.filter(isLoopback);
      if (loopback.length > 0 && loopback.length < unit.destinations.length) {
        problems.push(
          `buildkit cannot push to a loopback registry (plain HTTP) and a remote one (HTTPS) in one build: ${loopback.map((d) => d.reference).join(', ')}; ` +
            'use --backend buildah, or only loopback or only remote registries',
        );
      }
    }
    return problems;
  },

  argv: buildctlArgv,
  digestFile: metadataFileIn,
  readDigest: digestFromMetadata,
  executable: (env) => ({ file: buildctl(env), hint: MISSING_HINT }),
  missingHint: MISSING_HINT,
});

function isLoopback(d: Destination): boolean {
  return d.kind === 'registry' && d.loopback;
}

function metadataFileIn(scratch: string): string {
  return path.join(scratch, 'metadata.json');
}

/** scratch: the private folder for the metadata file; undefined asks for none (the registry tells the digest). */
function buildctlArgv(plan: Plan, unit: BuildUnit, env: Env, scratch: string | undefined): string[] {
  const dockerfile = path.resolve(plan.context, plan.dockerfile);
  const argv = [
    buildctl(env),
    'build',
    '--frontend=dockerfile.v0',
    '--local',
    `context=${plan.context}`,
    '--local',
    `dockerfile=${path.dirname(dockerfile)}`,
    '--opt',
    `filename=${path.basename(dockerfile)}`,
    ...Object.entries(unit.buildArgs).flatMap(([name, value]) => ['--opt', `build-arg:${name}=${value}`]),
    ...Object.entries(unit.labels).flatMap(([key, value]) => ['--opt', `label:${key}=${value}`]),
  ];
  if (plan.platforms.length > 0) argv.push('--opt', `platform=${plan.platforms.join(',')}`);
  if (plan.target) argv.push('--opt', `target=${plan.target}`);
  // From a file each: an environment secret's value is written to one by the run, as for buildah.
  for (const secret of secretMounts(plan.secrets, scratch)) argv.push('--secret', [`id=${secret.id}`, `src=${secret.file}`].map(csvField).join(','));
  // Quoted so buildctl's CSV parser keeps the comma-separated names in one field.
  const loopback = unit.destinations.length > 0 && unit.destinations.every(isLoopback);
  const insecure = loopback ? ',registry.insecure=true' : '';
  argv.push('--output', `type=image,"name=${unit.destinations.map((d) => d.reference).join(',')}",push=true${insecure}${annotationAttributes(plan, unit)}`);
  if (plan.cache.enabled && plan.cache.cacheRepo) {
    const repo = plan.cache.cacheRepo;
    const cacheInsecure = isLoopbackHost(registryHost(repo)) ? ',registry.insecure=true' : '';
    argv.push('--export-cache', `type=registry,ref=${repo},mode=max${cacheInsecure}`);
    argv.push('--import-cache', `type=registry,ref=${repo}${cacheInsecure}`);
  }
  if (scratch) argv.push('--metadata-file', metadataFileIn(scratch));
  return argv;
}

/** The image exporter's annotation.KEY (each manifest) and, when it pushes an index, annotation-index.KEY attributes. */
function annotationAttributes(plan: Plan, unit: BuildUnit): string {
  const levels = plan.platforms.length > 1 ? ['annotation', 'annotation-index'] : ['annotation'];
  return levels.flatMap((level) => Object.entries(unit.annotations).map(([key, value]) => `,${csvField(`${level}.${key}=${value}`)}`)).join('');
}

/** buildctl reads --output as one CSV record: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function digestFromMetadata(text: string): string | undefined {
  try {
    const digest: unknown = (JSON.parse(text) as Record<string, unknown>)['containerimage.digest'];
    return typeof digest === 'string' ? digest : undefined;
  } catch {
    return undefined;
  }
}
