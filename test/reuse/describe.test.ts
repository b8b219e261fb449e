import { describe, expect, it } from 'vitest';
import type { Inputs } from '../../src/inputs/index.js';
import { describeInputs, inputsListing } from '../../src/reuse/describe.js';

const H = (c: string) => `sha256:${c.repeat(64)}`;
const inputs: Inputs = {
  version: 2,
  digest: H('d'),
  files: 2,
  directories: 0,
  bytes: 12,
  dockerfile: H('f'),
  buildArgs: { FLAVOUR: 'blue', NPM_TOKEN: 'npm_s3cr3t', 'API_KEY@build': 'k3y', EMPTY: null },
  platforms: ['linux/amd64'],
  baseImages: [{ name: 'r.io/base:1', digest: H('b') }],
  resolved: true,
  reusable: true,
  ignoreFile: '.dockerignore',
};

describe('what the log says about inputs', () => {
  it('--debug lists every input with its hash; values of secret-looking args are masked', () => {
    const lines = inputsListing(inputs, [{ path: 'a.txt', type: 'file', mode: '0644', size: 12, sha256: H('a') }]);
    expect(lines).toEqual([
      'image-builder-inputs 2',
      `dockerfile ${H('f')}`,
      'target null',
      'platform "linux/amd64"',
      'arg "API_KEY@build" "***"',
      'arg "EMPTY" null',
      'arg "FLAVOUR" "blue"',
      'arg "NPM_TOKEN" "***"',
      `base "r.io/base:1" "${H('b')}"`,
      `file "a.txt" 0644 ${H('a')}`,
    ]);
  });

  it('why an image matched: names only, never argument values', () => {
    const line = describeInputs(inputs);
    expect(line).toBe(
      `its tag names the inputs digest of this build, ${H('d')}, over Dockerfile ${H('f')}; 2 context files (12 bytes, .dockerignore applied); ` +
        `declared build args FLAVOUR, NPM_TOKEN, API_KEY@build, EMPTY; platforms linux/amd64; base r.io/base:1@${H('b')}`,
    );
    expect(line).not.toContain('s3cr3t');
  });
});
