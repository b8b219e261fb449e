/** Files we write in the log folder: opened without ever following a link planted there. */
import { constants, type WriteStream } from 'node:fs';
import { lstat, open, readlink, unlink } from 'node:fs/promises';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

export interface LogFile {
  stream: WriteStream;
  /** Set when something other than a plain file of its own stood at the path and was replaced: for a warning. */
  replaced?: string;
}

/**
 * Opens `file` for writing from its start. A symbolic link (pointing anywhere, or nowhere), a FIFO, a device or a
 * file with other hard links is never written through: it is removed and a new file is created in its place
 * (O_EXCL | O_NOFOLLOW, so that a link planted in between makes the open fail instead of being followed).
 */
export async function openLogFile(file: string): Promise<LogFile> {
  const why = await openPlain(file);
  if (typeof why !== 'string') return { stream: why.createWriteStream() };
  await unlink(file);
  const handle = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  return { stream: handle.createWriteStream(), replaced: `${file} ${why}: not followed; a new log file replaces it` };
}

/** The file opened and emptied, or why what stands at the path must be replaced. Judged on the open file itself. */
async function openPlain(file: string) {
  let handle;
  try {
    // No O_TRUNC before fstat has judged it; O_NONBLOCK: a FIFO must not wait for a reader (no effect on plain files).
    handle = await open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP is also a link loop in a folder above: only a link at the path itself is ours to replace.
    if (code === 'ELOOP' && (await lstat(file)).isSymbolicLink()) {
      const target = await readlink(file).catch(() => undefined);
      return `is a symbolic link${target === undefined ? '' : ` (to ${target})`}`;
    }
    if (code === 'ENXIO') return 'is a FIFO';
    throw err;
  }
  const stat = await handle.stat();
  if (stat.isFile() && stat.nlink === 1) {
    await handle.truncate(0).catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    return handle;
  }
  await handle.close();
  return stat.isFile() ? `has ${stat.nlink - 1} other hard link(s)` : 'is not a regular file';
}
