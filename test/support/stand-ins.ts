import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BIN } from './cli.js';
import { tempDir } from './tools.js';

/** test/support/loud-builder.sh behind a wrapper, as installFakeBuilder does for fake-builder.sh. */
export function installLoudBuilder(): string {
  const script = fileURLToPath(new URL('./loud-builder.sh', import.meta.url));
  const wrapper = path.join(tempDir('loud-builder'), 'loud-builder');
  writeFileSync(wrapper, `#!/bin/sh\nexec /bin/sh '${script}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** Polls `condition` every 20 ms for at most `ms`; true once it held, false at the bound. */
export async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (condition()) return true;
  }
  return condition();
}

export interface RunningCli {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** The CLI's stderr so far (while it is read). */
  stderr(): string;
  /** Resolves at the process's exit, with the time it took from `since` (or null after `ms`: it did not exit). */
  exited(since: number, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number } | null>;
}

/** The real CLI in the background, stderr read unless readStderr is false (a CI runner that stopped reading). */
export function startCli(args: string[], env: Record<string, string>, options: { readStderr?: boolean } = {}): RunningCli {
  const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  if (options.readStderr !== false) child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    stderr: () => stderr,
    async exited(since, ms) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
      const result = await Promise.race([exit, late]);
      clearTimeout(timer);
      if (result === null) {
        child.kill('SIGKILL');
        return null;
      }
      return { code: result.code, signal: result.signal, afterMs: result.at - since };
    },
  };
}
