import { writeFileSync } from 'node:fs';
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
