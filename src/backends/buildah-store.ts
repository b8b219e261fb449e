/**
 * The tool's own buildah store (never the user's default one): where it is, which image-builder processes use it,
 * and the removal of what a stopped run left in it (working containers, its local images, dangling images).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import type { RunContext } from '../support/context.js';
import { type BuildLog, captureBuilder, runBuilder } from './process.js';

/** Every image this tool names in its store starts so (see localImageName); base images are kept as a cache. */
export const LOCAL_IMAGE_PREFIX = 'localhost/image-builder/';

/** How long the removal after a stop may take: CI gives a stopped job seconds, and the next run removes the rest. */
export const CLEANUP_AFTER_STOP_MS = 2000;

/** The tool's own cache, never the user's global container store. */
export function cacheDir(env: Env): string {
  if (env.IMAGE_BUILDER_CACHE_DIR) return env.IMAGE_BUILDER_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'image-builder');
  return path.join(env.HOME || os.homedir(), '.cache', 'image-builder');
}

/** The buildah program every argv starts with. */
export const buildahExecutable = (env: Env): string => env.BUILDAH || 'buildah';

/** buildah with the options of our store: the start of every buildah argv. */
export function storeArgv(env: Env): string[] {
  const store = path.join(cacheDir(env), 'buildah');
  return [buildahExecutable(env), '--root', path.join(store, 'root'), '--runroot', path.join(store, 'runroot'), '--storage-driver=vfs'];
}

/** The folder of the store, from its argv (`--root <store>/root`). */
function storeOf(global: string[]): string {
  return path.dirname(global[global.indexOf('--root') + 1] ?? '.');
}

/** Stores this process uses, each with a mark `<pid>-<start time>` in `<store>/users/`, removed when it exits. */
const claimed = new Set<string>();
/** Per store: the removal of leftovers at this process's first build, which every build of the run waits for. */
const prepared = new Map<string, Promise<void>>();
/** Per store: builds of this process running now; the last one stopped removes what the stop left. */
const running = new Map<string, number>();

/**
 * Called before each build: marks the store as used by this process and, once per process, removes what earlier
 * stopped runs left in it. Returns the function to call when the build ends (stopped: it was stopped by a signal).
 */
export async function enterStore(global: string[], log: BuildLog, io: RunContext): Promise<(stopped: boolean) => Promise<void>> {
  const store = storeOf(global);
  try {
    claim(store);
  } catch (err) {
    // buildah will say what is wrong with the store; without a mark, removing anything would be unsafe.
    log.line(`image-builder: cannot mark the store ${store} as in use: ${err instanceof Error ? err.message : String(err)}`);
    return () => Promise.resolve();
  }
  let preparing = prepared.get(store);
  if (!preparing) {
    preparing = removeLeftovers(global, log, io, 'left by an earlier run');
    prepared.set(store, preparing);
  }
  await preparing;
  running.set(store, (running.get(store) ?? 0) + 1);
  return async (stopped) => {
    const left = (running.get(store) ?? 1) - 1;
    running.set(store, left);
    if (!stopped || left > 0) return;
    // The run's signal is aborted: the removal gets its own short bound instead.
    const bounded: RunContext = { ...io, signal: AbortSignal.timeout(CLEANUP_AFTER_STOP_MS) };
    await removeLeftovers(global, log, bounded, 'left by the stopped build');
  };
}

/**
 * Removes every working container, every image named by this tool and every dangling image of the store, unless
 * another live image-builder process uses it (its builds would lose their containers). Containers first: an image
 * is not removed while a container uses it. Failures are logged, never fatal.
 */
async function removeLeftovers(global: string[], log: BuildLog, io: RunContext, why: string): Promise<void> {
  const store = storeOf(global);
  // A store buildah never created has nothing in it.
  if (!existsSync(path.join(store, 'root')) || otherUsers(store).length > 0) return;
  const containersJson = await captureBuilder([...global, 'containers', '--all', '--json'], log, io);
  const imagesJson = await captureBuilder([...global, 'images', '--all', '--json'], log, io);
  if (containersJson === undefined || imagesJson === undefined) return;
  let containers: string[];
  let named: string[];
  let unnamed: string[];
  try {
    containers = ((JSON.parse(containersJson) as { id: string }[] | null) ?? []).map((c) => c.id);
    const stored = (JSON.parse(imagesJson) as { id: string; names?: string[] | null }[] | null) ?? [];
    const leftovers = stored.filter((image) => (image.names ?? []).every((name) => name.startsWith(LOCAL_IMAGE_PREFIX)));
    named = leftovers.flatMap((image) => image.names ?? []);
    unnamed = leftovers.filter((image) => (image.names ?? []).length === 0).map((image) => image.id);
  } catch (err) {
    log.line(`image-builder: cannot read the contents of the store ${store}: ${String(err)}`);
    return;
  }
  if (containers.length + named.length + unnamed.length === 0) return;
  // A run that started while we listed may have created some of these: leave them to it.
  if (otherUsers(store).length > 0) return;
  log.line(`image-builder: removing ${containers.length} working ${containers.length === 1 ? 'container' : 'containers'} and ${named.length + unnamed.length} ${named.length + unnamed.length === 1 ? 'image' : 'images'} ${why} from ${store}`);
  if (containers.length > 0) await runBuilder([...global, 'rm', ...containers], log, io);
  // Unnamed first, then one name per call: buildah 1.28 refuses (or, given its id, ignores) a manifest list whose
  // images are still there, and skips one named among other images.
  if (unnamed.length > 0) await runBuilder([...global, 'rmi', ...unnamed], log, io);
  for (const name of named) await runBuilder([...global, 'rmi', name], log, io);
}

function claim(store: string): void {
  if (claimed.has(store)) return;
  const users = path.join(store, 'users');
  const mark = path.join(users, selfMark());
  mkdirSync(users, { recursive: true, mode: 0o700 });
  writeFileSync(mark, '');
  claimed.add(store);
  process.once('exit', () => {
    try {
      unlinkSync(mark);
    } catch {
      // already gone
    }
  });
}

/** Marks of other live processes; marks of processes that are gone (killed) are removed. */
function otherUsers(store: string): string[] {
  const users = path.join(store, 'users');
  let marks: string[];
  try {
    marks = readdirSync(users);
  } catch {
    return [];
  }
  const self = selfMark();
  return marks.filter((mark) => {
    if (mark === self) return false;
    if (isLive(mark)) return true;
    try {
      unlinkSync(path.join(users, mark));
    } catch {
      // another process removed it first
    }
    return false;
  });
}

function selfMark(): string {
  return `${process.pid}-${startTime(process.pid) ?? 0}`;
}

/** A mark names a live process when that pid exists and started at the same time (pids are reused). */
function isLive(mark: string): boolean {
  const [pid = '', start = ''] = mark.split('-');
  if (!/^\d+$/.test(pid)) return false;
  const actual = startTime(Number(pid));
  if (actual !== undefined) return String(actual) === start;
  if (start !== '0') return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot); undefined without /proc or when the process is gone. */
function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped by its parent) uses the store no more.
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const value = fields[19];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}
