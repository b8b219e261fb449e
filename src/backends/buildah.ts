import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import type { BuildResult, PushedImage } from './backend.js';
import type { RunContext } from '../support/context.js';
import { pushAll, type PushesOutcome, type PushJob } from './buildah-push.js';
import { buildahEnv } from './buildah-registries.js';
import { buildahExecutable, enterStore, LOCAL_IMAGE_PREFIX, storeArgv } from './buildah-store.js';
import { type BuildLog, captureBuilder, openLog, runBuilder, STOPPED, unitResult } from './process.js';
import { PushRegistries } from './pushed.js';
import { processBackend } from './run.js';
import { SCRATCH_PLACEHOLDER, withScratchDir } from './scratch.js';
import { secretMounts, withSecretFiles, type SecretMount } from './secret-files.js';

export { cacheDir } from './buildah-store.js';

const MISSING_HINT = 'install it with `apt-get install buildah`, or set BUILDAH to its path';
/** The wait between the retries buildah makes anyway (default 2 s: 6 s per push at a registry that is down). */
const BUILDAH_RETRY_DELAY = '500ms';

interface BuildahSteps {
  /** buildah and its storage options, the start of every argv. */
  global: string[];
  local: string;
  multiPlatform: boolean;
  build: string[];
  /** The build secrets, as build reads them. */
  secrets: SecretMount[];
  pushes: PushJob[];
}

/** buildah: daemonless and rootless-capable; builds into a store of our own, then pushes each destination. */
export const buildahBackend = processBackend({
  name: 'buildah',
  capabilities: { variants: true, platforms: true, diskDestinations: true, needsRegistry: true, signsItself: false, localInputs: true, reuse: true, secrets: true },
  executable: (env) => ({ file: buildahExecutable(env), hint: MISSING_HINT }),

  // buildah 1.28 splits --secret at every comma, quoted or not.
  validate: (plan) =>
    plan.secrets.flatMap((secret) => {
      const where = secret.id.includes(',') ? 'its id' : 'src' in secret && secret.src.includes(',') ? `its file ${secret.src}` : undefined;
      return where ? [`buildah cannot read --secret id=${secret.id}: ${where} has a comma, where buildah splits --secret; rename it, or use --backend buildkit`] : [];
    }),

  // What buildah 1.28 reads (tried): beside the Dockerfile first, then the context's, .containerignore before .dockerignore.
  ignoreFiles: (contextDir, dockerfile) =>
    [`${dockerfile}.containerignore`, `${dockerfile}.dockerignore`, path.join(contextDir, '.containerignore'), path.join(contextDir, '.dockerignore')],

  commands(plan, unit, env) {
    const steps = buildahSteps(plan, unit, env, 'dry-run', SCRATCH_PLACEHOLDER);
    return [steps.build, ...steps.pushes.map((push) => push.argv)];
  },

  async build(plan, unit, io) {
    const log = await openLog(unit, io, plan.silent);
    try {
      const leave = await enterStore(storeArgv(io.env), log, io);
      try {
        return await withScratchDir(io.env, async (scratch, problem) => {
          if (problem) log.line(`image-builder: ${problem}; digests will be read from the registry`);
          // A fresh local name per run: concurrent variants and runs never tag over each other's image or manifest list.
          const steps = buildahSteps(plan, unit, io.env, randomBytes(4).toString('hex'), scratch);
          const env = await buildahEnv(plan, unit, io.env, scratch, (line) => log.line(line));
          return buildAndPush(steps, unit, { ...io, env }, log, { dir: scratch, problem });
        });
      } finally {
        // A stop may leave a working container or the image built: removed before the CLI exits.
        await leave(io.signal.aborted);
      }
    } finally {
      await log.close();
    }
  },
});

async function buildAndPush(steps: BuildahSteps, unit: BuildUnit, io: RunContext, log: BuildLog, scratch: { dir?: string; problem?: string }): Promise<BuildResult> {
  const result = unitResult(unit);
  // The secrets' files exist while buildah build runs, not during the pushes.
  const built = await withSecretFiles(steps.secrets, scratch, io.env, log, () => runBuilder(steps.build, log, io, MISSING_HINT));
  if (built.error) return { ...result, error: built.stopped ? STOPPED : `buildah build failed: ${built.error}` };
  const registries = new PushRegistries(io, log);
  const pushes = await pushAll(steps.pushes, { log, io, registries, missingHint: MISSING_HINT });
  if (pushes.stopped) return { ...result, pushed: pushes.pushed, error: STOPPED };
  const { pushed, failed } = steps.multiPlatform ? await annotateIndexes(pushes, unit, registries) : pushes;
  await removeLocalImage(steps, io, log);
  for (const { destination, reason } of failed) log.line(`image-builder: not pushed: ${destination}: ${reason}`);
  if (failed.length > 0) return { ...result, pushed, error: `buildah could not push to ${joinFailures(failed)}` };
  return { ...result, ok: true, pushed };
}

/** buildah 1.28 cannot annotate an index: each pushed index gets the unit's annotations through the registry, and a new digest. */
async function annotateIndexes(pushes: PushesOutcome, unit: BuildUnit, registries: PushRegistries): Promise<Pick<PushesOutcome, 'pushed' | 'failed'>> {
  if (Object.keys(unit.annotations).length === 0) return pushes;
  const pushed: PushedImage[] = [];
  const failed = [...pushes.failed];
  for (const image of pushes.pushed) {
    const destination = unit.destinations.find((d) => d.reference === image.reference);
    const annotated = destination ? await registries.annotateIndex(destination, image, unit.annotations) : { image };
    if ('image' in annotated) pushed.push(annotated.image);
    else failed.push({ destination: image.reference, reason: annotated.error });
  }
  return { pushed, failed };
}

/** `a, b (why); c (other reason)`: destinations that failed for the same reason share it. */
function joinFailures(failed: { destination: string; reason: string }[]): string {
  const byReason = new Map<string, string[]>();
  for (const { destination, reason } of failed) byReason.set(reason, [...(byReason.get(reason) ?? []), destination]);
  return [...byReason].map(([reason, destinations]) => `${destinations.join(', ')} (${reason})`).join('; ');
}

/**
 * Without --layers a kept image is never reused, and with vfs each one is a full copy of its root filesystem:
 * remove it (base images stay, so the next build does not pull them again). Failures are logged, not fatal.
 */
async function removeLocalImage(steps: BuildahSteps, io: RunContext, log: BuildLog): Promise<void> {
  const [buildah = 'buildah', ...storage] = steps.global;
  const run = (args: string[]) => [buildah, ...storage, ...args];
  if (!steps.multiPlatform) {
    await runBuilder(run(['rmi', steps.local]), log, io, MISSING_HINT);
    return;
  }
  // `manifest rm` keeps the per-platform images, which have no name: find them by their manifest digests.
  const list = await captureBuilder(run(['manifest', 'inspect', steps.local]), log, io);
  const images = await captureBuilder(run(['images', '--json']), log, io);
  await runBuilder(run(['manifest', 'rm', steps.local]), log, io, MISSING_HINT);
  if (list === undefined || images === undefined) return;
  try {
    const digests = new Set(((JSON.parse(list) as { manifests?: { digest: string }[] }).manifests ?? []).map((m) => m.digest));
    const stored = (JSON.parse(images) as { id: string; digest: string }[] | null) ?? [];
    const ids = stored.filter((image) => digests.has(image.digest)).map((image) => image.id);
    if (ids.length > 0) await runBuilder(run(['rmi', ...ids]), log, io, MISSING_HINT);
  } catch (err) {
    log.line(`image-builder: could not remove the per-platform images of ${steps.local}: ${String(err)}`);
  }
}

/** scratch: the private folder for digest files; undefined asks for none (the registry tells the digests). */
function buildahSteps(plan: Plan, unit: BuildUnit, env: Env, runId: string, scratch: string | undefined): BuildahSteps {
  const global = storeArgv(env);
  const multiPlatform = plan.platforms.length > 1;
  const local = localImageName(plan, unit, runId);
  const secrets = secretMounts(plan.secrets, scratch);
  const build = [
    ...global,
    'build',
    // chroot: needs no runtime, cgroups or user namespaces, so it works as root in a container and unprivileged.
    '--isolation=chroot',
    // No --layers: its cache ignores build-arg values in LABEL and ENV (containers/buildah#5501) and mixes up platforms.
    '-f',
    path.resolve(plan.context, plan.dockerfile),
    ...Object.entries(unit.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    // Annotations go on each image manifest; an index gets them through the registry after the push (annotateIndexes).
    ...Object.entries(unit.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...Object.entries(unit.annotations).flatMap(([key, value]) => ['--annotation', `${key}=${value}`]),
    ...(plan.target ? ['--target', plan.target] : []),
    ...(plan.platforms.length > 0 ? ['--platform', plan.platforms.join(',')] : []),
    // type=file always: without it buildah 1.28 reads an environment variable named like the id, if there is one.
    ...secrets.flatMap((secret) => ['--secret', `type=file,id=${secret.id},src=${secret.file}`]),
    multiPlatform ? '--manifest' : '-t',
    local,
    plan.context,
  ];
  const pushes = unit.destinations.map((destination, i): PushJob => {
    const digestFile = scratch && path.join(scratch, `push-${i + 1}.digest`);
    const disk = destination.kind === 'disk';
    const insecure = destination.kind === 'registry' && destination.loopback ? ['--tls-verify=false'] : [];
    // Our retry policy covers every push (buildah-push.ts). buildah 1.28 ignores --retry's count (it retries network
    // errors 3 times) but honours --retry-delay; `manifest push` has neither.
    const command = multiPlatform ? ['manifest', 'push', '--all'] : ['push', '--retry=0', `--retry-delay=${BUILDAH_RETRY_DELAY}`];
    const target = disk ? destination.reference : `docker://${destination.reference}`;
    const digest = digestFile ? ['--digestfile', digestFile] : [];
    return { destination, ...(digestFile ? { digestFile } : {}), argv: [...global, ...command, ...insecure, ...digest, local, target] };
  });
  return { global, local, multiPlatform, build, secrets, pushes };
}

/** e.g. localhost/image-builder/test-infra/ginkgo:arm-1a2b3c4d: a valid reference whatever the name and variant. */
export function localImageName(plan: Plan, unit: BuildUnit, runId: string): string {
  const components = (plan.name ?? '')
    .toLowerCase()
    .split('/')
    .map((part) => part.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((part) => part !== '');
  const repository = components.length > 0 ? components.join('/') : 'image';
  const tag = `${(unit.variant ?? 'build').replace(/[^\w.-]+/g, '-').slice(0, 64)}-${runId}`.replace(/^[.-]+/, '');
  return `${LOCAL_IMAGE_PREFIX}${repository}:${tag}`;
}
