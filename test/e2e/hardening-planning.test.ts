import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';

afterAll(removeTempDirs);

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('tags: a huge env-file value is refused without rendering it', () => {
  it('a 10 MB value used 40 times in --tag: exit 2 at once, a short message', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(dir, 'envs'), `BIG=${'a'.repeat(10 * 1024 * 1024)}\n`);
    const config = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\n');
    const template = '{{ .Env "BIG" }}'.repeat(40);
    const started = Date.now();
    const r = await runCli(['--parse-tags-only', `--config=${config}`, `--context=${dir}`, '--env-file=envs', `--tag=big=${template}`, `--commit-sha=${SHA}`], {
      env: baseEnv(),
      timeoutMs: 60_000,
    });
    expect(Date.now() - started).toBeLessThan(10_000); // a bound, not a benchmark
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/tag "big" .*renders to more than 4096 characters/);
    expect(r.stderr.length).toBeLessThan(10_000);
  });
});

describe("a missing builder is a planning problem (SPEC 1): exit 2, nothing started", () => {
  const context = (): string => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    return dir;
  };
  const config = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\n');
  const args = (dir: string, logDir: string): string[] => [`--config=${config}`, '--name=test-infra/app', `--context=${dir}`, `--log-dir=${logDir}`, `--commit-sha=${SHA}`, '--tag=v1'];
  const env = baseEnv({ KANIKO_EXECUTOR: '/nonexistent/kaniko/executor' });

  it('without --backend, kaniko is chosen; its executable is missing: exit 2, naming it and suggesting buildah', async () => {
    const logDir = join(tempDir(), 'logs');
    const r = await runCli(args(context(), logDir), { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('kaniko: its executable /nonexistent/kaniko/executor does not exist');
    expect(r.stderr).toContain('KANIKO_EXECUTOR');
    expect(r.stderr).toContain('use --backend=buildah');
    expect(r.stderr).not.toContain('executable not found');
    expect(r.stderr).not.toContain('building test-infra/app');
    expect(existsSync(logDir)).toBe(false);
  });

  it('is reported with the other problems of the round', async () => {
    const r = await runCli([...args(context(), join(tempDir(), 'logs')), '--tag=bad/tag'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tag "badtag" .*not a valid OCI tag/);
    expect(r.stderr).toContain('kaniko: its executable /nonexistent/kaniko/executor does not exist');
  });

  it('--dry-run of the same run does not need the executable: exit 0, the argv names it', async () => {
    const r = await runCli([...args(context(), join(tempDir(), 'logs')), '--dry-run'], { env });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { backend: string };
    expect(plan.backend).toBe('kaniko');
    expect(r.stdout).toContain('/nonexistent/kaniko/executor');
  });
});

describe('config.yaml problems name the file given with --config', () => {
  it('registry or ado-config not set, a bad registry: each names the --config path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const noRegistry = writeConfig('cache: {enabled: false}\n', tempDir());
    const r = await runCli([`--config=${noRegistry}`, '--name=test-infra/app', `--context=${dir}`, `--commit-sha=${SHA}`, '--backend=buildah', '--dry-run'], { env: baseEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${noRegistry}: registry is not set`);
    expect(r.stderr).not.toMatch(/(^|\s)config\.yaml: /);

    const badRegistry = writeConfig('registry: Europe-Docker.pkg.dev/UPPER\n', tempDir());
    const bad = await runCli([`--config=${badRegistry}`, '--name=test-infra/app', `--context=${dir}`, `--commit-sha=${SHA}`, '--backend=buildah', '--dry-run'], { env: baseEnv() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`check registry "Europe-Docker.pkg.dev/UPPER" in ${badRegistry} (host[:port]/path, lowercase)`);

    const ado = await runCli([`--config=${noRegistry}`, '--name=test-infra/app', `--context=${dir}`, `--commit-sha=${SHA}`, '--backend=ado', '--dry-run'], { env: baseEnv() });
    expect(ado.code).toBe(2);
    expect(ado.stderr).toContain(`${noRegistry}: ado-config is not set`);
  });
});
