import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Signer } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { prepareSigning } from '../../src/sign/run.js';
import { readIdentityToken } from '../../src/sign/oidc.js';
import { githubStyleToken, startGithubTokenEndpoint, type Served } from '../support/sigstore.js';
import { captureIO } from '../support/tools.js';

const BEARER = 'runner-request-token-Hq83Lp';
const WHERE = 'sign-config signer "keyless"';

describe('the identity token of keyless signers: where it comes from, checked before anything is built', () => {
  let endpoint: Served;
  let minted: string[] = [];
  let lifetime = 600;
  beforeAll(async () => {
    endpoint = await startGithubTokenEndpoint(BEARER, () => {
      const token = githubStyleToken({}, lifetime);
      minted.push(token);
      return token;
    });
  });
  afterAll(async () => endpoint?.stop());

  /** A run context over the given env (nothing else of process.env), its stderr captured, its clock settable. */
  const context = (env: Record<string, string>, now = () => new Date()) => {
    const captured = captureIO();
    captured.io.env = env;
    captured.io.now = now;
    return captured;
  };
  const github = (extra: Record<string, string> = {}) => ({
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: BEARER,
    ...extra,
  });
  const read = (env: Record<string, string>, flag?: string, now?: () => Date) => readIdentityToken(env, flag, context(env, now).io, WHERE);

  it('GitHub Actions: asks the runner endpoint with audience sigstore and the bearer token; wins over --oidc-token and SIGSTORE_ID_TOKEN', async () => {
    minted = [];
    const token = await read(github({ SIGSTORE_ID_TOKEN: githubStyleToken({ sub: 'env' }) }), githubStyleToken({ sub: 'flag' }));
    expect(token.origin).toBe('the GitHub Actions ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL)');
    expect(await token.current()).toBe(minted[0]);
    const request = endpoint.requests.at(-1);
    expect(request?.path).toBe('/idtoken?api-version=2.0&audience=sigstore');
    expect(request?.authorization).toBe(`bearer ${BEARER}`);
  });

  it('GitHub Actions: a token that expires before signing is fetched again', async () => {
    minted = [];
    let clock = Date.now();
    const token = await read(github(), undefined, () => new Date(clock));
    clock += 3600_000;
    lifetime = 7200;
    expect(await token.current()).toBe(minted[1]);
    lifetime = 600;
  });

  it.each([
    ['--oidc-token first', { SIGSTORE_ID_TOKEN: githubStyleToken({ sub: 'env' }) }, githubStyleToken({ sub: 'flag' }), '--oidc-token', 'flag'],
    ['SIGSTORE_ID_TOKEN without the flag', { SIGSTORE_ID_TOKEN: githubStyleToken({ sub: 'env' }) }, undefined, 'SIGSTORE_ID_TOKEN', 'env'],
    ['--oidc-token in GitHub Actions without id-token permission (no endpoint variables)', { GITHUB_ACTIONS: 'true' }, githubStyleToken({ sub: 'flag' }), '--oidc-token', 'flag'],
  ])('elsewhere: %s', async (_, env, flag, origin, sub) => {
    const token = await read(env, flag);
    expect(token.origin).toBe(origin);
    expect(JSON.parse(Buffer.from((await token.current()).split('.')[1] ?? '', 'base64url').toString()).sub).toBe(sub);
  });

  const expired = githubStyleToken({}, -120);
  const expiry = new Date(JSON.parse(Buffer.from(expired.split('.')[1] ?? '', 'base64url').toString()).exp * 1000).toISOString();
  it.each([
    [
      'none anywhere',
      { CI: 'true' },
      undefined,
      `${WHERE}: keyless signing needs the CI's OIDC identity token, and there is none: in GitHub Actions give the job "permissions: id-token: write"; elsewhere pass --oidc-token or set SIGSTORE_ID_TOKEN`,
    ],
    ['an expired --oidc-token', {}, expired, new RegExp(`^${WHERE}: the identity token from --oidc-token expired at ${expiry} \\(now .+\\); give a fresh token$`)],
    ['an expired SIGSTORE_ID_TOKEN', { SIGSTORE_ID_TOKEN: expired }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN expired at ${expiry}`],
    ['a token that is not a JWT', { SIGSTORE_ID_TOKEN: 'opaque-token-value' }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN is not a JWT (header.payload.signature, base64url); give the OIDC token the CI issued`],
    ['a JWT without exp', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: undefined }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has no numeric exp claim`],
  ])('refused (exit 2): %s', async (_, env, flag, message) => {
    const err: unknown = await read(env, flag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });

  /** A JWT whose claims are the given JSON text, as written (JSON.stringify cannot write 1e400). */
  const b64 = (text: string) => Buffer.from(text).toString('base64url');
  const jwtOf = (claims: string) => `${b64('{"alg":"RS256","typ":"JWT"}')}.${b64(claims)}.c2ln`;
  const OUT_OF_RANGE = 'expected seconds since 1970-01-01 UTC (a time JavaScript can represent, before the year 275760); give the OIDC token the CI issued';
  it.each([
    ['far in the past (-1e17)', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: -1e17 }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has an exp claim out of range (-100000000000000000): ${OUT_OF_RANGE}`],
    ['far in the future (1e20)', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: 1e20 }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has an exp claim out of range (100000000000000000000): ${OUT_OF_RANGE}`],
    ['infinite (1e400 in the JSON)', { SIGSTORE_ID_TOKEN: jwtOf('{"sub":"x","exp":1e400}') }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has an exp claim out of range (Infinity): ${OUT_OF_RANGE}`],
    ['minus infinite, through --oidc-token', {}, jwtOf('{"sub":"x","exp":-1e400}'), `${WHERE}: the identity token from --oidc-token has an exp claim out of range (-Infinity): ${OUT_OF_RANGE}`],
    ['a string', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: '1900000000' }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has no numeric exp claim (exp is a string); give the OIDC token the CI issued`],
    ['null', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: null }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has no numeric exp claim (exp is null); give the OIDC token the CI issued`],
    ['missing', { SIGSTORE_ID_TOKEN: githubStyleToken({ exp: undefined }) }, undefined, `${WHERE}: the identity token from SIGSTORE_ID_TOKEN has no numeric exp claim; give the OIDC token the CI issued`],
  ])('an exp claim that is not a time is refused (exit 2): %s', async (_, env, flag, message) => {
    const err: unknown = await read(env, flag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(message);
  });

  it('an exp claim in range, however far, is a time: a token valid until the year 200000 is taken', async () => {
    const token = await read({ SIGSTORE_ID_TOKEN: githubStyleToken({ exp: 6.25e12 }) });
    expect(token.origin).toBe('SIGSTORE_ID_TOKEN');
  });

  it('the GitHub endpoint refusing (a wrong bearer) is exit 2, naming the permission', async () => {
    const err: unknown = await read(github({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `cannot get the identity token from the GitHub Actions ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): HTTP 403 from ${endpoint.url}/idtoken; check the job's "permissions: id-token: write"`,
    );
  });

  const NOT_HTTPS = 'is not https (plain http is allowed only for loopback hosts); use an https:// endpoint';
  it.each([
    ['plain http to another host', 'http://token-endpoint.invalid/x', `environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint): http://token-endpoint.invalid ${NOT_HTTPS}`],
    ['plain http to a name that only starts like a loopback address', 'http://127.0.0.1.nip.io/x', `environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint): http://127.0.0.1.nip.io ${NOT_HTTPS}`],
    ['another scheme', 'ftp://token-endpoint.invalid/x', `environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint): ftp://token-endpoint.invalid ${NOT_HTTPS}`],
    ['not a URL', 'token-endpoint/x', 'environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint): "token-endpoint/x" is not a URL; write https://host/path'],
  ])('ACTIONS_ID_TOKEN_REQUEST_URL: %s is refused (exit 2) before the bearer token is sent anywhere', async (_, url, message) => {
    const fetched = vi.spyOn(globalThis, 'fetch');
    try {
      const err: unknown = await read(github({ ACTIONS_ID_TOKEN_REQUEST_URL: url })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toBe(message);
      expect(fetched).not.toHaveBeenCalled();
    } finally {
      fetched.mockRestore();
    }
  });

  it('ACTIONS_ID_TOKEN_REQUEST_URL: plain http on a loopback address is still asked (a local runner, tests)', async () => {
    minted = [];
    const url = new URL(`${endpoint.url}/idtoken`);
    expect(url.protocol).toBe('http:');
    expect(url.hostname).toBe('127.0.0.1');
    const token = await read(github({ ACTIONS_ID_TOKEN_REQUEST_URL: url.href }));
    expect(await token.current()).toBe(minted[0]);
  });

  it('a given token that expires during the build fails at signing time, saying so', async () => {
    let clock = Date.now();
    const token = await read({ SIGSTORE_ID_TOKEN: githubStyleToken({}, 300) }, undefined, () => new Date(clock));
    clock += 600_000;
    await expect(token.current()).rejects.toThrow(/^the identity token from SIGSTORE_ID_TOKEN expired at .+, before signing; pass a token that outlasts the build$/);
  });

  it('the token and the runner bearer token are registered as secrets: masked in every line', async () => {
    const env = github();
    const { io, stderr } = context(env);
    const token = await (await readIdentityToken(env, undefined, io, WHERE)).current();
    io.log.info(`leak? ${token} ${token.split('.')[1]} ${BEARER}`);
    expect(stderr()).toBe('leak? *** *** ***\n');
  });

  it('prepareSigning: a keyless signer without a token joins the other problems; a key-based one needs none', async () => {
    const keyless = { name: 'keyless', type: 'cosign', config: { keyless: true, 'fulcio-url': 'https://fulcio.sigstore.dev', 'rekor-url': 'https://rekor.sigstore.dev', recursive: false, 'docker-media-types': false } } as Signer;
    const broken = { name: 'broken', type: 'cosign', config: { key: '/none.key', keyless: false, 'docker-media-types': false } } as Signer;
    const missing = (file: string) => {
      throw Object.assign(new Error(`no ${file}`), { code: 'ENOENT' });
    };
    const err: unknown = await prepareSigning([keyless, broken], context({ HOME: '/nonexistent' }).io, missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([
      `${WHERE}: keyless signing needs the CI's OIDC identity token, and there is none: in GitHub Actions give the job "permissions: id-token: write"; elsewhere pass --oidc-token or set SIGSTORE_ID_TOKEN`,
      'sign-config signer "broken": key file /none.key does not exist; mount the key or fix config.key',
    ]);
    const signing = await prepareSigning([keyless], context({ HOME: '/nonexistent' }).io, missing, { oidcToken: githubStyleToken() });
    expect(signing.signers.map((s) => s.name)).toEqual(['keyless']);
  });
});
