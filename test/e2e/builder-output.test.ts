import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { installLoudBuilder } from '../support/stand-ins.js';
import { installFakeBuilder } from '../support/tools.js';

afterAll(removeTempDirs);

const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const MARKER = '[image-builder: line truncated at 65536 bytes]';

function project(): { dir: string; logs: string; args: string[] } {
  const dir = tempDir();
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  const config = writeConfig('registry: 127.0.0.1:5999/x\n');
  const logs = join(dir, 'logs');
  return { dir, logs, args: ['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=kaniko', `--log-dir=${logs}`] };
}

describe('builder output through the real CLI', () => {
  it('600 MB on one line without a newline: the build succeeds, the line is cut with a marker, the lines after it are kept', async () => {
    const { logs, args } = project();
    const r = await runCli(args, { env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: installLoudBuilder(), LOUD_BYTES: '600000000', LOUD_NO_NEWLINE: '1' }), timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    const log = readFileSync(join(logs, 'build_build.log'), 'utf8');
    // The builder's output, then our own lines (the stand-in pushes nowhere, so the registry cannot confirm a digest).
    expect(log.startsWith(`${'x'.repeat(65536)} ${MARKER}\nloud-builder: done\n`)).toBe(true);
    expect(log.split('\n').filter((line) => !line.startsWith('image-builder: ') && line !== '')).toHaveLength(2);
    expect(r.stderr).toContain(` ${MARKER}\nloud-builder: done\n`);
    expect(r.stderr.length).toBeLessThan(100_000);
  });

  it('a builder that prints a secret-looking build arg shows *** on stderr and in the log file', async () => {
    const { dir, logs, args } = project();
    const echo = join(dir, 'echo-builder.sh');
    writeFileSync(echo, '#!/bin/sh\nfor a in "$@"; do echo "arg: $a"; done\n', { mode: 0o755 });
    const r = await runCli([...args, '--build-arg=NPM_TOKEN=npm_Qw3rtyUi0p', '--build-arg=GREETING=hello'], { env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: echo }) });
    expect(r.code).toBe(0);
    const log = readFileSync(join(logs, 'build_build.log'), 'utf8');
    expect(log).toContain('arg: --build-arg=NPM_TOKEN=***');
    expect(log).toContain('arg: --build-arg=GREETING=hello');
    expect(r.stdout + r.stderr + log).not.toContain('npm_Qw3rtyUi0p');
  });

  it('a log file that is a symbolic link is not followed: its target stays untouched, a warning says so', async () => {
    const { dir, logs, args } = project();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(logs);
    symlinkSync(victim, join(logs, 'build_build.log'));
    const fake = installFakeBuilder();
    const r = await runCli(args, { env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path }) });

    expect(r.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(r.stderr).toMatch(/^warning: \S*build_build\.log is a symbolic link \(to \S*victim\): not followed; a new log file replaces it$/m);
    expect(lstatSync(join(logs, 'build_build.log')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(logs, 'build_build.log'), 'utf8')).toMatch(/fake-builder: started/);
  });

  it('a dangling symbolic link is not followed either: nothing is created where it points', async () => {
    const { dir, logs, args } = project();
    mkdirSync(logs);
    const target = join(dir, 'elsewhere', 'created-by-us');
    symlinkSync(target, join(logs, 'build_build.log'));
    const fake = installFakeBuilder();
    const r = await runCli([...args, '--silent'], { env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path }) });

    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
    expect(r.stderr).toMatch(/^warning: .*build_build\.log is a symbolic link/m);
    expect(readFileSync(join(logs, 'build_build.log'), 'utf8')).toMatch(/fake-builder: started/);
  });
});
