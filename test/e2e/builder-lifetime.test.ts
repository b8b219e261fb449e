import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, tempDir, writeConfig } from '../support/cli.js';
import { startCli, waitFor } from '../support/stand-ins.js';
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
