import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, tempDir, writeConfig } from '../support/cli.js';
import { installLoudBuilder, startCli, waitFor } from '../support/stand-ins.js';
import { installFakeBuilder, isRunning } from '../support/tools.js';

afterAll(removeTempDirs);

const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';

function project(): { dir: string; args: (backend: string) => string[] } {
  const dir = tempDir();
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  const config = writeConfig('registry: 127.0.0.1:5999/x\n');
  return { dir, args: (backend) => ['--name=app', `--config=${config}`, `--context=${dir}`, `--backend=${backend}`, `--log-dir=${join(dir, 'logs')}`] };
}

/** The variable that points each backend at its builder. */
const BUILDER_VARIABLE = { kaniko: 'KANIKO_EXECUTOR', buildkit: 'BUILDCTL', buildah: 'BUILDAH' } as const;

describe('a builder never outlives the CLI', () => {
  it.each(Object.entries(BUILDER_VARIABLE))('%s: SIGKILL of the CLI ends the builder and the process it started', async (backend, variable) => {
    const fake = installFakeBuilder();
    const { args } = project();
    const env = baseEnv({ PULL_BASE_SHA: SHA, [variable]: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '60000', FAKE_BUILDER_HELPER: '1' });
    const cli = startCli(args(backend), env);
    expect(await waitFor(() => fake.calls().length > 0, 10_000)).toBe(true);
    const [call] = fake.calls();
    expect(isRunning(call!.pid)).toBe(true);
    expect(isRunning(call!.helperPid!)).toBe(true);

    cli.child.kill('SIGKILL');
    expect(await cli.exited(Date.now(), 5000)).toMatchObject({ signal: 'SIGKILL' });
    expect(await waitFor(() => !isRunning(call!.pid) && !isRunning(call!.helperPid!), 5000)).toBe(true);
  });
});

describe('SIGINT and SIGTERM end the run within 5 s in every phase, leaving no process behind', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s while the builder ignores SIGTERM: it is killed, the CLI exits %i', async (signal, code) => {
    const fake = installFakeBuilder();
    const { args } = project();
    const env = baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '60000', FAKE_BUILDER_HELPER: '1', FAKE_BUILDER_IGNORE_TERM: '1' });
    const cli = startCli(args('kaniko'), env);
    expect(await waitFor(() => fake.calls().length > 0, 10_000)).toBe(true);
    const [call] = fake.calls();

    const sent = Date.now();
    cli.child.kill(signal);
    const exit = await cli.exited(sent, 10_000);
    expect(exit).toMatchObject({ code });
    expect(exit!.afterMs).toBeLessThan(5000);
    expect(cli.stderr()).toContain(`${signal} received`);
    expect(isRunning(call!.pid)).toBe(false);
    expect(isRunning(call!.helperPid!)).toBe(false);
  });

  it('SIGTERM while the builder pours out output and nobody reads our stderr any more', async () => {
    const loud = installLoudBuilder();
    const { dir, args } = project();
    const pidFile = join(dir, 'builder.pid');
    const env = baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: loud, LOUD_BYTES: String(10_000_000_000), LOUD_PID_FILE: pidFile });
    const cli = startCli(args('kaniko'), env, { readStderr: false });
    const log = join(dir, 'logs/build_build.log');
    expect(await waitFor(() => existsSync(log) && statSync(log).size > 10_000, 10_000)).toBe(true);
    const builder = Number(readFileSync(pidFile, 'utf8'));
    // Held by our full stderr pipe, the builder (which could print GB/s) got no further than a few pipe buffers.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(statSync(log).size).toBeLessThan(1_000_000);

    const sent = Date.now();
    cli.child.kill('SIGTERM');
    const exit = await cli.exited(sent, 10_000);
    expect(exit).toMatchObject({ code: 143 });
    expect(exit!.afterMs).toBeLessThan(5000);
    expect(await waitFor(() => !isRunning(builder), 1000)).toBe(true);
  });

  it('SIGTERM while buildah pushes (after the build): the push is stopped, nothing else is started', async () => {
    const fake = installFakeBuilder();
    const { dir, args } = project();
    mkdirSync(join(dir, 'cache'));
    const env = baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: join(dir, 'cache'), BUILDAH: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '60000', FAKE_BUILDER_SLEEP_ON: 'push' });
    const cli = startCli([...args('buildah'), '--tag=one', '--tag=two'], env);
    expect(await waitFor(() => fake.calls().some((call) => call.argv.includes('push')), 10_000)).toBe(true);
    const push = fake.calls().find((call) => call.argv.includes('push'))!;

    const sent = Date.now();
    cli.child.kill('SIGTERM');
    const exit = await cli.exited(sent, 10_000);
    expect(exit).toMatchObject({ code: 143 });
    expect(exit!.afterMs).toBeLessThan(5000);
    expect(isRunning(push.pid)).toBe(false);
    expect(cli.stderr()).toMatch(/stopped by signal/);
    // The build and the one push; no second push after the stop.
    expect(fake.calls().filter((call) => call.argv.includes('push'))).toHaveLength(1);
  });
});
