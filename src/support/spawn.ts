/** Short helper programs whose answer we read (credential helpers): argv only, bounded in time and output. */

export interface Captured {
  stdout: string;
  stderr: string;
  /** Undefined when it did not start, timed out or died of a signal. */
  exitCode?: number;
  signal?: string;
  /** Set when the program could not be started at all (ENOENT: not on PATH). */
  spawnError?: NodeJS.ErrnoException;
  timedOut: boolean;
}

export interface CaptureOptions {
  input?: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output beyond this many bytes per stream is dropped: a helper answers in a few hundred. */
  maxBytes?: number;
}

export function runCaptured(program: string, args: string[], options: CaptureOptions): Promise<Captured> {
  // Loaded on use: child_process pulls in net and dgram, which most runs never need.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      const room = maxBytes - into.reduce((n, b) => n + b.length, 0);
      if (room > 0) into.push(chunk.subarray(0, room));
    };
    let timedOut = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    const child = spawn(program, args, { env: options.env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    // A program that exits without reading its input closes the pipe (EPIPE): its exit status still decides.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(code === null || spawnError ? {} : { exitCode: code }),
        ...(signal ? { signal } : {}),
        ...(spawnError ? { spawnError } : {}),
        timedOut,
      });
    });
  });
}
