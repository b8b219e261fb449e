import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';

afterAll(removeTempDirs);

const SHA = '616082eb6857dd9086463486a12564e3b9afbbf0';
const CONFIG = writeConfig('registry: 127.0.0.1:5999/prod\n');

/** A Dockerfile whose global ARG DERIVED takes its default from the secret NPM_TOKEN: the dry-run lists its value. */
function context(): string {
  const dir = tempDir('context');
  writeFileSync(join(dir, 'Dockerfile'), 'ARG NPM_TOKEN\nARG DERIVED=pre-${NPM_TOKEN}\nFROM scratch\n');
  return dir;
}

interface Unit {
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  inputs: { buildArgs: Record<string, string | null> };
}

describe('--dry-run masks every value derived from a secret (through the real CLI)', () => {
  it.each([
    { name: 'a plain secret', secret: 's3cr3tvalue' },
    { name: 'a secret with characters JSON escapes (the printed JSON stays valid)', secret: 's3cr"3t\\value' },
  ])('$name: ARG DERIVED=pre-${NPM_TOKEN} is printed masked', async ({ secret }) => {
    const r = await runCli(['--dry-run', '--reuse', '--backend=buildah', `--config=${CONFIG}`, '--name=app', `--context=${context()}`, `--build-arg=NPM_TOKEN=${secret}`], {
      env: baseEnv({ PULL_BASE_SHA: SHA, BUILDAH: '/nonexistent/buildah' }),
    });
    expect(r.code).toBe(0);
    for (const shown of [secret, JSON.stringify(secret).slice(1, -1), 's3cr']) expect(r.stdout).not.toContain(shown);
    const plan = JSON.parse(r.stdout) as { builds: Unit[] };
    expect(plan.builds[0]?.inputs.buildArgs).toEqual({ NPM_TOKEN: '***', DERIVED: 'pre-***' });
    expect(plan.builds[0]?.buildArgs).toMatchObject({ NPM_TOKEN: '***' });
  });

  it('a secret printed as a key (a --label named like it) is masked too', async () => {
    const secret = 's3cr3tvalue';
    const r = await runCli(['--dry-run', '--backend=buildah', `--config=${CONFIG}`, '--name=app', `--context=${context()}`, `--build-arg=NPM_TOKEN=${secret}`, `--label=${secret}=x`], {
      env: baseEnv({ PULL_BASE_SHA: SHA, BUILDAH: '/nonexistent/buildah' }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(secret);
    expect((JSON.parse(r.stdout) as { builds: Unit[] }).builds[0]?.labels).toMatchObject({ '***': 'x' });
  });
});
