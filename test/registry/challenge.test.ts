import { describe, expect, it } from 'vitest';
import { parseChallenge, tokenOf, tokenUrl } from '../../src/registry/challenge.js';

describe('parseChallenge: WWW-Authenticate', () => {
  it.each([
    [
      'Docker Hub',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ],
    [
      'distribution with an error, commas inside quotes',
      'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:a/b:pull,push",error="insufficient_scope"',
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'svc', scope: 'repository:a/b:pull,push', error: 'insufficient_scope' } },
    ],
    ['Basic', 'Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ['spaces, case and bare values', '  BEARER Realm = https://t.example/token , service=svc', { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 'svc' } }],
    ['escaped quotes', 'Basic realm="say \\"hi\\""', { scheme: 'basic', params: { realm: 'say "hi"' } }],
    ['scheme only', 'Negotiate', { scheme: 'negotiate', params: {} }],
  ])('%s', (_, header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });

  it.each([[null], [undefined], [''], ['  '], ['"quoted"']])('nothing usable in %j', (header) => {
    expect(parseChallenge(header)).toBeUndefined();
  });
});

describe('tokenUrl', () => {
  it('uses the scope the registry asked for', () => {
    const url = tokenUrl({ scheme: 'bearer', params: { realm: 'https://t.example/token?x=1', service: 'svc', scope: 'repository:a:pull' } }, 'repository:b:pull');
    expect(url.toString()).toBe('https://t.example/token?x=1&service=svc&scope=repository%3Aa%3Apull');
  });

  it('falls back to our scope; several scopes become several parameters', () => {
    expect(tokenUrl({ scheme: 'bearer', params: { realm: 'https://t.example/token' } }, 'repository:b:pull').searchParams.getAll('scope')).toEqual(['repository:b:pull']);
    expect(tokenUrl({ scheme: 'bearer', params: { realm: 'https://t.example/t', scope: 'repository:a:pull repository:b:pull' } }, '').searchParams.getAll('scope')).toEqual([
      'repository:a:pull',
      'repository:b:pull',
    ]);
  });

  it('throws without a realm', () => {
    expect(() => tokenUrl({ scheme: 'bearer', params: {} }, 'x')).toThrow();
  });
});

describe('tokenOf', () => {
  it.each([
    [{ token: 'a' }, 'a'],
    [{ access_token: 'b' }, 'b'],
    [{ token: '', access_token: 'c' }, 'c'],
    [{ token: 1 }, undefined],
    [null, undefined],
    ['x', undefined],
  ])('%j → %s', (answer, token) => expect(tokenOf(answer)).toBe(token));
});
