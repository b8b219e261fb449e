import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { freePort } from '../support/registry.js';

afterAll(removeTempDirs);

const SUCCESS = '##vso[task.setvariable variable=signing_success;issecret=false;isoutput=true]true\n';
const FAILURE = '##vso[task.setvariable variable=signing_success;issecret=false;isoutput=true]false\n';

/** The signing step inside the ADO pipeline (compat, 2026): `--sign-only --ado-state-output`, Prow-style variables. */
const pipelineEnv = baseEnv({
  CI: 'true', BUILD_BUILDID: '812', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit',
  PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f',
});

describe('--sign-only --ado-state-output: the signing_success output variable on stdout', () => {
  it('true after a sign-only run that succeeded (no signer enabled for this repository)', async () => {
    const config = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\n');
    const r = await runCli(['--sign-only', '--ado-state-output', `--config=${config}`, '--images-to-sign=europe-docker.pkg.dev/kyma-project/prod/app:v1'], { env: pipelineEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(SUCCESS);
  });

  it('false when signing failed (exit 1): the registry holding the image is unreachable', async () => {
    const port = await freePort();
    const secret = join(tempDir(), 'token');
    writeFileSync(secret, 'notary-token-value\n');
    const config = writeConfig(`
registry: 127.0.0.1:${port}/prod
sign-config:
  enabled-signers: {"*": [notary-open]}
  signers:
    - {name: notary-open, type: notary, config: {endpoint: "http://127.0.0.1:${port}/sign", timeout: 2s, retry-timeout: 10ms, secret: {path: ${secret}, type: token}}}
`);
    const r = await runCli(['--sign-only', '--ado-state-output', `--config=${config}`, `--images-to-sign=127.0.0.1:${port}/prod/app:v1`], { env: pipelineEnv, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(FAILURE);
  });

  it('false when nothing could start (exit 2), and only with --sign-only', async () => {
    const r = await runCli(['--sign-only', '--ado-state-output', '--config=/nonexistent/config.yaml', '--images-to-sign=x/app:v1'], { env: pipelineEnv });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(FAILURE);
    const alone = await runCli(['--ado-state-output', '--parse-tags-only', '--config=/nonexistent/config.yaml'], { env: pipelineEnv });
    expect(alone.code).toBe(2);
    expect(alone.stdout).toBe('');
    expect(alone.stderr).toContain('--ado-state-output is only used with --sign-only');
  });

  it('nothing extra on stdout without the flag', async () => {
    const config = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\n');
    const r = await runCli(['--sign-only', `--config=${config}`, '--images-to-sign=europe-docker.pkg.dev/kyma-project/prod/app:v1'], { env: pipelineEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });
});
