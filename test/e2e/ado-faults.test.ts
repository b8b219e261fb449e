import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { adoLog, startFakeAdo, type FakeAdo, type FakeAdoScenario } from '../support/fake-ado.js';
import { startFaultProxy, type FaultProxy, type FaultRule, type ProxiedRequest } from '../support/fault-proxy.js';
import { baseEnv, BIN, removeTempDirs, ROOT, tempDir } from '../support/cli.js';

/** The ado backend on a flaky network: the real CLI and client library, the fake ADO behind a fault-injecting proxy. */

afterAll(removeTempDirs);

const SHA = 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f';
const PAT = 'pat-7q3k9x2m4n6b8v1c5z0l';
const IMAGE = 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240501-d9e0b24a';
const LOG = adoLog(['Step 1/3 : FROM scratch', `[command]/usr/bin/python3 scripts/sign.py --images-to-sign=${IMAGE}`]);
// Stopping must fit a CI grace period: SPEC's promise is 5 s from the signal to the process being gone.
const STOP_WITHIN_MS = 5_000;

let fake: FakeAdo | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await fake?.close();
  proxy = undefined;
  fake = undefined;
});

interface Setup {
  fake: FakeAdo;
  proxy: FaultProxy;
  dir: string;
  config: string;
}

async function setup(scenario: Partial<FakeAdoScenario> = {}, ado: { attempts?: number; delay?: string; timeout?: string; refresh?: string } = {}): Promise<Setup> {
  fake = await startFakeAdo({ pats: [PAT], log: LOG, ...scenario });
  proxy = await startFaultProxy(fake.url);
  const dir = tempDir('ib-ado-faults-');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'ado-config:',
      `  ado-organization-url: ${proxy.url}/org`,
      '  ado-project-name: my project',
      '  ado-pipeline-id: 14902',
      `  ado-retry-strategy: {attempts: ${ado.attempts ?? 3}, delay: ${ado.delay ?? '10ms'}}`,
      `  ado-refresh-interval: ${ado.refresh ?? '10ms'}`,
      `  ado-timeout: ${ado.timeout ?? '30s'}`,
      '',
    ].join('\n'),
  );
  return { fake, proxy, dir, config };
}

const env = (): Record<string, string> =>
  baseEnv({ CI: 'true', PROW_JOB_ID: 'job', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: SHA, ADO_PAT: PAT });

const args = (s: Setup): string[] => [
  '--build-in-ado', `--config=${s.config}`, '--name=test-infra/app', '--context=images/app', '--dockerfile=Dockerfile', '--tag', 'latest',
  `--log-dir=${join(s.dir, 'logs')}`,
];

interface Run {
  pid: number;
  stderr: () => string;
  /** Settles when the process is gone; `at` is when. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** The real CLI; SIGKILLed after timeoutMs so that no test waits forever. */
function start(s: Setup, timeoutMs = 30_000): Run {
  const child = spawn(BIN, args(s), { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, at: Date.now() });
    });
  });
  return { pid: child.pid!, stderr: () => stderr, exited };
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Whether the process ended within ms: the bounded wait the stop tests measure with. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends the signal; the CLI must be gone within STOP_WITHIN_MS of it. */
async function stopWithin(cli: Run, signal: NodeJS.Signals) {
  const signalled = Date.now();
  process.kill(cli.pid, signal);
  const r = await within(cli.exited, STOP_WITHIN_MS);
  expect(r).not.toBe('still running');
  if (r === 'still running') throw new Error(`still running ${STOP_WITHIN_MS} ms after ${signal}`);
  expect(r.at - signalled).toBeLessThan(STOP_WITHIN_MS);
  return r;
}

const isStart = (r: ProxiedRequest): boolean => r.method === 'POST' && /\/_apis\/pipelines\/14902\/runs\b/.test(r.url);
const isPoll = (r: ProxiedRequest): boolean => r.method === 'GET' && /\/_apis\/pipelines\/14902\/runs\/\d+/.test(r.url);
const starts = (f: FakeAdo) => f.requests.filter(isStart);
const cancels = (f: FakeAdo) => f.requests.filter((r) => r.method === 'PATCH' && /\/_apis\/build\/builds\/\d+/.test(r.url));

describe('starting a run is never repeated blindly', () => {
  it.each([1, 3])('the answer to the start is lost after the fake started the run (attempts: %i): the one run is adopted and followed to success', async (attempts) => {
    const s = await setup({ inProgressPolls: 2 }, { attempts });
    s.proxy.rules.push({ match: isStart, fault: 'lose' });
    const cli = start(s);
    const r = await cli.exited;
    expect(cli.stderr()).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(s.fake.runs).toHaveLength(1);
    expect(starts(s.fake)).toHaveLength(1);
    expect(cli.stderr()).toMatch(/warning: starting pipeline 14902 failed: .*(socket hang up|ECONNRESET).*; Azure DevOps may have started the run: looking for it among the runs of pipeline 14902 queued since /);
    expect(cli.stderr()).toMatch(/warning: found ADO run 1000: it has the parameters we sent and was queued since \S+Z; following it as ours\n/);
    expect(cli.stderr()).toContain(`ADO run 1000 adopted: ${s.proxy.url}/org/my%20project/_build/results?buildId=1000`);
    // Followed as if started normally: polled to completion, its log read.
    expect(cli.stderr()).toMatch(/ADO run 1000: completed/);
    expect(cli.stderr()).toContain(`built ${IMAGE}`);
    expect(cancels(s.fake)).toHaveLength(0);
  });

  it('a start whose connection is refused never reached ADO: it is sent again, and one run exists', async () => {
    const s = await setup({}, { delay: '1s' });
    // The library asks for the pipelines API's locations right before the start: then the proxy stops listening.
    s.proxy.rules.push({ match: (r) => r.method === 'OPTIONS' && /\/_apis\/pipelines$/i.test(r.url), times: 1, after: () => s.proxy.refuse() });
    const cli = start(s);
    await until(() => /did not reach Azure DevOps: retrying in/.test(cli.stderr()), 'the refused start');
    await s.proxy.accept();
    const r = await cli.exited;
    expect(r.code).toBe(0);
    expect(cli.stderr()).toMatch(/warning: starting pipeline 14902 failed: .*ECONNREFUSED.*; the request did not reach Azure DevOps: retrying in \d+ ms \(try 1 of 3\)/);
    expect(cli.stderr()).not.toContain('may have started the run');
    expect(s.fake.runs).toHaveLength(1);
    expect(starts(s.fake)).toHaveLength(1);
    expect(cli.stderr()).toContain('ADO run 1000 started');
  });

  it.each<[string, 'drop' | 'garbage']>([
    ['the connection drops after the start was sent', 'drop'],
    ['the start is answered with an HTML error page', 'garbage'],
  ])('%s and no run can be found: exit 1 saying the start is unconfirmed and where to look, nothing sent again', async (_, fault) => {
    const s = await setup();
    s.proxy.rules.push({ match: isStart, fault });
    const cli = start(s);
    const r = await cli.exited;
    expect(r.code).toBe(1);
    expect(s.proxy.seen.filter(isStart)).toHaveLength(1);
    expect(s.fake.runs).toHaveLength(0);
    expect(cli.stderr()).toMatch(
      /error: starting pipeline 14902 failed: .*; the start of the run could not be confirmed: no run with these parameters was queued since \S+Z\. Azure DevOps may still start it: look at http:\/\/127\.0\.0\.1:\d+\/org\/my%20project\/_build\?definitionId=14902 before running this job again\n/,
    );
    // Looked `attempts` times: ADO may list a run a moment after accepting it.
    expect(s.fake.requests.filter((q) => q.method === 'GET' && /\/_apis\/build\/builds\?/.test(q.url))).toHaveLength(3);
  });

  it('a run of someone else with other parameters is not adopted', async () => {
    const s = await setup();
    // Another job's run of the same pipeline, queued just now.
    s.fake.runs.push({ id: 999, pipelineId: 14902, created: new Date(), polls: 0, cancelRequested: false, templateParameters: { RepoName: 'other', Name: 'other/app' } });
    s.proxy.rules.push({ match: isStart, fault: 'drop' });
    const cli = start(s);
    const r = await cli.exited;
    expect(r.code).toBe(1);
    expect(cli.stderr()).toContain('the start of the run could not be confirmed');
    expect(cancels(s.fake)).toHaveLength(0);
  });
});

describe('a stop is prompt, and the run we stop watching is cancelled', () => {
  it('SIGTERM while the poll request hangs: gone within 5 s, non-zero, the run cancelled', async () => {
    const s = await setup({ neverComplete: true });
    s.proxy.rules.push({ match: isPoll, fault: 'hang' });
    const cli = start(s);
    await until(() => s.proxy.seen.some((q) => isPoll(q) && q.fault === 'hang'), 'a hanging poll');
    const r = await stopWithin(cli, 'SIGTERM');
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(cancels(s.fake).map((q) => [q.url, JSON.parse(q.body)])).toEqual([['/org/my%20project/_apis/build/builds/1000', { status: 4 }]]);
    expect(s.fake.runs[0]!.cancelRequested).toBe(true);
    expect(cli.stderr()).toContain('error: stopped by signal after');
    expect(cli.stderr()).toContain('ADO run 1000 was asked to cancel');
  });

  it('SIGTERM while the start hangs after ADO started the run: gone within 5 s, and the run it cannot name is found and cancelled', async () => {
    const s = await setup({ neverComplete: true });
    s.proxy.rules.push({ match: isStart, fault: 'stall' });
    const cli = start(s);
    await until(() => s.fake.runs.length === 1, 'the run to start');
    const r = await stopWithin(cli, 'SIGTERM');
    expect(r.code).not.toBe(0);
    expect(s.fake.runs[0]!.cancelRequested).toBe(true);
    expect(cli.stderr()).toContain('error: stopped by signal while starting pipeline 14902; ADO run 1000 was asked to cancel');
  });

  it.each<[string, NodeJS.Signals, FaultRule[], (seen: ProxiedRequest) => boolean, RegExp]>([
    ['discovery', 'SIGINT', [{ match: (r) => /_apis\/ResourceAreas/i.test(r.url), fault: 'hang' }], (q) => q.fault === 'hang', /error: discovering the APIs of .* failed: stopped by SIGINT/],
    ['the start, never forwarded to ADO,', 'SIGTERM', [{ match: isStart, fault: 'hang' }], (q) => q.fault === 'hang', /error: stopped by signal while starting pipeline 14902; no run of ours was found\n/],
    [
      'the look for our run after a lost answer',
      'SIGTERM',
      [{ match: isStart, fault: 'lose' }, { match: (r) => /\/_apis\/build\/builds\?/.test(r.url), fault: 'hang' }],
      (q) => q.fault === 'hang',
      /could not look for the run our request may have started \(no answer within 3s\)[^]*error: stopped by signal while starting pipeline 14902; a run may have been started: look at http:\/\/127\.0\.0\.1:\d+\/org\/my%20project\/_build\?definitionId=14902\n/,
    ],
    ['the list of logs', 'SIGTERM', [{ match: (r) => /\/builds\/1000\/logs$/.test(r.url), fault: 'hang' }], (q) => q.fault === 'hang', /error: stopped by signal while reading the log of ADO run 1000 \(its result: succeeded\)/],
    ['the log download', 'SIGTERM', [{ match: (r) => /\/builds\/1000\/logs\/3$/.test(r.url), fault: 'hang' }], (q) => q.fault === 'hang', /error: stopped by signal while reading the log of ADO run 1000 \(its result: succeeded\)/],
  ])('%s hangs; %s: gone within 5 s, non-zero', async (_, signal, rules, hung, says) => {
    const s = await setup();
    s.proxy.rules.push(...rules);
    const cli = start(s);
    await until(() => s.proxy.seen.some(hung), 'the hanging request');
    const r = await stopWithin(cli, signal);
    expect(r.code).toBe(signal === 'SIGINT' ? 130 : 143);
    expect(cli.stderr()).toMatch(says);
  });

  it('ado-timeout 2s while the poll hangs: exit 1 within 2 + 5 s, the run cancelled', async () => {
    const s = await setup({ neverComplete: true }, { timeout: '2s' });
    s.proxy.rules.push({ match: isPoll, fault: 'hang' });
    const cli = start(s);
    await until(() => s.proxy.seen.some((q) => isPoll(q) && q.fault === 'hang'), 'a hanging poll');
    const polled = Date.now();
    const r = await within(cli.exited, 2_000 + STOP_WITHIN_MS);
    expect(r).not.toBe('still running');
    if (r === 'still running') return;
    expect(r.at - polled).toBeLessThan(2_000 + STOP_WITHIN_MS);
    expect(r.code).toBe(1);
    expect(cli.stderr()).toContain('error: ADO run 1000 did not complete within 2.0s (ado-timeout); it was asked to cancel');
    expect(s.fake.runs[0]!.cancelRequested).toBe(true);
  });

  it('a poll that keeps failing ends the watch, and the run is cancelled', async () => {
    const s = await setup({ neverComplete: true });
    s.proxy.rules.push({ match: isPoll, fault: 'drop' });
    const cli = start(s);
    const r = await cli.exited;
    expect(r.code).toBe(1);
    expect(s.proxy.seen.filter(isPoll)).toHaveLength(3);
    expect(cli.stderr()).toMatch(/error: reading the state of run 1000 failed: .*; ADO run 1000 was asked to cancel\n/);
    expect(s.fake.runs[0]!.cancelRequested).toBe(true);
  });
});

describe('a garbage answer is a transient error', () => {
  it('an HTML page instead of the run state is retried, and the run is followed to success', async () => {
    const s = await setup();
    s.proxy.rules.push({ match: isPoll, fault: 'garbage', times: 1 });
    const cli = start(s);
    const r = await cli.exited;
    expect(cli.stderr()).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(cli.stderr()).toMatch(/warning: reading the state of run 1000 failed: Azure DevOps answered without a run \(an answer that is not JSON, or HTTP 404\); retrying in \d+ ms \(try 1 of 3\)/);
    expect(cli.stderr()).toContain(`built ${IMAGE}`);
    expect(cancels(s.fake)).toHaveLength(0);
  });
});
