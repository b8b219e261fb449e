import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Logger } from '../../src/output/logger.js';
import type { RunContext } from '../../src/support/context.js';

// One root per test file (modules are isolated per file), so one file's cleanup never removes another's dirs.
const tempRoot = path.join(os.tmpdir(), `image-builder-test-${process.pid}-${randomBytes(3).toString('hex')}`);

/** A fresh temp dir under one root per test process; removeTempDirs() deletes them all (call it in afterAll). */
export function tempDir(prefix: string): string {
  mkdirSync(tempRoot, { recursive: true });
  return mkdtempSync(path.join(tempRoot, `${prefix}-`));
}

export function removeTempDirs(): void {
  rmSync(tempRoot, { recursive: true, force: true });
}

/** The executable's path on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * True when the tool is installed. Missing: in CI (CI=true) this throws, so the tests fail instead of skipping;
 * elsewhere it warns loudly and returns false so the caller can skip.
 */
export function requireTool(name: string, install: string): boolean {
  if (findExecutable(name)) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not installed (${install}); CI=true, so its tests fail instead of skipping`);
  console.warn(`\n!!! ${name} is not installed (${install}): its real end-to-end tests are SKIPPED !!!\n`);
  return false;
}

export interface FakeBuilderCall {
  argv: string[];
  pid: number;
  /** When the stand-in started (date +%s%N). */
  startedNs: bigint;
  /** The grandchild started with FAKE_BUILDER_HELPER=1. */
  helperPid?: number;
}

export interface FakeBuilder {
  /** An executable to put in KANIKO_EXECUTOR, BUILDCTL or BUILDAH. */
  path: string;
  recordDir: string;
  /** Every call so far, oldest first. */
  calls(): FakeBuilderCall[];
}

/** test/support/fake-builder.sh behind a wrapper in a temp dir, so it runs whether or not the checkout kept its exec bit. */
export function installFakeBuilder(): FakeBuilder {
  const dir = tempDir('fake-builder');
  const script = fileURLToPath(new URL('./fake-builder.sh', import.meta.url));
  const wrapper = path.join(dir, 'fake-builder');
  writeFileSync(wrapper, `#!/bin/sh\nexec /bin/sh '${script}' "$@"\n`, { mode: 0o755 });
  const recordDir = path.join(dir, 'calls');
  return {
    path: wrapper,
    recordDir,
    calls() {
      let files: string[] = [];
      try {
        files = readdirSync(recordDir).filter((file) => file.endsWith('.args'));
      } catch {
        return [];
      }
      // Names are <nanoseconds>-<pid>-<helper pid>.args; the file holds argv, each argument NUL-terminated.
      return files
        .map((file) => file.slice(0, -'.args'.length).split('-').map(BigInt))
        .sort(([a = 0n], [b = 0n]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([time = 0n, pid = 0n, helper = 0n]) => {
          const argv = readFileSync(path.join(recordDir, `${time}-${pid}-${helper}.args`), 'utf8').split('\0').slice(0, -1);
          return { argv, pid: Number(pid), startedNs: time, ...(helper === 0n ? {} : { helperPid: Number(helper) }) };
        });
    },
  };
}

/** True while the process exists and is not a zombie (an orphan's zombie may wait for a slow init to reap it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export interface CapturedIO {
  io: RunContext;
  /** Everything written to io.stderr so far. */
  stderr(): string;
  /** The waits before retries asked of io.sleep so far, in ms; none was waited. */
  waits(): number[];
  abort(): void;
}

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

/**
 * A whole RunContext from the parts a test gives; the rest is inert: an empty env, a logger and streams that write
 * nowhere, a signal that never aborts, the real clock and real retry waits.
 */
export function testContext(parts: Partial<RunContext> = {}): RunContext {
  return { env: {}, log: new Logger(discard(), false), signal: new AbortController().signal, now: () => new Date(), version: 'test', stdout: discard(), stderr: discard(), ...parts };
}

/**
 * A RunContext whose stderr is captured and whose retries do not wait; env is the builder's whole environment
 * (process.env plus overrides).
 */
export function captureIO(overrides: Record<string, string> = {}): CapturedIO {
  const chunks: string[] = [];
  const waits: number[] = [];
  const stderr = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const controller = new AbortController();
  return {
    io: testContext({
      env: { ...process.env, ...overrides },
      log: new Logger(stderr, false),
      signal: controller.signal,
      stderr,
      sleep: async (ms) => void waits.push(ms),
    }),
    stderr: () => chunks.join(''),
    waits: () => [...waits],
    abort: () => controller.abort(),
  };
}
