import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalLines, computeInputs } from '../../src/inputs/index.js';
import { removeTempDirs } from '../support/tools.js';
import { makeContext } from './fixture.js';

afterAll(removeTempDirs);

const H = (c: string): string => `sha256:${c.repeat(64)}`;

describe('the canonical description, version 1', () => {
  it('is this text, line by line (a change here needs a new version)', () => {
    const text = [
      ...canonicalLines({
        dockerfile: H('d'),
        target: 'release',
        platforms: ['linux/arm64', 'linux/amd64'],
        buildArgs: { B: null, A: 'x "y"\n' },
        baseImages: [{ name: 'golang:1.22', digest: H('1') }, { name: 'alpine:3' }],
        entries: [
          { path: 'b', type: 'symlink', mode: '0777', target: 'a b' },
          { path: 'a', type: 'file', mode: '0644', size: 1, sha256: H('a') },
          { path: 'd', type: 'dir', mode: '0755' },
          { path: 'p', type: 'fifo', mode: '0600' },
        ],
      }),
    ].join('');
    expect(text).toBe(
      [
        'image-builder-inputs 1',
        `dockerfile ${H('d')}`,
        'target "release"',
        'platform "linux/amd64"',
        'platform "linux/arm64"',
        'arg "A" "x \\"y\\"\\n"',
        'arg "B" null',
        'base "alpine:3" null',
        `base "golang:1.22" "${H('1')}"`,
        `file "a" 0644 ${H('a')}`,
        'symlink "b" "a b"',
        'dir "d" 0755',
        'fifo "p" 0600',
        '',
      ].join('\n'),
    );
  });

  it('the digest is sha256 of that text, and the returned data determines it', async () => {
    const dir = makeContext({ Dockerfile: 'ARG V=1\nFROM alpine:${V}\n', 'x/y': 'z', l: { symlink: 'x/y' } });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: ['linux/amd64'], target: 't' }, { entries: true });
    const text = [...canonicalLines({ ...inputs, entries: inputs.entries ?? [] })].join('');
    expect(inputs.digest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    expect(text).not.toContain(dir); // no absolute paths
  });
});
