/**
 * Builders run in process groups of their own (so that a stop reaches what they started); nothing would stop them
 * if this process died uncleanly (SIGKILL, OOM killer). A watchdog does: a tiny node process in a group of its own
 * that holds a pipe from us and, when the pipe closes (which the kernel does when we die, however we die), stops
 * every builder group still registered on it. It costs one process per run, started with the first builder.
 */
import type { ChildProcess } from 'node:child_process';

/** How long the watchdog gives the groups between SIGTERM and SIGKILL. */
export const WATCHDOG_GRACE_MS = 2000;

// Lines on stdin: "<pgid>" registers a group, "-<pgid>" forgets it. SIGINT/SIGTERM/SIGHUP sent to our group or a
// terminal's must not end the watch: only the end of the pipe does.
const SCRIPT = `
const groups = new Set();
let rest = '';
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.stdin.setEncoding('latin1');
process.stdin.on('data', (text) => {
  const lines = (rest + text).split('\\n');
  rest = lines.pop();
  for (const line of lines) if (line[0] === '-') groups.delete(line.slice(1)); else if (line) groups.add(line);
});
const send = (sig) => {
  for (const g of groups) {
    try { process.kill(-Number(g), sig); } catch { groups.delete(g); }
  }
};
const stop = () => {
  send('SIGTERM');
  const deadline = Date.now() + ${WATCHDOG_GRACE_MS};
  const check = () => {
    send(0);
    if (groups.size === 0 || Date.now() >= deadline) {
      send('SIGKILL');
      process.exit(0);
    }
    setTimeout(check, 50);
  };
  check();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
`;

let watchdog: ChildProcess | undefined;

function start(): ChildProcess | undefined {
  const { spawn } = process.getBuiltinModule('node:child_process');
  try {
    // No environment: NODE_OPTIONS meant for the user's tools must not reach it. cwd /: it must not hold a mount busy.
    const child = spawn(process.execPath, ['--max-old-space-size=16', '-e', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: {}, cwd: '/' });
    // If it cannot run, builders still do; only the SIGKILL guarantee is lost.
    child.on('error', () => (watchdog = undefined));
    child.stdin?.on('error', () => undefined);
    // It must never keep this process alive: it ends by itself when our end of the pipe closes at exit.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return undefined;
  }
}

/** Starts the watchdog if it is not running: call it before spawning, so that registering is one write. */
export function startWatchdog(): void {
  watchdog ??= start();
}

/** Puts a builder's process group under the watchdog until forgetGroup. */
export function watchGroup(pgid: number): void {
  watchdog?.stdin?.write(`${pgid}\n`);
}

export function forgetGroup(pgid: number): void {
  watchdog?.stdin?.write(`-${pgid}\n`);
}
