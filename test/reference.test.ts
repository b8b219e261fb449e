import { describe, expect, it } from 'vitest';
import { diskTransport, isHttpsOrLoopback, isImageName, isLoopbackHost, parseReference } from '../src/reference.js';

describe('isLoopbackHost: plain HTTP only for loopback registries', () => {
  it.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1', true],
    ['127.0.0.1:5000', true],
    ['127.255.10.3:80', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['127.0.0.256', false],
    ['128.0.0.1', false],
    ['10.0.0.1:5000', false],
    ['localhost.example.com', false],
    ['europe-docker.pkg.dev', false],
    ['127.0.0.1.nip.io', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('parseReference', () => {
  it.each([
    ['europe-docker.pkg.dev/kyma-project/prod/test-infra/ginkgo:v20240101-1234abcd', { registry: 'europe-docker.pkg.dev', repository: 'kyma-project/prod/test-infra/ginkgo', tag: 'v20240101-1234abcd' }],
    ['127.0.0.1:5000/app:latest', { registry: '127.0.0.1:5000', repository: 'app', tag: 'latest' }],
    ['[::1]:5000/a/b:1.0', { registry: '[::1]:5000', repository: 'a/b', tag: '1.0' }],
    [`ghcr.io/o/app@sha256:${'a'.repeat(64)}`, { registry: 'ghcr.io', repository: 'o/app', digest: `sha256:${'a'.repeat(64)}` }],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toMatchObject(expected);
  });

  it.each(['app:latest', 'ghcr.io/App:latest', 'ghcr.io/app:-bad', 'ghcr.io//app:x', 'ghcr.io/app:x y', `ghcr.io/app:${'t'.repeat(129)}`])('refuses %s', (text) => {
    expect(parseReference(text)).toBeUndefined();
  });
});

describe('names, repositories and disk registries', () => {
  it.each([
    ['test-infra/ginkgo', true],
    ['app', true],
    ['a.b_c/d-e', true],
    ['App', false],
    ['/app', false],
    ['app/', false],
    ['a--b', true],
    ['a..b', false],
  ])('isImageName(%s) → %s', (name, expected) => {
    expect(isImageName(name)).toBe(expected);
  });

  it.each([
    ['oci:/tmp/layout', { transport: 'oci', path: '/tmp/layout' }],
    ['oci-archive:out/image.tar', { transport: 'oci-archive', path: 'out/image.tar' }],
    ['europe-docker.pkg.dev/p', undefined],
  ])('diskTransport(%s)', (repo, expected) => {
    expect(diskTransport(repo)).toEqual(expected);
  });
});

describe('isHttpsOrLoopback: where a secret may travel', () => {
  it.each<[string, boolean]>([
    ['https://signing.example/sign', true],
    ['https://127.0.0.1:8443/x', true],
    ['http://127.0.0.1:8080/token', true],
    ['http://127.3.2.1/x', true],
    ['http://localhost:5000/x', true],
    ['http://[::1]:5000/x', true],
    ['http://127.0.0.1.nip.io/x', false],
    ['http://token-endpoint.invalid/x', false],
    ['http://10.0.0.1/x', false],
    ['ftp://127.0.0.1/x', false],
  ])('%s → %s', (text, expected) => {
    expect(isHttpsOrLoopback(new URL(text))).toBe(expected);
  });
});
