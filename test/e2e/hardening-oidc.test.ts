import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';
import { githubStyleToken, startGithubTokenEndpoint, type Served } from '../support/sigstore.js';

afterAll(removeTempDirs);

const SHA = '616082eb6857dd9086463486a12564e3b9afbbf0';
const BEARER = 'runner-id-token-request-Hx42Lm';
/** Nothing listens there: signing it fails, after the identity token was read. */
const IMAGE = '127.0.0.1:9/x:1';

/** A keyless cosign signer; its Fulcio and Rekor are never reached by these runs. */
const CONFIG = writeConfig(`registry: 127.0.0.1:9/prod
sign-config:
  enabled-signers:
    "*": [keyless]
  signers:
    - {name: keyless, type: cosign, config: {keyless: true, fulcio-url: "https://fulcio.invalid", rekor-url: "https://rekor.invalid"}}
`);

/** A push to main in GitHub Actions, the job allowed an identity token (permissions: id-token: write). */
const github = (extra: Record<string, string> = {}) =>
  baseEnv({
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: join(FIXTURES, 'github', 'push.json'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_RUN_ID: '4242',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: BEARER,
    DOCKER_CONFIG: tempDir('docker-config'),
    ...extra,
  });

const signOnly = (env: Record<string, string>) => runCli(['--sign-only', `--images-to-sign=${IMAGE}`, `--config=${CONFIG}`], { env, timeoutMs: 120_000 });

describe('the GitHub Actions ID-token request URL (through the real CLI, --sign-only with a keyless signer)', () => {
  let endpoint: Served;
  beforeAll(async () => {
    endpoint = await startGithubTokenEndpoint(BEARER, () => githubStyleToken());
  });
  afterAll(async () => endpoint?.stop());

  it('plain http to a host that is not loopback: exit 2 naming the variable and https, the runner bearer token never sent', async () => {
    const r = await signOnly(github({ ACTIONS_ID_TOKEN_REQUEST_URL: 'http://token-endpoint.invalid/x' }));
    expect(r.stderr).toContain(
      'environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint): http://token-endpoint.invalid is not https (plain http is allowed only for loopback hosts); use an https:// endpoint',
    );
    expect(r.stderr).not.toContain('cannot get the identity token');
    expect(r.stderr).not.toContain(IMAGE);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('plain http on 127.0.0.1 is still asked: the token is fetched, then signing goes on (and fails at the absent registry)', async () => {
    const before = endpoint.requests.length;
    const r = await signOnly(github({ ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?api-version=2.0` }));
    expect(r.stderr).not.toContain('is not https');
    expect(endpoint.requests.length).toBeGreaterThan(before);
    expect(endpoint.requests.at(-1)?.authorization).toBe(`bearer ${BEARER}`);
    expect(r.stderr).toContain(IMAGE);
    expect(r.code).toBe(1);
  });
});

describe('an identity token whose exp is out of range (through the real CLI, --sign-only with a keyless signer)', () => {
  it('SIGSTORE_ID_TOKEN with exp -1e17: exit 2 naming where the token came from and what is wrong with exp, nothing signed', async () => {
    const r = await signOnly(baseEnv({ SIGSTORE_ID_TOKEN: githubStyleToken({ exp: -1e17 }), DOCKER_CONFIG: tempDir('docker-config') }));
    expect(r.stderr).toContain(
      'error: sign-config signer "keyless": the identity token from SIGSTORE_ID_TOKEN has an exp claim out of range (-100000000000000000): expected seconds since 1970-01-01 UTC',
    );
    expect(r.stderr).not.toContain('Invalid time value');
    expect(r.stderr).not.toContain(IMAGE);
    expect(r.code).toBe(2);
  });
});
