import { statSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';

/** How --dry-run names the private folder: its real name is chosen when the build starts. */
export const SCRATCH_PLACEHOLDER = '<private temp dir>';

/** What the probe writes: more than any side file a builder writes there (a digest, buildctl's metadata). */
const PROBE_BYTES = 16 * 1024;

/**
 * Runs fn with a private folder (mkdtemp: mode 0700, a fresh name) for the side files a builder writes, such as its
 * digest file; never a user's folder, and removed afterwards. The folder is given only if a probe file could be
 * written there: on a full disk fn gets undefined and asks for no side files, so that a builder never fails a
 * successful push because it could not write one. `bases` are tried before the system temp folder.
 */
export async function withScratchDir<T>(env: Env, fn: (dir: string | undefined, problem?: string) => Promise<T>, bases: string[] = []): Promise<T> {
  const { dir, problem } = await createScratchDir(env, bases);
  try {
    return await fn(dir, problem);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A private folder (see withScratchDir) that the caller removes; undefined with the reason when none could be made. */
export async function createScratchDir(env: Env, bases: string[] = []): Promise<{ dir?: string; problem?: string }> {
  let problem: string | undefined;
  for (const base of [...bases.filter(isDirectory), env.TMPDIR || os.tmpdir()]) {
    let dir: string | undefined;
    try {
      dir = await mkdtemp(path.join(base, 'image-builder-'));
      const probe = path.join(dir, 'probe');
      await writeFile(probe, Buffer.alloc(PROBE_BYTES), { flag: 'wx' });
      await unlink(probe);
      return { dir };
    } catch (err) {
      problem = `cannot use a private folder in ${base}: ${err instanceof Error ? err.message : String(err)}`;
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
  return { problem };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
