import { closeSync, constants, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, symlinkSync, writeSync, chmodSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { batches, runTool } from './tool.js';
import { writeXattrs, type Xattrs } from './xattr.js';

/** Where a scan wrote what it hashed: the builder reads these, never the working tree. All absolute. */
export interface SnapshotPaths {
  dir: string;
  /** The context as it was sent: only the entries the digest describes. */
  context: string;
  /** The Dockerfile's copy, with an empty `<name>.containerignore` and `<name>.dockerignore` beside it. */
  dockerfile: string;
}

/** Writing the snapshot failed: our own work, not the user's input. */
export class SnapshotError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

/** What finish needs of a context entry (a ContextEntry, without importing the walk that imports us). */
export interface SnapshotEntry {
  path: string;
  type: string;
  mode: string;
  hardlink?: string;
  xattrs?: Xattrs;
}

/** atime and mtime in milliseconds, as Stats gives them. */
export type Times = readonly [atimeMs: number, mtimeMs: number];

const NEW_FILE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

/**
 * A private copy of the context made by the walk that hashes it: file bytes from the very buffers hashed, then
 * (finish) extended attributes, modes and times of what was read, directories last and deepest first.
 */
export class Snapshot {
  readonly context: string;
  private readonly fifos: string[] = [];

  private constructor(readonly dir: string) {
    this.context = path.join(dir, 'context');
  }

  /** dir: an existing, empty, private (0700) directory the caller made and will remove. */
  static create(snapshotDir: string): Snapshot {
    const dir = path.resolve(snapshotDir);
    const stats = attempt(dir, 'check', () => lstatSync(dir));
    if (!stats.isDirectory()) throw new SnapshotError(`the snapshot directory ${dir} is not a directory`);
    if ((stats.mode & 0o077) !== 0) throw new SnapshotError(`the snapshot directory ${dir} must be private (mode 0700), not ${(stats.mode & 0o777).toString(8)}`);
    if (attempt(dir, 'list', () => readdirSync(dir)).length > 0) throw new SnapshotError(`the snapshot directory ${dir} must be empty`);
    const snapshot = new Snapshot(dir);
    attempt(snapshot.context, 'create', () => mkdirSync(snapshot.context, { mode: 0o700 }));
    return snapshot;
  }

  directory(rel: string): void {
    const to = this.at(rel);
    attempt(to, 'create', () => mkdirSync(to, { mode: 0o700 }));
  }

  /** A new regular file, write-only, for the bytes as they are hashed. */
  openFile(rel: string): number {
    const to = this.at(rel);
    return attempt(to, 'create', () => openSync(to, NEW_FILE, 0o600));
  }

  write(fd: number, bytes: Buffer, rel: string): void {
    for (let done = 0; done < bytes.length; ) done += attempt(this.at(rel), 'write', () => writeSync(fd, bytes, done, bytes.length - done));
  }

  close(fd: number, rel: string): void {
    attempt(this.at(rel), 'write', () => closeSync(fd));
  }

  symlink(rel: string, target: string): void {
    const to = this.at(rel);
    attempt(to, 'create', () => symlinkSync(target, to));
  }

  hardlink(rel: string, first: string): void {
    const to = this.at(rel);
    attempt(to, 'link', () => linkSync(this.at(first), to));
  }

  fifo(rel: string): void {
    this.fifos.push(rel);
  }

  /** Fifos, extended attributes, then modes and times (after content: read-only directories can be filled). */
  async finish(entries: readonly SnapshotEntry[], times: ReadonlyMap<string, Times>): Promise<void> {
    for (const batch of batches(this.fifos)) {
      const result = await runTool('mkfifo', ['-m', '0600', '--', ...batch], { cwd: this.context, timeoutMs: 60_000, maxBytes: 1024 * 1024 });
      if (result.exitCode !== 0) {
        throw new SnapshotError(`cannot create fifos in the snapshot of the build context ${this.context}: ${result.spawnError?.message ?? (result.stderr.trim() || 'mkfifo failed')}`);
      }
    }
    // Hard links share the first path's inode: its xattrs, mode and times are theirs.
    const own = entries.filter((e) => e.hardlink === undefined);
    await writeXattrs(this.context, own).catch((err: unknown) => {
      throw new SnapshotError((err as Error).message);
    });
    for (const e of own) {
      if (e.type === 'dir') continue;
      const to = this.at(e.path);
      const [atime, mtime] = times.get(e.path) ?? [Date.now(), Date.now()];
      if (e.type === 'symlink') {
        attempt(to, 'set the times of', () => lutimesSync(to, atime / 1000, mtime / 1000));
      } else {
        attempt(to, 'set the mode of', () => chmodSync(to, parseInt(e.mode, 8)));
        attempt(to, 'set the times of', () => utimesSync(to, atime / 1000, mtime / 1000));
      }
    }
    // Reverse path order puts every directory before its parent: a parent's mtime is set after its content changed.
    for (const e of [...own].reverse()) {
      if (e.type !== 'dir') continue;
      const to = this.at(e.path);
      const [atime, mtime] = times.get(e.path) ?? [Date.now(), Date.now()];
      attempt(to, 'set the mode of', () => chmodSync(to, parseInt(e.mode, 8)));
      attempt(to, 'set the times of', () => utimesSync(to, atime / 1000, mtime / 1000));
    }
    attempt(this.context, 'set the mode of', () => chmodSync(this.context, 0o755));
  }

  /**
   * The Dockerfile's bytes (those hashed) in a directory of its own, with empty ignore files beside it: builders read
   * `<Dockerfile>.containerignore` or `.dockerignore` there first, and the snapshot already holds only what is sent.
   */
  writeDockerfile(name: string, bytes: Buffer): string {
    const dir = path.join(this.dir, 'dockerfile');
    attempt(dir, 'create', () => mkdirSync(dir, { mode: 0o755 }));
    const file = path.join(dir, name);
    for (const [to, content] of [
      [file, bytes],
      [`${file}.containerignore`, Buffer.alloc(0)],
      [`${file}.dockerignore`, Buffer.alloc(0)],
    ] as const) {
      const fd = attempt(to, 'create', () => openSync(to, NEW_FILE, 0o644));
      try {
        for (let done = 0; done < content.length; ) done += attempt(to, 'write', () => writeSync(fd, content, done, content.length - done));
      } finally {
        closeSync(fd);
      }
    }
    return file;
  }

  paths(dockerfile: string): SnapshotPaths {
    return { dir: this.dir, context: this.context, dockerfile };
  }

  private at(rel: string): string {
    return path.join(this.context, rel);
  }
}

function attempt<T>(target: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new SnapshotError(`cannot ${what} ${target} in the snapshot of the build context: ${code}`, { cause: err });
  }
}
