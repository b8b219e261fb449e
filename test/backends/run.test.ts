import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/backends/backend.js';
import { kanikoBackend } from '../../src/backends/kaniko.js';
import { KILL_AFTER_MS } from '../../src/backends/process.js';
import { maxConcurrentBuilds, runBuilds, summarize } from '../../src/backends/run.js';
import { makePlan, makeUnit } from '../support/plan-factory.js';
import { captureIO, installFakeBuilder, isRunning, removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

function variantsPlan(names: string[]) {
  const base = makePlan({ logDir: tempDir('run-logs'), silent: false });
  return { ...base, builds: names.map((variant) => makeUnit(base, { variant, buildArgs: { FLAVOUR: variant } })) };
}

describe('runBuilds (stand-in kaniko)', () => {
  it('runs four 1 s variants at the same time, even on 2 CPUs (the wall time is measured by npm run bench)', async () => {
    expect(maxConcurrentBuilds()).toBeGreaterThanOrEqual(4);
    const fake = installFakeBuilder();
    const plan = variantsPlan(['a', 'b', 'c', 'd']);
    const { io } = captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '1000' });
    const results = await runBuilds(kanikoBackend, plan, io);

    expect(results.map((r) => [r.variant, r.ok])).toEqual([['a', true], ['b', true], ['c', true], ['d', true]]);
    // Every builder started before the first one (sleeping 1 s) could have finished: they overlapped.
    const starts = fake.calls().map((call) => call.startedNs);
    expect(starts).toHaveLength(4);
    expect(Number(starts[3]! - starts[0]!) / 1e6).toBeLessThan(1000);
  });

  it('respects a smaller bound', async () => {
    const fake = installFakeBuilder();
    const plan = variantsPlan(['a', 'b', 'c']);
    const { io } = captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_SLEEP_MS: '300' });
    const started = Date.now();
    await runBuilds(kanikoBackend, plan, io, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('lets the other variants finish when one fails; each has its own log', async () => {
    const fake = installFakeBuilder();
    const plan = variantsPlan(['good', 'bad', 'fine']);
    const captured = captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_FAIL_ON: 'FLAVOUR=bad' });
    const results = await runBuilds(kanikoBackend, plan, captured.io);

    expect(results.map((r) => [r.variant, r.ok, r.error])).toEqual([
      ['good', true, undefined],
      ['bad', false, 'fake-builder exited with code 1'],
      ['fine', true, undefined],
    ]);
    expect(await readFile(plan.builds[1]!.logFile, 'utf8')).toContain('failing with exit code 1');
    expect(await readFile(plan.builds[0]!.logFile, 'utf8')).not.toContain('failing');
    expect(captured.stderr()).toMatch(/^\[bad\] fake-builder: failing with exit code 1$/m);
    expect(captured.stderr()).toMatch(/^\[good\] fake-builder: pushed sha256:/m);
  });

  it('stops every running unit on abort, with SIGKILL after KILL_AFTER_MS for a builder that ignores SIGTERM', async () => {
    const fake = installFakeBuilder();
    const plan = variantsPlan(['x', 'y']);
    const captured = captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '60000', FAKE_BUILDER_IGNORE_TERM: '1', FAKE_BUILDER_HELPER: '1' });
    const running = runBuilds(kanikoBackend, plan, captured.io);
    while (fake.calls().length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const aborted = Date.now();
    captured.abort();
    const results = await running;
    const took = Date.now() - aborted;

    expect(results.map((r) => [r.ok, r.error])).toEqual([[false, 'stopped by signal'], [false, 'stopped by signal']]);
    expect(took).toBeGreaterThanOrEqual(KILL_AFTER_MS - 100);
    expect(took).toBeLessThan(KILL_AFTER_MS + 2000);
    for (const call of fake.calls()) {
      expect(isRunning(call.pid)).toBe(false);
      expect(isRunning(call.helperPid!)).toBe(false);
    }
    expect(captured.stderr()).toMatch(/^\[x\] image-builder: stopped by signal$/m);
  });
});

describe('summarize', () => {
  it('lists every pushed reference with its digest and every failure with its log file', () => {
    const results: BuildResult[] = [
      { variant: 'a', ok: true, logFile: '/logs/build_a.log', pushed: [{ reference: 'reg/x:1-a', digest: 'sha256:aaa' }, { reference: 'reg/y:1-a' }] },
      { variant: 'b', ok: false, logFile: '/logs/build_b.log', pushed: [{ reference: 'reg/x:1-b', digest: 'sha256:bbb' }], error: 'buildah could not push to reg/y:1-b' },
      { ok: false, logFile: '/logs/build_build.log', pushed: [], error: 'stopped by signal' },
    ];
    expect(summarize(results)).toEqual([
      'pushed reg/x:1-a sha256:aaa',
      'pushed reg/y:1-a (digest unknown)',
      'pushed reg/x:1-b sha256:bbb',
      'variant b failed: buildah could not push to reg/y:1-b (log: /logs/build_b.log)',
      'build failed: stopped by signal (log: /logs/build_build.log)',
    ]);
  });
});
