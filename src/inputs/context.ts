import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { IgnoreRules } from './ignore.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block';

/** One thing the build context sends. */
export interface ContextEntry {
  /** Relative to the context, forward slashes. */
  path: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky, 4 octal digits; `0777` for every symlink. */
  mode: string;
  /** Regular files: the bytes read. */
  size?: number;
  /** Regular files: `sha256:<hex>` of the content. */
  sha256?: string;
  /** Symlinks: the link text, never followed. */
  target?: string;
}

/** Something in the context that is not sent, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ContextScan {
  /** Sorted by path. */
  entries: ContextEntry[];
  skipped: SkippedEntry[];
}

/** Files hashed at once; each holds one read buffer. */
const READERS = 8;
const CHUNK = 256 * 1024;

/**
 * Walks the context as Docker sends it: ignored paths left out (an ignored directory's subtree too, unless a
 * `!` rule may re-include something in it), symlinks read as links, each regular file read once, in chunks.
 * Sockets are skipped (Docker skips them too); fifos and devices are listed by type and mode, never opened.
 */
export async function scanContext(contextDir: string, rules: IgnoreRules): Promise<ContextScan> {
  const included = new Map<string, ContextEntry>();
  const ignoredDirs = new Map<string, ContextEntry>();
  const skipped: SkippedEntry[] = [];

  const walk = async (dir: string): Promise<void> => {
    const names = await readdir(path.join(contextDir, dir)).catch((err: unknown) => {
      throw unreadable(contextDir, dir || '.', err);
    });
    await Promise.all(
      names.map(async (name) => {
        const rel = dir ? `${dir}/${name}` : name;
        const stats = await lstat(path.join(contextDir, rel)).catch((err: unknown) => {
          throw unreadable(contextDir, rel, err);
        });
        const ignored = rules.ignores(rel);
        const type = entryType(stats);
        if (type === 'dir') {
          (ignored ? ignoredDirs : included).set(rel, { path: rel, type, mode: modeOf(stats) });
          if (!ignored || rules.hasExceptions) await walk(rel);
        } else if (ignored) {
          return;
        } else if (type === undefined) {
          skipped.push({ path: rel, reason: 'a socket: not sent (Docker skips sockets too)' });
        } else if (type === 'symlink') {
          const target = await readlink(path.join(contextDir, rel)).catch((err: unknown) => {
            throw unreadable(contextDir, rel, err);
          });
          included.set(rel, { path: rel, type, mode: '0777', target });
        } else {
          included.set(rel, { path: rel, type, mode: modeOf(stats) });
        }
      }),
    );
  };
  await walk('');

  // A re-included path inside an ignored directory brings its directories along, as BuildKit sends them.
  for (const rel of [...included.keys()]) {
    for (let dir = path.posix.dirname(rel); dir !== '.'; dir = path.posix.dirname(dir)) {
      const parent = ignoredDirs.get(dir);
      if (parent) included.set(dir, parent);
    }
  }

  const entries = [...included.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  await hashFiles(contextDir, entries.filter((entry) => entry.type === 'file'));
  skipped.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { entries, skipped };
}

function entryType(stats: Stats): EntryType | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  return undefined; // a socket
}

const modeOf = (stats: Stats): string => (stats.mode & 0o7777).toString(8).padStart(4, '0');

async function hashFiles(contextDir: string, files: ContextEntry[]): Promise<void> {
  let next = 0;
  const reader = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let i = next++; i < files.length; i = next++) await hashFile(contextDir, files[i] as ContextEntry, buffer);
  };
  await Promise.all(Array.from({ length: Math.min(READERS, files.length) }, reader));
}

async function hashFile(contextDir: string, entry: ContextEntry, buffer: Buffer): Promise<void> {
  // O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a fifo after the walk must not be followed or hang us.
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const file = await open(path.join(contextDir, entry.path), flags).catch((err: unknown) => {
    throw unreadable(contextDir, entry.path, err);
  });
  try {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      if (bytesRead < buffer.length) break;
    }
    entry.size = size;
    entry.sha256 = `sha256:${hash.digest('hex')}`;
  } catch (err) {
    throw unreadable(contextDir, entry.path, err);
  } finally {
    await file.close();
  }
}

function unreadable(contextDir: string, rel: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied: make it readable, or exclude it in .dockerignore'
      : code === 'ENOENT' || code === 'ELOOP'
        ? 'it changed while the context was read: build from a context nothing writes to'
        : `${code ?? String(err)}`;
  return new InputError(`cannot read ${rel} in the build context ${contextDir}: ${why}`);
}
