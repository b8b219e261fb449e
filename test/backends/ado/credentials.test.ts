import { afterEach, describe, expect, it } from 'vitest';
import {
  ADO_SCOPE, authToken, describeCredential, resolveCredential, servicePrincipalToken, tokenScheme, tokenUrl, type AdoCredential,
} from '../../../src/backends/ado/credentials.js';
import { InputError } from '../../../src/errors.js';
import type { Options } from '../../../src/options.js';
import { startFakeAdo, type FakeAdo } from '../../support/fake-ado.js';
import { startFaultProxy } from '../../support/fault-proxy.js';
import { testContext } from '../../support/tools.js';

type Flags = Pick<Options, 'azureAccessToken' | 'azureClientId' | 'azureClientSecret' | 'azureTenantId'>;
const resolve = (flags: Partial<Flags>, env: Record<string, string> = {}) => resolveCredential(flags as Options, env);

const SP_ENV = { AZURE_CLIENT_ID: 'env-id', AZURE_CLIENT_SECRET: 'env-secret', AZURE_TENANT_ID: 'env-tenant' };
const SP_FLAGS = { azureClientId: 'flag-id', azureClientSecret: 'flag-secret', azureTenantId: 'flag-tenant' };

describe('resolveCredential: first found wins (SPEC 9)', () => {
  it.each<[string, Partial<Flags>, Record<string, string>, Partial<AdoCredential> | undefined]>([
    ['--azure-access-token before everything', { azureAccessToken: 'flag-pat', ...SP_FLAGS }, { ADO_PAT: 'env-pat', ...SP_ENV }, { kind: 'token', source: '--azure-access-token', token: 'flag-pat' }],
    ['ADO_PAT before a service principal', SP_FLAGS, { ADO_PAT: 'env-pat', ...SP_ENV }, { kind: 'token', source: 'ADO_PAT', token: 'env-pat' }],
    ['service principal from flags', SP_FLAGS, SP_ENV, { kind: 'service-principal', source: 'flags', clientId: 'flag-id', clientSecret: 'flag-secret', tenantId: 'flag-tenant' }],
    ['service principal from the environment', {}, SP_ENV, { kind: 'service-principal', source: 'environment', clientId: 'env-id', clientSecret: 'env-secret', tenantId: 'env-tenant' }],
    ['each service principal value: the flag, else the variable', { azureClientSecret: 'flag-secret' }, SP_ENV, { source: 'flags and environment', clientId: 'env-id', clientSecret: 'flag-secret' }],
    ['empty values count as unset', { azureAccessToken: ' ' }, { ADO_PAT: '' }, undefined],
    ['nothing: undefined (exit 2 unless --dry-run)', {}, {}, undefined],
  ])('%s', (_name, flags, env, expected) => {
    const c = resolve(flags, env);
    if (expected === undefined) expect(c).toBeUndefined();
    else expect(c).toMatchObject(expected);
  });

  it('an incomplete service principal names what is missing', () => {
    expect(() => resolve({ azureClientId: 'id' })).toThrow(InputError);
    expect(() => resolve({ azureClientId: 'id' })).toThrow('--azure-client-secret (or AZURE_CLIENT_SECRET), --azure-tenant-id (or AZURE_TENANT_ID) missing');
  });
});

describe('tokenUrl', () => {
  it.each<[Record<string, string>, string]>([
    [{}, 'https://login.microsoftonline.com/my%20tenant/oauth2/v2.0/token'],
    [{ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' }, 'https://login.microsoftonline.us/my%20tenant/oauth2/v2.0/token'],
    [{ AZURE_AUTHORITY_HOST: 'http://127.0.0.1:8080' }, 'http://127.0.0.1:8080/my%20tenant/oauth2/v2.0/token'],
    [{ AZURE_AUTHORITY_HOST: 'http://127.1.2.3' }, 'http://127.1.2.3/my%20tenant/oauth2/v2.0/token'],
    [{ AZURE_AUTHORITY_HOST: 'http://localhost:8080' }, 'http://localhost:8080/my%20tenant/oauth2/v2.0/token'],
    [{ AZURE_AUTHORITY_HOST: 'http://[::1]:8080' }, 'http://[::1]:8080/my%20tenant/oauth2/v2.0/token'],
  ])('%j → %s', (env, url) => expect(tokenUrl(env, 'my tenant')).toBe(url));

  it.each(['http://login.example.com', 'http://127.login.example.com', 'http://10.0.0.1:8080'])('refuses plain HTTP off loopback (%s): the client secret would travel in clear', (host) => {
    expect(() => tokenUrl({ AZURE_AUTHORITY_HOST: host }, 't')).toThrow(/must use https/);
  });
});

describe('tokenScheme and describeCredential', () => {
  it.each([
    ['a 52-character PAT', 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst', 'basic'],
    ['an 84-character PAT', `${'x'.repeat(76)}AZDO1234`, 'basic'],
    ['an Entra ID access token (JWT)', 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiI0OTkifQ.c2lnbmF0dXJl', 'bearer'],
  ])('%s → %s', (_name, token, scheme) => expect(tokenScheme(token)).toBe(scheme));

  it('shows where the credential comes from and never its secret', () => {
    const pat = describeCredential({ kind: 'token', source: 'ADO_PAT', token: 'secret-pat' });
    expect(pat).toEqual({ source: 'ADO_PAT', scheme: 'basic', token: '***' });
    const sp = describeCredential(resolve(SP_FLAGS));
    expect(sp).toMatchObject({ clientId: 'flag-id', tenantId: 'flag-tenant', clientSecret: '***', scope: ADO_SCOPE });
    expect(JSON.stringify(sp)).not.toContain('flag-secret');
    expect(describeCredential(undefined).source).toBe('none');
  });
});

describe('service principal token against the fake identity endpoint', () => {
  let fake: FakeAdo | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  it('gets a client-credentials token for Azure DevOps and records every secret', async () => {
    fake = await startFakeAdo({ servicePrincipal: { tenantId: 't1', clientId: 'c1', clientSecret: 's3cret!' } });
    const c = resolve({ azureClientId: 'c1', azureClientSecret: 's3cret!', azureTenantId: 't1' }, { AZURE_AUTHORITY_HOST: fake.url });
    const ctx = testContext();
    const auth = await authToken(c!, { attempts: 1, delayMs: 1 }, ctx);
    expect(auth).toEqual({ scheme: 'bearer', token: fake.issuedTokens[0] });
    expect([...ctx.log.secrets]).toEqual(expect.arrayContaining(['s3cret!', 's3cret%21', fake.issuedTokens[0]]));
    const request = fake.requests[0]!;
    expect(request.url).toBe('/t1/oauth2/v2.0/token');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({ client_id: 'c1', client_secret: 's3cret!', grant_type: 'client_credentials', scope: ADO_SCOPE });
  });

  it('a refused secret is final (401 not retried) and the error carries the identity platform\'s reason', async () => {
    fake = await startFakeAdo({ servicePrincipal: { tenantId: 't1', clientId: 'c1', clientSecret: 'right' } });
    const c = resolve({ azureClientId: 'c1', azureClientSecret: 'wrong', azureTenantId: 't1' }, { AZURE_AUTHORITY_HOST: fake.url });
    if (c?.kind !== 'service-principal') throw new Error('expected a service principal');
    await expect(servicePrincipalToken(c, { attempts: 3, delayMs: 1 }, testContext())).rejects.toThrow('(invalid_client: AADSTS7000215: Invalid client secret provided.)');
    expect(fake.requests).toHaveLength(1);
  });

  it('a 503 from the identity platform is tried again after the ado-retry-strategy wait, which the run context\'s sleep waits', async () => {
    fake = await startFakeAdo({ servicePrincipal: { tenantId: 't1', clientId: 'c1', clientSecret: 's' } });
    const proxy = await startFaultProxy(new URL(fake.url).host, [{ times: 1, fault: { status: 503 } }]);
    try {
      const c = resolve({ azureClientId: 'c1', azureClientSecret: 's', azureTenantId: 't1' }, { AZURE_AUTHORITY_HOST: proxy.url });
      const waits: number[] = [];
      const auth = await authToken(c!, { attempts: 2, delayMs: 60_000 }, testContext({ sleep: async (ms) => void waits.push(ms) }));
      expect(auth).toEqual({ scheme: 'bearer', token: fake.issuedTokens[0] });
      expect(proxy.seen.map((r) => r.status)).toEqual([503, 200]);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(45_000);
    } finally {
      await proxy.close();
    }
  });

  it('a PAT is sent as Basic and its encoded header is a secret too', async () => {
    const ctx = testContext();
    const auth = await authToken({ kind: 'token', source: 'ADO_PAT', token: 'my-pat' }, { attempts: 1, delayMs: 1 }, ctx);
    expect(auth).toEqual({ scheme: 'basic', token: 'my-pat' });
    expect([...ctx.log.secrets].sort()).toEqual(['my-pat', Buffer.from('PAT:my-pat').toString('base64')].sort());
  });
});
