import { describe, expect, it } from 'vitest';
import { baseImageReference } from '../../src/registry/base-image.js';

describe('baseImageReference: what Docker pulls for a FROM name', () => {
  const D = `sha256:${'a'.repeat(64)}`;
  it.each<[string, object | RegExp]>([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36' }],
    ['team/tool:2', { registry: 'docker.io', repository: 'team/tool', tag: '2' }],
    ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['127.0.0.1:5000/fixtures/shell:1', { registry: '127.0.0.1:5000', repository: 'fixtures/shell', tag: '1' }],
    ['localhost/x', { registry: 'localhost', repository: 'x', tag: 'latest' }],
    ['europe-docker.pkg.dev/p/base', { registry: 'europe-docker.pkg.dev', repository: 'p/base', tag: 'latest' }],
    ['127.0.0.1:5000/app@' + D, { registry: '127.0.0.1:5000', repository: 'app', digest: D }],
    ['${BASE}', /still names a variable/],
    ['Upper/Case', /is not an image reference/],
  ])('%s', (name, expected) => {
    const ref = baseImageReference(name);
    if (expected instanceof RegExp) expect(ref).toMatch(expected);
    else expect(ref).toEqual(expect.objectContaining(expected));
  });
});
