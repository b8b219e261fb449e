import { main } from './main.js';

declare const __VERSION__: string;

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
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
