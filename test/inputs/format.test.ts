import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalLines, computeInputs } from '../../src/inputs/index.js';
import { removeTempDirs } from '../support/tools.js';
import { makeContext } from './fixture.js';

afterAll(removeTempDirs);

const H = (c: string): string => `sha256:${c.repeat(64)}`;

describe('the canonical description, version 2', () => {
  it('is this text, line by line (a change here needs a new version)', () => {
    const text = [
      ...canonicalLines({
        dockerfile: H('d'),
        target: 'release',
        platforms: ['linux/arm64', 'linux/amd64'],
        buildArgs: { B: null, A: 'x "y"\n', HTTP_PROXY: 'http://proxy:3128' },
        labels: { 'org.example.team': 'blue', 'a.b': '"q"' },
        annotations: { 'org.opencontainers.image.description': 'an app' },
        baseImages: [{ name: 'golang:1.22', digest: H('1') }, { name: 'alpine:3' }],
        entries: [
          { path: 'b', type: 'symlink', mode: '0777', target: 'a b', xattrs: { 'trusted.t': '00' } },
          { path: 'a', type: 'file', mode: '4755', size: 1, sha256: H('a'), xattrs: { 'user.x': '6869', 'security.capability': '0100000200200000000000000000000000000000', 'user.empty': '' } },
          { path: 'c', type: 'file', mode: '4755', size: 1, sha256: H('a'), hardlink: 'a', xattrs: { 'user.x': '6869' } },
          { path: 'd', type: 'dir', mode: '0755', xattrs: { 'system.posix_acl_default': '02' } },
          { path: 'p', type: 'fifo', mode: '0600' },
        ],
      }),
    ].join('');
    expect(text).toBe(
      [
        'image-builder-inputs 2',
        `dockerfile ${H('d')}`,
        'target "release"',
        'platform "linux/amd64"',
        'platform "linux/arm64"',
        'arg "A" "x \\"y\\"\\n"',
        'arg "B" null',
        'arg "HTTP_PROXY" "http://proxy:3128"',
        'label "a.b" "\\"q\\""',
        'label "org.example.team" "blue"',
        'annotation "org.opencontainers.image.description" "an app"',
        'base "alpine:3" null',
        `base "golang:1.22" "${H('1')}"`,
        `file "a" 4755 ${H('a')}`,
        'xattr "a" "security.capability" 0100000200200000000000000000000000000000',
        'xattr "a" "user.empty" ',
        'xattr "a" "user.x" 6869',
        'symlink "b" "a b"',
        'xattr "b" "trusted.t" 00',
        'hardlink "c" "a"',
        'xattr "c" "user.x" 6869',
        'dir "d" 0755',
        'xattr "d" "system.posix_acl_default" 02',
        'fifo "p" 0600',
        '',
      ].join('\n'),
    );
  });

  it('build secrets: their ids, sorted, after the annotations; a text without any is as it was', () => {
    const base = { dockerfile: H('d'), platforms: [], buildArgs: {}, annotations: { k: 'v' }, baseImages: [{ name: 'alpine:3' }], entries: [] };
    const without = [...canonicalLines(base)];
    expect([...canonicalLines({ ...base, secrets: [] })]).toEqual(without);
    const lines = [...canonicalLines({ ...base, secrets: ['npm', 'gh "x"'] })];
    expect(lines.slice(-4)).toEqual(['annotation "k" "v"\n', 'secret "gh \\"x\\""\n', 'secret "npm"\n', 'base "alpine:3" null\n']);
  });

  it('the digest is sha256 of that text, and the returned data determines it', async () => {
    const dir = makeContext({ Dockerfile: 'ARG V=1\nFROM alpine:${V}\n', 'x/y': 'z', l: { symlink: 'x/y' } });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: ['linux/amd64'], target: 't', secrets: ['tok'] }, { entries: true });
    expect(inputs.secrets).toEqual(['tok']);
    const text = [...canonicalLines({ ...inputs, entries: inputs.entries ?? [] })].join('');
    expect(inputs.digest).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
    expect(text).not.toContain(dir); // no absolute paths
  });

  it('refuses an xattr value that is not lowercase hex: no value can forge a line', () => {
    const entry = { path: 'a', type: 'file' as const, mode: '0644', sha256: H('a'), xattrs: { 'user.x': '00\nfile "b" 0644 x' } };
    expect(() => [...canonicalLines({ dockerfile: H('d'), platforms: [], buildArgs: {}, baseImages: [], entries: [entry] })]).toThrow(/not lowercase hex/);
  });
});
