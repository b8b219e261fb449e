import { spawn } from 'node:child_process';

/**
 * The helper programs the context walk runs (getfattr, setfattr, mkfifo): argv only, in a given directory, bounded
 * in time and output. Unlike support/spawn.ts it keeps stdout as bytes and says when output was cut rather than
 * silently dropping it: a truncated list of extended attributes must never pass for a complete one.
 */
export interface ToolResult {
  stdout: Buffer;
  stderr: string;
  /** Undefined when it did not start, timed out, overflowed or died of a signal. */
  exitCode?: number;
  /** ENOENT: not installed. */
  spawnError?: NodeJS.ErrnoException;
  timedOut: boolean;
  /** stdout or stderr went past maxBytes: the program was killed. */
  overflowed: boolean;
}

export interface ToolOptions {
  cwd: string;
  input?: Buffer | string;
  timeoutMs: number;
  maxBytes: number;
}

export function runTool(program: string, args: readonly string[], options: ToolOptions): Promise<ToolResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let overflowed = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    // LC_ALL=C: messages (Operation not supported…) as we match them; PATH only, nothing else from our environment.
    const child = spawn(program, args, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const kill = (): void => void child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const overflow = (): void => {
      overflowed = true;
      kill();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > options.maxBytes) overflow();
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes > options.maxBytes) overflow();
      else err.push(chunk);
    });
    child.stdin.on('error', () => undefined); // exited without reading: its status decides
    child.stdin.end(options.input ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const failed = code === null || spawnError !== undefined || timedOut || overflowed;
      resolve({
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(failed ? {} : { exitCode: code }),
        ...(spawnError ? { spawnError } : {}),
        timedOut,
        overflowed,
      });
    });
  });
}

/** Splits paths into argv batches well under ARG_MAX (and MAX_ARG_STRLEN for any one path). */
export function batches(paths: readonly string[], maxBytes = 96 * 1024, maxCount = 4096): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const p of paths) {
    const size = Buffer.byteLength(p) + 1 + 8; // the string, its NUL, its argv pointer
    if (batch.length > 0 && (bytes + size > maxBytes || batch.length >= maxCount)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
