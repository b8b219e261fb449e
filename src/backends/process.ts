/** The one module that spawns builders: argv arrays (never a shell), output to the log file and stderr, stoppable. */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BuildUnit } from '../plan-types.js';
import type { BuildResult } from './backend.js';
import type { RunContext } from '../support/context.js';
import type { BuildLog } from './log.js';
import { forgetGroup, KEEPER_FINISH_MS, keeperReport, launch, startTime, startWatchdog, watchGroup } from './watchdog.js';

export { openLog, type BuildLog } from './log.js';

/** How long a builder gets between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 3000;
export const STOPPED = 'stopped by signal';
/** A query's answer (`buildah images --json`) beyond this is refused: memory stays bounded whatever a tool prints. */
const MAX_CAPTURE = 32 * 1024 * 1024;

export interface ProcessOutcome {
  /** The builder's exit code; undefined when it did not start or was killed. */
  exitCode?: number;
  stopped: boolean;
  /** Why it did not exit 0, for people; undefined on success. */
  error?: string;
}

/** Builders still running, by pid (their group), stopped if this process exits first (they run detached, in their own group). */
const running = new Map<number, { child: ChildProcess; kept: boolean }>();
let exitHookInstalled = false;
/** The debug line that builders run without a keeper, or with one that is no subreaper: once per run. */
let degradedSaid = false;

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: NodeJS.ErrnoException;
}

/**
 * A builder started detached (its own process group, which a stop signals as a whole), under a keeper (which ends
 * what the builder leaves behind, in any session) and under the watchdog, so that neither it nor what it starts
 * outlives this process. `done` settles once it exited, its group was cleared and its output was read to the end.
 */
function startBuilder(argv: string[], io: RunContext, log: BuildLog, stdout: 'log' | 'capture') {
  const [file = '', ...args] = argv;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => running.forEach(({ child, kept }, pid) => (kept ? child.kill('SIGUSR1') : signalGroup(pid, 'SIGKILL'))));
  }
  // Loaded on use: child_process pulls in net and dgram, which --parse-tags-only and --dry-run never need.
  const { spawn } = process.getBuiltinModule('node:child_process');
  // Before the builder: the gap between its start and its registration is then one synchronous write.
  startWatchdog();
  const how = launch(file, args, io.env);
  if (!how.keeper) saySubreaperless(io, how.why);
  // The keeper runs with no environment (the builder's comes on its stdin) and tells how the builder's exec went on fd 3.
  const child: ChildProcess = how.keeper
    ? spawn(how.file, how.args, { env: {}, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true })
    : spawn(file, args, { env: io.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  // Read now, before anything reaps the keeper: the watchdog must never signal a process that took its pid.
  const keeperStart = how.keeper && pid !== undefined ? startTime(pid) : undefined;
  const kept = keeperStart !== undefined;
  if (pid !== undefined) {
    running.set(pid, { child, kept });
    watchGroup(pid, keeperStart);
  }
  const report = how.keeper ? readAll(child.stdio[3] as NodeJS.ReadableStream | null) : Promise.resolve('');
  if (how.keeper) child.stdin?.on('error', () => undefined).end(how.input);
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (spawnError: NodeJS.ErrnoException) => resolve({ code: null, signal: null, spawnError }));
    child.once('exit', (code, signal) => {
      // The keeper's channel ends by its exit: what it said is complete.
      void report.then((text) => {
        const { degraded, execError } = keeperReport(text);
        if (degraded !== undefined) saySubreaperless(io, `the keeper is no subreaper: ${degraded}`);
        resolve(execError === undefined ? { code, signal } : { code: null, signal: null, spawnError: execFailure(file, execError) });
      });
    });
  });
  let stopping: Promise<void> | undefined;
  const onAbort = (): void => {
    if (pid !== undefined) stopping ??= stopGroup(pid, exited, kept ? child : undefined);
  };
  io.signal.addEventListener('abort', onAbort, { once: true });
  const captured = stdout === 'capture' && child.stdout ? capture(child.stdout) : undefined;
  const output = Promise.all([captured ? captured.done : log.pipe(child.stdout!), log.pipe(child.stderr!)]);

  const done = (async () => {
    try {
      const exit = await exited;
      // What the builder left behind in its group is orphaned now (and would hold our pipes open): end it.
      if (pid !== undefined && !stopping) signalGroup(pid, 'SIGKILL');
      await output;
      if (stopping) await stopping;
      // A signal is delivered, not done, when kill() returns: the builder is over when its group is.
      if (pid !== undefined) await groupGone(pid, KILL_AFTER_MS);
      return { exit, stopped: stopping !== undefined, stdout: captured?.text() };
    } finally {
      io.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        running.delete(pid);
        forgetGroup(pid);
      }
    }
  })();
  return { file, done };
}

/**
 * SIGTERM the builder's whole group; SIGKILL the group once the builder has exited (what it left behind is orphaned)
 * or after KILL_AFTER_MS if it ignores SIGTERM. Waiting on the builder, not the group: orphans' zombies linger.
 * Under a keeper, the SIGKILL is the keeper's (SIGUSR1): it reaches what left the group too; SIGKILLing the group
 * would end the keeper first.
 */
async function stopGroup(pid: number, exited: Promise<unknown>, keeper?: ChildProcess): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  await within(exited, KILL_AFTER_MS);
  // kill() through the handle: false once the keeper was reaped (its pid may be another process's by now).
  if (keeper?.kill('SIGUSR1')) await within(exited, KEEPER_FINISH_MS);
  signalGroup(pid, 'SIGKILL');
}

async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([promise, sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
}

function saySubreaperless(io: RunContext, why: string): void {
  if (degradedSaid) return;
  degradedSaid = true;
  io.log.debug(`builders run without a subreaper (${why}): a process one moves to a session of its own may outlive a killed run`);
}

/** The error spawn() gives for that errno, as if the builder had been spawned directly. */
function execFailure(file: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${file} ${code}`), { code, syscall: `spawn ${file}`, path: file });
}

async function readAll(stream: NodeJS.ReadableStream | null): Promise<string> {
  let text = '';
  try {
    for await (const chunk of stream ?? []) text += String(chunk);
  } catch {
    // A broken channel says nothing more.
  }
  return text;
}

/** Waits (at most ms) until no process of the group is alive; zombies, which an orphan's reaper may leave, count as gone. */
async function groupGone(pgid: number, ms: number): Promise<void> {
  for (const end = Date.now() + ms; signalGroup(pgid, 0) && (await liveMember(pgid)) && Date.now() < end; ) await sleep(10);
}

async function liveMember(pgid: number): Promise<boolean> {
  const pids = await readdir('/proc').catch(() => undefined);
  if (pids === undefined) return false; // no /proc: kill(-pgid, 0) was the best answer
  for (const pid of pids.filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
    // Fields after the command name (which may hold spaces and parentheses): state ppid pgrp …
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** Keeps a query's stdout, up to MAX_CAPTURE; past that it is read and dropped, and the answer refused. */
function capture(stream: NodeJS.ReadableStream) {
  const chunks: Buffer[] = [];
  let length = 0;
  const done = (async () => {
    for await (const chunk of stream) {
      length += chunk.length;
      if (length <= MAX_CAPTURE) chunks.push(chunk as Buffer);
    }
  })().catch(() => undefined);
  return { done, text: () => (length <= MAX_CAPTURE ? Buffer.concat(chunks).toString('utf8') : undefined) };
}

/** What people read when a builder did not exit 0; undefined when it did. */
function failure(file: string, exit: Exit, missingHint?: string): string | undefined {
  const code = exit.spawnError?.code;
  if (code === 'ENOENT') return `${file}: executable not found${missingHint ? ` (${missingHint})` : ''}`;
  if (code === 'EACCES') return `${file}: not executable (chmod +x it)`;
  if (exit.spawnError) return `${path.basename(file)} could not start: ${exit.spawnError.message}`;
  if (exit.code === null) return `${path.basename(file)} was killed by ${exit.signal ?? 'a signal'}`;
  return exit.code === 0 ? undefined : `${path.basename(file)} exited with code ${exit.code}`;
}

/**
 * Runs argv with io.env as its whole environment, streaming stdout and stderr line by line into the log.
 * Never throws for the builder's failure: the outcome says what happened. missingHint tells people how to install it.
 */
export async function runBuilder(argv: string[], log: BuildLog, io: RunContext, missingHint?: string): Promise<ProcessOutcome> {
  if (io.signal.aborted) return { stopped: true, error: STOPPED };
  const { file, done } = startBuilder(argv, io, log, 'log');
  const { exit, stopped } = await done;
  // A builder that finished before the signal reached it did its work: report that, not the stop.
  const outcome: ProcessOutcome =
    stopped && exit.code !== 0
      ? { stopped: true, error: STOPPED }
      : { ...(exit.code === null ? {} : { exitCode: exit.code }), stopped: false, ...withError(failure(file, exit, missingHint)) };
  if (outcome.error) log.line(`image-builder: ${outcome.error}`);
  return outcome;
}

const withError = (error: string | undefined) => (error === undefined ? {} : { error });

/** The fields every result of this unit shares; pushed starts empty. */
export function unitResult(unit: BuildUnit): BuildResult {
  return { ...(unit.variant === undefined ? {} : { variant: unit.variant }), ok: false, pushed: [], logFile: unit.logFile };
}

/** Runs a short query (e.g. `buildah images --json`) and returns its stdout, or undefined (logged) when it fails. */
export async function captureBuilder(argv: string[], log: BuildLog, io: RunContext): Promise<string | undefined> {
  if (io.signal.aborted) return undefined;
  const { file, done } = startBuilder(argv, io, log, 'capture');
  const { exit, stopped, stdout } = await done;
  if (exit.code === 0 && !stopped && stdout !== undefined) return stdout;
  const why = stopped ? STOPPED : exit.code === 0 ? `answer longer than ${MAX_CAPTURE} bytes` : (exit.code ?? exit.signal ?? exit.spawnError?.code);
  log.line(`image-builder: ${path.basename(file)} ${argv.slice(-2).join(' ')} failed (${why})`);
  return undefined;
}
