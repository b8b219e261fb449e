/** The one module that spawns builders: argv arrays (never a shell), output to the log file and stderr, stoppable. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BuildUnit } from '../plan-types.js';
import type { BuildIO, BuildResult } from './backend.js';

/** How long a builder gets between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 3000;
export const STOPPED = 'stopped by signal';

/** One unit's log: every builder line goes to its file and, unless silent, to stderr. */
export interface BuildLog {
  line(text: string): void;
  close(): Promise<void>;
}

export interface ProcessOutcome {
  /** The builder's exit code; undefined when it did not start or was killed. */
  exitCode?: number;
  stopped: boolean;
  /** Why it did not exit 0, for people; undefined on success. */
  error?: string;
}

/** A file beside the unit's log file (build_x.log → build_x<suffix>): deterministic, so --dry-run shows the real argv. */
export function besideLog(unit: BuildUnit, suffix: string): string {
  const base = unit.logFile.endsWith('.log') ? unit.logFile.slice(0, -'.log'.length) : unit.logFile;
  return `${base}${suffix}`;
}

export async function openLog(unit: BuildUnit, io: BuildIO): Promise<BuildLog> {
  await mkdir(path.dirname(unit.logFile), { recursive: true });
  const file: WriteStream = createWriteStream(unit.logFile, { flags: 'w' });
  await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
  // A later write error (disk full) must not crash the run: say it once, keep streaming to stderr.
  let failed = false;
  file.on('error', (err) => {
    if (!failed) io.stderr.write(`image-builder: cannot write ${unit.logFile}: ${err.message}\n`);
    failed = true;
  });
  const prefix = unit.variant === undefined ? '' : `[${unit.variant}] `;
  return {
    line(text) {
      file.write(`${text}\n`);
      if (!io.silent) io.stderr.write(`${prefix}${text}\n`);
    },
    close: () => new Promise<void>((resolve) => file.end(() => resolve())),
  };
}

/** Loaded on first use: evaluating execa costs ~30 ms of start-up that --parse-tags-only and --dry-run need not pay. */
const loadExeca = () => import('execa');

/** Process groups still running, killed if this process exits first (builders run detached, in their own group). */
const running = new Set<number>();
let exitHookInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM the builder's whole group; SIGKILL the group once the builder has exited (what it left behind is orphaned)
 * or after KILL_AFTER_MS if it ignores SIGTERM. Waiting on the builder, not the group: orphans' zombies linger.
 */
async function stopGroup(pid: number, exited: Promise<unknown>): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const timer = new AbortController();
  await Promise.race([exited, sleep(KILL_AFTER_MS, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
  signalGroup(pid, 'SIGKILL');
}

async function pipeLines(stream: Readable | null, log: BuildLog): Promise<void> {
  if (!stream) return;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) log.line(line);
}

/**
 * Runs argv with io.env as its whole environment, streaming stdout and stderr line by line into the log.
 * Never throws for the builder's failure: the outcome says what happened. missingHint tells people how to install it.
 */
export async function runBuilder(argv: string[], log: BuildLog, io: BuildIO, missingHint?: string): Promise<ProcessOutcome> {
  const [file = '', ...args] = argv;
  if (io.signal.aborted) return { stopped: true, error: STOPPED };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => running.forEach((pid) => signalGroup(pid, 'SIGKILL')));
  }
  const { execa } = await loadExeca();
  const child = execa(file, args, {
    env: io.env as Record<string, string | undefined>,
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    detached: true,
  });
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  const onAbort = (): void => {
    if (pid !== undefined) stopping ??= stopGroup(pid, child);
  };
  if (pid !== undefined) running.add(pid);
  io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const outcome = await waitFor();
    if (outcome.error) log.line(`image-builder: ${outcome.error}`);
    return outcome;
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    if (pid !== undefined) running.delete(pid);
  }

  async function waitFor(): Promise<ProcessOutcome> {
    await Promise.all([pipeLines(child.stdout, log), pipeLines(child.stderr, log)]);
    const result = await child;
    if (stopping) await stopping;
    // A builder that finished before the signal reached it did its work: report that, not the stop.
    if (stopping && result.exitCode !== 0) return { stopped: true, error: STOPPED };
    if (result.code === 'ENOENT') {
      return { stopped: false, error: `${file}: executable not found${missingHint ? ` (${missingHint})` : ''}` };
    }
    if (result.code === 'EACCES') return { stopped: false, error: `${file}: not executable (chmod +x it)` };
    if (result.exitCode === undefined) {
      const how = result.signal ? `was killed by ${result.signal}` : `could not start: ${result.originalMessage}`;
      return { stopped: false, error: `${path.basename(file)} ${how}` };
    }
    const error = result.exitCode === 0 ? undefined : `${path.basename(file)} exited with code ${result.exitCode}`;
    return { exitCode: result.exitCode, stopped: false, ...(error ? { error } : {}) };
  }
}

/**
 * Builds with a builder that pushes every destination itself (kaniko, buildctl), then reads the digest it wrote:
 * readDigest gets the file's text. A stale digest file from an earlier run is removed first.
 */
export async function runPushingBuilder(
  unit: BuildUnit,
  io: BuildIO,
  run: { argv: string[]; digestFile: string; readDigest: (text: string) => string | undefined; missingHint?: string },
): Promise<BuildResult> {
  const log = await openLog(unit, io);
  try {
    await rm(run.digestFile, { force: true });
    const outcome = await runBuilder(run.argv, log, io, run.missingHint);
    if (outcome.error) return { ...unitResult(unit), ok: false, error: outcome.error };
    const digest = await readFile(run.digestFile, 'utf8').then(run.readDigest, () => undefined);
    return { ...unitResult(unit), ok: true, pushed: unit.destinations.map((reference) => ({ reference, ...(digest ? { digest } : {}) })) };
  } finally {
    await log.close();
  }
}

/** The fields every result of this unit shares; pushed starts empty. */
export function unitResult(unit: BuildUnit): BuildResult {
  return { ...(unit.variant === undefined ? {} : { variant: unit.variant }), ok: false, pushed: [], logFile: unit.logFile };
}

/** Runs a short query (e.g. `buildah images --json`) and returns its stdout, or undefined (logged) when it fails. */
export async function captureBuilder(argv: string[], log: BuildLog, io: BuildIO): Promise<string | undefined> {
  const [file = '', ...args] = argv;
  const { execa } = await loadExeca();
  const result = await execa(file, args, {
    env: io.env as Record<string, string | undefined>,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    cancelSignal: io.signal,
    forceKillAfterDelay: KILL_AFTER_MS,
  });
  if (result.exitCode === 0) return result.stdout;
  for (const line of `${result.stderr}`.split('\n').filter(Boolean)) log.line(line);
  log.line(`image-builder: ${path.basename(file)} ${args.slice(-2).join(' ')} failed (${result.exitCode ?? result.signal ?? result.code})`);
  return undefined;
}
