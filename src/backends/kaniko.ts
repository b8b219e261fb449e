import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import { Problems } from '../errors.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import type { Backend } from './backend.js';
import { isDiskDestination, isLoopbackHost, registryHost } from './destination.js';
import { runSelfPushingBuilder, sha256Digest } from './pushed.js';
import { SCRATCH_PLACEHOLDER } from './scratch.js';

const DEFAULT_EXECUTOR = '/kaniko/executor';

/** kaniko's executor: builds inside its own container image and pushes every destination itself. */
export const kanikoBackend: Backend = {
  name: 'kaniko',

  validate(plan) {
    const problems = new Problems();
    if (plan.platforms.length > 0) {
      problems.add(
        `kaniko cannot build for other platforms (--platform ${plan.platforms.join(',')}): ` +
          'use --backend buildah (or --backend buildkit) to build for several platforms',
      );
    }
    for (const destination of plan.builds.flatMap((unit) => unit.destinations).filter(isDiskDestination)) {
      problems.add(`kaniko cannot write to ${destination}: use --backend buildah for oci: and oci-archive: destinations`);
    }
    problems.throwIfAny();
  },

  commands(plan, unit, env) {
    return [kanikoArgv(plan, unit, env, SCRATCH_PLACEHOLDER)];
  },

  build(plan, unit, io) {
    return runSelfPushingBuilder(unit, io, {
      argv: (scratch) => kanikoArgv(plan, unit, io.env, scratch),
      digestFile: digestFileIn,
      readDigest: sha256Digest,
      missingHint: 'run inside the kaniko executor image, or set KANIKO_EXECUTOR to the executor path',
      // kaniko resets the root filesystem between stages but keeps its own folder: a digest file in /tmp could vanish.
      scratchIn: [io.env.KANIKO_DIR || '/kaniko'],
    });
  },
};

const digestFileIn = (scratch: string): string => path.join(scratch, 'digest');

/** scratch: the private folder for the digest file; undefined asks for none (the registry tells the digest). */
function kanikoArgv(plan: Plan, unit: BuildUnit, env: Env, scratch: string | undefined): string[] {
  const argv = [
    env.KANIKO_EXECUTOR || DEFAULT_EXECUTOR,
    `--context=${plan.context}`,
    `--dockerfile=${path.resolve(plan.context, plan.dockerfile)}`,
    ...unit.destinations.map((destination) => `--destination=${destination}`),
    ...Object.entries(unit.buildArgs).map(([name, value]) => `--build-arg=${name}=${value}`),
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
  const references = [...unit.destinations, ...(plan.cache.enabled && plan.cache.cacheRepo ? [plan.cache.cacheRepo] : [])];
  return [...new Set(references.map(registryHost).filter(isLoopbackHost))];
}
