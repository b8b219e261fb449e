import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import { Problems } from '../errors.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import type { Backend, BuildIO, BuildResult, PushedImage } from './backend.js';
import { isDiskDestination, isLoopbackHost, parseDiskDestination, registryHost } from './destination.js';
import { besideLog, type BuildLog, captureBuilder, openLog, runBuilder, STOPPED, unitResult } from './process.js';

const MISSING_HINT = 'install it with `apt-get install buildah`, or set BUILDAH to its path';

interface Push {
  destination: string;
  argv: string[];
  digestFile: string;
}

interface BuildahSteps {
  /** buildah and its storage options, the start of every argv. */
  global: string[];
  local: string;
  multiPlatform: boolean;
  build: string[];
  pushes: Push[];
}

/** buildah: daemonless and rootless-capable; builds into a store of our own, then pushes each destination. */
export const buildahBackend: Backend = {
  name: 'buildah',

  validate(plan) {
    const problems = new Problems();
    for (const destination of plan.builds.flatMap((unit) => unit.destinations).filter(isDiskDestination)) {
      problems.collect(() => parseDiskDestination(destination));
    }
    problems.throwIfAny();
  },

  commands(plan, unit, env) {
    const steps = buildahSteps(plan, unit, env, 'dry-run');
    return [steps.build, ...steps.pushes.map((push) => push.argv)];
  },

  async build(plan, unit, io) {
    // A fresh local name per run: concurrent variants and runs never tag over each other's image or manifest list.
    const steps = buildahSteps(plan, unit, io.env, randomBytes(4).toString('hex'));
    const log = await openLog(unit, io);
    try {
      return await buildAndPush(steps, unit, io, log);
    } finally {
      await log.close();
    }
  },
};

async function buildAndPush(steps: BuildahSteps, unit: BuildUnit, io: BuildIO, log: BuildLog): Promise<BuildResult> {
  const result = unitResult(unit);
  const built = await runBuilder(steps.build, log, io, MISSING_HINT);
  if (built.error) return { ...result, error: built.stopped ? STOPPED : `buildah build failed: ${built.error}` };
  const pushed: PushedImage[] = [];
  const failed: string[] = [];
  for (const push of steps.pushes) {
    if (isDiskDestination(push.destination)) {
      await mkdir(path.dirname(parseDiskDestination(push.destination).path), { recursive: true });
    }
    await rm(push.digestFile, { force: true });
    log.line(`image-builder: pushing ${push.destination}`);
    const outcome = await runBuilder(push.argv, log, io, MISSING_HINT);
    if (outcome.stopped) return { ...result, pushed, error: STOPPED };
    if (outcome.error) {
      failed.push(push.destination);
      continue;
    }
    const digest = await readFile(push.digestFile, 'utf8').then((text) => /^sha256:[0-9a-f]{64}$/.exec(text.trim())?.[0], () => undefined);
    pushed.push({ reference: push.destination, ...(digest ? { digest } : {}) });
  }
  await removeLocalImage(steps, io, log);
  if (failed.length > 0) return { ...result, pushed, error: `buildah could not push to ${failed.join(', ')}` };
  return { ...result, ok: true, pushed };
}

/**
 * Without --layers a kept image is never reused, and with vfs each one is a full copy of its root filesystem:
 * remove it (base images stay, so the next build does not pull them again). Failures are logged, not fatal.
 */
async function removeLocalImage(steps: BuildahSteps, io: BuildIO, log: BuildLog): Promise<void> {
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

function buildahSteps(plan: Plan, unit: BuildUnit, env: Env, runId: string): BuildahSteps {
  const storage = path.join(cacheDir(env), 'buildah');
  const global = [
    env.BUILDAH || 'buildah',
    '--root',
    path.join(storage, 'root'),
    '--runroot',
    path.join(storage, 'runroot'),
    '--storage-driver=vfs',
  ];
  const multiPlatform = plan.platforms.length > 1;
  const local = localImageName(plan, unit, runId);
  const build = [
    ...global,
    'build',
    // chroot: needs no runtime, cgroups or user namespaces, so it works as root in a container and unprivileged.
    '--isolation=chroot',
    // No --layers: its cache ignores build-arg values in LABEL and ENV (containers/buildah#5501) and mixes up platforms.
    '-f',
    path.resolve(plan.context, plan.dockerfile),
    ...Object.entries(unit.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    ...(plan.target ? ['--target', plan.target] : []),
    ...(plan.platforms.length > 0 ? ['--platform', plan.platforms.join(',')] : []),
    multiPlatform ? '--manifest' : '-t',
    local,
    plan.context,
  ];
  const pushes = unit.destinations.map((destination, i): Push => {
    const digestFile = besideLog(unit, `.push-${i + 1}.digest`);
    const disk = isDiskDestination(destination);
    const insecure = !disk && isLoopbackHost(registryHost(destination)) ? ['--tls-verify=false'] : [];
    const command = multiPlatform ? ['manifest', 'push', '--all'] : ['push'];
    const target = disk ? destination : `docker://${destination}`;
    return { destination, digestFile, argv: [...global, ...command, ...insecure, '--digestfile', digestFile, local, target] };
  });
  return { global, local, multiPlatform, build, pushes };
}

/** The tool's own cache, never the user's global container store. */
export function cacheDir(env: Env): string {
  if (env.IMAGE_BUILDER_CACHE_DIR) return env.IMAGE_BUILDER_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'image-builder');
  return path.join(env.HOME || os.homedir(), '.cache', 'image-builder');
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
  return `localhost/image-builder/${repository}:${tag}`;
}
