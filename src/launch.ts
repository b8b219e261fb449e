import { main } from './main.js';

declare const __VERSION__: string;

/** After the first SIGINT/SIGTERM the process is gone within this, whatever phase hangs: CI grace periods are short. */
export const STOP_DEADLINE_MS = 4500;
/** How long a stopped run may take to hand its last lines to a slow stderr reader before it exits anyway. */
const STOPPED_FLUSH_MS = 1000;

/** The process edge: signals, real streams and exit code around one run of main(). */
export function launch(argv: readonly string[]): void {
  const controller = new AbortController();
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(sig === 'SIGINT' ? 130 : 143);
      stopping = true;
      process.stderr.write(`\n${sig} received: stopping the running builders\n`);
      process.exitCode = sig === 'SIGINT' ? 130 : 143;
      controller.abort(new Error(`stopped by ${sig}`));
      // The backstop behind every phase's own abort handling; unref'd, so a run that ends sooner is not held.
      setTimeout(() => {
        process.stderr.write(`image-builder: not stopped ${STOP_DEADLINE_MS / 1000} s after ${sig}; exiting now\n`);
        process.exit();
      }, STOP_DEADLINE_MS).unref();
    });
  }

  main({
    argv,
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    version: typeof __VERSION__ === 'string' ? __VERSION__ : 'dev',
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = stopping ? (process.exitCode ?? 1) : code;
      // A stopped run does not wait long for a stderr pipe nobody reads (a finished one does: its lines matter).
      if (stopping) setTimeout(() => process.exit(), STOPPED_FLUSH_MS).unref();
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
