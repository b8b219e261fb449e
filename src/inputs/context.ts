import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { IgnoreRules } from './ignore.js';
import { SnapshotError, type Snapshot, type Times } from './snapshot.js';
import { readXattrs, type Xattrs } from './xattr.js';

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
  /** Regular files sharing an inode with an earlier (sorted) path of the context: that path. Content, mode and xattrs are its. */
  hardlink?: string;
  /** Extended attributes (all but security.selinux): name → lowercase hex value; absent when none. */
  xattrs?: Xattrs;
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

/** Read buffer: a file larger than this is hashed chunk by chunk. */
const CHUNK = 256 * 1024;
/** The walk runs synchronous calls (several times faster than the thread pool for many small files) and lets the event loop in this often. */
const SLICE_MS = 20;

/**
 * Walks the context as Docker sends it: ignored paths left out (an ignored directory's subtree too, unless a
 * `!` rule may re-include something in it), symlinks read as links, each regular file read once, in chunks.
 * Sockets are skipped (Docker skips them too); fifos and devices are listed by type and mode, never opened.
 * Extended attributes come from getfattr, one process per batch of paths, while the files are hashed.
 * With a snapshot, every entry is copied into it as it is read: what is built is what was hashed.
 */
export async function scanContext(contextDir: string, rules: IgnoreRules, snapshot?: Snapshot): Promise<ContextScan> {
  const included = new Map<string, ContextEntry>();
  const ignoredDirs = new Map<string, ContextEntry>();
  const skipped: SkippedEntry[] = [];
  /** dev:ino of regular files with more than one link → their paths. */
  const inodes = new Map<string, string[]>();
  const times = new Map<string, Times>();
  const pause = pauser();
  const attempt = <T>(rel: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw unreadable(contextDir, rel, err);
    }
  };

  const pending: { dir: string; ignored: boolean }[] = [{ dir: '', ignored: false }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    await pause();
    const { dir } = next;
    let names: string[];
    try {
      names = readdirSync(path.join(contextDir, dir));
    } catch (err) {
      // An ignored directory walked only for `!` rules: Docker too passes over one it may not read.
      if (next.ignored && ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw unreadable(contextDir, dir || '.', err);
    }
    for (const name of names) {
      const rel = dir ? `${dir}/${name}` : name;
      const stats = attempt(rel, () => lstatSync(path.join(contextDir, rel)));
      const ignored = rules.ignores(rel);
      const type = entryType(stats);
      if (snapshot && type !== 'file') times.set(rel, [stats.atimeMs, stats.mtimeMs]);
      if (type === 'dir') {
        (ignored ? ignoredDirs : included).set(rel, { path: rel, type, mode: modeOf(stats) });
        if (!ignored || rules.hasExceptions) pending.push({ dir: rel, ignored });
      } else if (ignored) {
        continue;
      } else if (type === undefined) {
        skipped.push({ path: rel, reason: 'a socket: not sent (Docker skips sockets too)' });
      } else if (type === 'symlink') {
        included.set(rel, { path: rel, type, mode: '0777', target: attempt(rel, () => readlinkSync(path.join(contextDir, rel))) });
      } else {
        included.set(rel, { path: rel, type, mode: modeOf(stats) });
        if (type === 'file' && stats.nlink > 1) {
          const key = `${stats.dev}:${stats.ino}`;
          inodes.set(key, [...(inodes.get(key) ?? []), rel]);
        }
      }
    }
  }

  // A re-included path inside an ignored directory brings its directories along, as BuildKit sends them.
  for (const rel of [...included.keys()]) {
    for (let dir = path.posix.dirname(rel); dir !== '.'; dir = path.posix.dirname(dir)) {
      const parent = ignoredDirs.get(dir);
      if (parent) included.set(dir, parent);
    }
  }

  const entries = [...included.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // The first path (sorted) of each inode is the file; the others are links to it.
  for (const group of inodes.values()) {
    const linked = group.filter((rel) => included.has(rel)).sort();
    for (const rel of linked.slice(1)) (included.get(rel) as ContextEntry).hardlink = linked[0];
  }
  if (snapshot) refuseDevices(contextDir, entries);

  // getfattr runs while the files are hashed; a rejection waits for the await below.
  const xattrsRead = readXattrs(contextDir, entries.map((e) => e.path));
  xattrsRead.catch(() => undefined);
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const entry of entries) {
    await pause();
    if (entry.hardlink !== undefined) {
      const first = included.get(entry.hardlink) as ContextEntry;
      Object.assign(entry, { mode: first.mode, size: first.size, sha256: first.sha256 });
      snapshot?.hardlink(entry.path, first.path);
    } else if (entry.type === 'file') {
      try {
        await hashFile(contextDir, entry, buffer, pause, snapshot, times);
      } catch (err) {
        if (err instanceof SnapshotError) throw err;
        throw unreadable(contextDir, entry.path, err);
      }
    } else if (snapshot && entry.type === 'dir') {
      snapshot.directory(entry.path);
    } else if (snapshot && entry.type === 'symlink') {
      snapshot.symlink(entry.path, entry.target as string);
    } else if (snapshot && entry.type === 'fifo') {
      snapshot.fifo(entry.path);
    }
  }
  const xattrs = await xattrsRead;
  for (const entry of entries) {
    const own = xattrs.get(entry.hardlink ?? entry.path);
    if (own) entry.xattrs = own;
  }
  await snapshot?.finish(entries, times);
  skipped.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { entries, skipped };
}

/** A snapshot cannot hold a device (nor would a builder send one usefully): refused, before anything is written. */
function refuseDevices(contextDir: string, entries: readonly ContextEntry[]): void {
  const devices = entries.filter((e) => e.type === 'char' || e.type === 'block');
  if (devices.length === 0) return;
  throw new InputError(
    devices.map(
      (e) =>
        `${e.path} in the build context ${contextDir} is a ${e.type === 'char' ? 'character' : 'block'} device, which reuse cannot copy into its snapshot of the context: exclude it in .dockerignore, or turn reuse off with --no-reuse`,
    ),
  );
}

/** Resolves at once, or after letting the event loop run when the last slice took SLICE_MS. */
function pauser(): () => Promise<void> | undefined {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart < SLICE_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        sliceStart = performance.now();
        resolve();
      }),
    );
  };
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

async function hashFile(
  contextDir: string,
  entry: ContextEntry,
  buffer: Buffer,
  pause: () => Promise<void> | undefined,
  snapshot: Snapshot | undefined,
  times: Map<string, Times>,
): Promise<void> {
  // O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a fifo after the walk must not be followed or hang us.
  const fd = openSync(path.join(contextDir, entry.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let copy: number | undefined;
  try {
    if (snapshot) {
      const stats = fstatSync(fd);
      times.set(entry.path, [stats.atimeMs, stats.mtimeMs]);
      copy = snapshot.openFile(entry.path);
    }
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      if (size > 0) await pause();
      const bytesRead = readSync(fd, buffer, 0, buffer.length, null);
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      if (copy !== undefined) snapshot?.write(copy, chunk, entry.path);
      size += bytesRead;
      if (bytesRead < buffer.length) break;
    }
    entry.size = size;
    entry.sha256 = `sha256:${hash.digest('hex')}`;
  } finally {
    closeSync(fd);
    if (copy !== undefined) snapshot?.close(copy, entry.path);
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
