import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { isLoopbackHost, registryHost } from '../reference.js';
import { sha256Digest } from './pushed.js';
import { selfPushingBackend } from './run.js';

const DEFAULT_EXECUTOR = '/kaniko/executor';
const MISSING_HINT = 'run inside the kaniko executor image, or set KANIKO_EXECUTOR to the executor path';
const executor = (env: Env): string => env.KANIKO_EXECUTOR || DEFAULT_EXECUTOR;

/** kaniko's executor: builds inside its own container image and pushes every destination itself. */
export const kanikoBackend = selfPushingBackend({
  name: 'kaniko',
  capabilities: { variants: true, platforms: false, diskDestinations: false, needsRegistry: true, signsItself: false, localInputs: true, reuse: true, secrets: false },
  argv: kanikoArgv,
  digestFile: digestFileIn,
  readDigest: sha256Digest,
  executable: (env) => ({ file: executor(env), hint: MISSING_HINT }),
  missingHint: MISSING_HINT,
  // kaniko resets the root filesystem between stages but keeps its own folder: a digest file in /tmp could vanish.
  scratchIn: (env) => [env.KANIKO_DIR || '/kaniko'],
});

function digestFileIn(scratch: string): string {
  return path.join(scratch, 'digest');
}

/** scratch: the private folder for the digest file; undefined asks for none (the registry tells the digest). */
function kanikoArgv(plan: Plan, unit: BuildUnit, env: Env, scratch: string | undefined): string[] {
  const argv = [
    executor(env),
    `--context=${plan.context}`,
    `--dockerfile=${path.resolve(plan.context, plan.dockerfile)}`,
    ...unit.destinations.map((destination) => `--destination=${destination.reference}`),
    ...Object.entries(unit.buildArgs).map(([name, value]) => `--build-arg=${name}=${value}`),
    // kaniko has no manifest annotations: labels only.
    ...Object.entries(unit.labels).map(([key, value]) => `--label=${key}=${value}`),
  ];
  if (plan.target) argv.push(`--target=${plan.target}`);
  if (plan.cache.enabled) {
    argv.push('--cache=true');
    if (plan.cache.cacheRepo) argv.push(`--cache-repo=${plan.cache.cacheRepo}`);
    argv.push(`--cache-run-layers=${plan.cache.cacheRunLayers}`, `--cache-copy-layers=${plan.cache.cacheCopyLayers}`);
  }
  if (plan.reproducible) argv.push('--reproducible');
  if (plan.logFormat) argv.push(`--log-format=${plan.logFormat}`);
  argv.push(...insecureRegistries(plan, unit).map((host) => `--insecure-registry=${host}`));
  if (scratch) argv.push(`--digest-file=${digestFileIn(scratch)}`);
  return argv;
}

/** Loopback registries are plain HTTP (SPEC 6); kaniko needs each host named. */
function insecureRegistries(plan: Plan, unit: BuildUnit): string[] {
  const hosts = unit.destinations.flatMap((d) => (d.kind === 'registry' && d.loopback ? [d.image.registry] : []));
  const cache = plan.cache.enabled && plan.cache.cacheRepo ? registryHost(plan.cache.cacheRepo) : undefined;
  return [...new Set([...hosts, ...(cache && isLoopbackHost(cache) ? [cache] : [])])];
}
