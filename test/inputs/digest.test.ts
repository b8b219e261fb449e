import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, linkSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeInputs, type InputsUnit } from '../../src/inputs/index.js';
import { findExecutable, removeTempDirs } from '../support/tools.js';
import { isRoot, makeContext, setXattr, xattrsSupported, type Spec } from './fixture.js';

afterAll(removeTempDirs);

const DOCKERFILE = `ARG GO_VERSION=1.22
FROM golang:\${GO_VERSION} AS build
ARG COMMIT_SHA
COPY . /src
FROM scratch
COPY --from=build /src /src
`;

const CONTEXT: Record<string, Spec> = {
  Dockerfile: DOCKERFILE,
  '.dockerignore': '*.log\nsecret/\n',
  'main.go': 'package main\n',
  'lib/util.go': 'package lib\n',
  'app.log': 'noise\n',
  'secret/key': 'hunter2\n',
  empty: { dir: true },
  link: { symlink: 'main.go' },
  'outside-link': { symlink: '../outside.txt' },
};

const SETTINGS: Omit<InputsUnit, 'contextDir'> = {
  dockerfilePath: 'Dockerfile',
  buildArgs: { COMMIT_SHA: 'abc' },
  platforms: ['linux/amd64', 'linux/arm64'],
};

interface Case {
  name: string;
  /** Sets the context up on disk before the first digest. */
  prepare?: (dir: string) => void;
  /** Changes the context on disk. */
  change?: (dir: string) => void;
  /** What the unit gives, before (default SETTINGS) and after (default: as before). */
  initial?: Partial<Omit<InputsUnit, 'contextDir'>>;
  settings?: Partial<Omit<InputsUnit, 'contextDir'>>;
  /** Base image digests the caller resolved, before and after. */
  digests?: [Record<string, string> | undefined, Record<string, string> | undefined];
  expected: 'same' | 'different';
}

const GOLANG = 'golang:1.22';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const cases: Case[] = [
  { name: 'nothing changed', expected: 'same' },
  { name: 'a file rewritten with the same bytes (new mtime)', change: (d) => writeFileSync(path.join(d, 'main.go'), 'package main\n'), expected: 'same' },
  { name: 'one byte changed in a context file', change: (d) => writeFileSync(path.join(d, 'main.go'), 'package maim\n'), expected: 'different' },
  { name: 'a byte appended in a nested file', change: (d) => appendFileSync(path.join(d, 'lib/util.go'), ' '), expected: 'different' },
  { name: 'a .dockerignored file changed', change: (d) => writeFileSync(path.join(d, 'app.log'), 'other noise\n'), expected: 'same' },
  { name: 'a file in a .dockerignored directory changed', change: (d) => writeFileSync(path.join(d, 'secret/key'), 'hunter3\n'), expected: 'same' },
  { name: 'a new .dockerignored file', change: (d) => writeFileSync(path.join(d, 'new.log'), 'x'), expected: 'same' },
  { name: 'a new file', change: (d) => writeFileSync(path.join(d, 'new.go'), 'x'), expected: 'different' },
  { name: 'a file renamed', change: (d) => renameSync(path.join(d, 'lib/util.go'), path.join(d, 'lib/utils.go')), expected: 'different' },
  { name: 'chmod +x', change: (d) => chmodSync(path.join(d, 'main.go'), 0o755), expected: 'different' },
  { name: 'a directory chmod', change: (d) => chmodSync(path.join(d, 'lib'), 0o700), expected: 'different' },
  { name: 'an empty directory removed', change: (d) => rmdirSync(path.join(d, 'empty')), expected: 'different' },
  { name: 'a file replaced by a symlink to the same content', change: (d) => (unlinkSync(path.join(d, 'main.go')), symlinkSync('lib/util.go', path.join(d, 'main.go'))), expected: 'different' },
  { name: 'a symlink retargeted', change: (d) => (unlinkSync(path.join(d, 'link')), symlinkSync('lib/util.go', path.join(d, 'link'))), expected: 'different' },
  { name: "a symlink's target outside the context changed", change: (d) => writeFileSync(path.join(d, '../outside.txt'), 'changed'), expected: 'same' },
  { name: 'the Dockerfile changed (a comment)', change: (d) => appendFileSync(path.join(d, 'Dockerfile'), '# comment\n'), expected: 'different' },
  { name: '.dockerignore re-includes an ignored file', change: (d) => writeFileSync(path.join(d, '.dockerignore'), '*.log\nsecret/\n!app.log\n'), expected: 'different' },
  { name: 'an undeclared build arg changed', settings: { buildArgs: { COMMIT_SHA: 'abc', TAG_default_tag: 'v2' } }, expected: 'same' },
  { name: 'a declared build arg changed', settings: { buildArgs: { COMMIT_SHA: 'def' } }, expected: 'different' },
  { name: 'a declared build arg given its default explicitly', settings: { buildArgs: { COMMIT_SHA: 'abc', GO_VERSION: '1.22' } }, expected: 'same' },
  { name: 'a declared build arg given a new value', settings: { buildArgs: { COMMIT_SHA: 'abc', GO_VERSION: '1.23' } }, expected: 'different' },
  { name: 'a declared build arg no longer given', settings: { buildArgs: {} }, expected: 'different' },
  { name: 'a declared build arg without default: not given vs given empty', initial: { buildArgs: {} }, settings: { buildArgs: { COMMIT_SHA: '' } }, expected: 'different' },
  { name: 'platforms in another order', settings: { platforms: ['linux/arm64', 'linux/amd64'] }, expected: 'same' },
  { name: 'one platform less', settings: { platforms: ['linux/amd64'] }, expected: 'different' },
  { name: 'a target', settings: { target: 'build' }, expected: 'different' },
  { name: 'the same base image digest', digests: [{ [GOLANG]: D1 }, { [GOLANG]: D1 }], expected: 'same' },
  { name: 'a new base image under the same tag', digests: [{ [GOLANG]: D1 }, { [GOLANG]: D2 }], expected: 'different' },
  { name: 'a base image resolved vs unresolved', digests: [undefined, { [GOLANG]: D1 }], expected: 'different' },
  { name: 'a digest given for an image the build does not pull', digests: [undefined, { 'alpine:3': D1 }], expected: 'same' },
  {
    name: 'two equal copies become hard links of each other',
    prepare: (d) => writeFileSync(path.join(d, 'copy.go'), 'package main\n'),
    change: (d) => (unlinkSync(path.join(d, 'copy.go')), linkSync(path.join(d, 'main.go'), path.join(d, 'copy.go'))),
    expected: 'different',
  },
  {
    name: 'a hard link to an ignored file is a plain file',
    prepare: (d) => writeFileSync(path.join(d, 'copy.go'), 'noise\n'),
    change: (d) => (unlinkSync(path.join(d, 'copy.go')), linkSync(path.join(d, 'app.log'), path.join(d, 'copy.go'))),
    expected: 'same',
  },
  { name: 'a --label given', settings: { labels: { 'org.example.team': 'blue' } }, expected: 'different' },
  { name: 'a --label value changed', initial: { labels: { 'org.example.team': 'blue' } }, settings: { labels: { 'org.example.team': 'red' } }, expected: 'different' },
  { name: 'the same --labels in another order', initial: { labels: { a: '1', b: '2' } }, settings: { labels: { b: '2', a: '1' } }, expected: 'same' },
  { name: 'an --annotation value changed', initial: { annotations: { 'org.opencontainers.image.url': 'a' } }, settings: { annotations: { 'org.opencontainers.image.url': 'b' } }, expected: 'different' },
  { name: 'a label turned into an annotation', initial: { labels: { k: 'v' } }, settings: { annotations: { k: 'v' } }, expected: 'different' },
  { name: 'HTTP_PROXY given, though undeclared', settings: { buildArgs: { COMMIT_SHA: 'abc', HTTP_PROXY: 'http://proxy:3128' } }, expected: 'different' },
  { name: 'http_proxy given, though undeclared', settings: { buildArgs: { COMMIT_SHA: 'abc', http_proxy: 'http://proxy:3128' } }, expected: 'different' },
  {
    name: 'HTTP_PROXY vs http_proxy',
    initial: { buildArgs: { COMMIT_SHA: 'abc', HTTP_PROXY: 'http://proxy:3128' } },
    settings: { buildArgs: { COMMIT_SHA: 'abc', http_proxy: 'http://proxy:3128' } },
    expected: 'different',
  },
  { name: 'NO_PROXY changed', initial: { buildArgs: { COMMIT_SHA: 'abc', NO_PROXY: 'a' } }, settings: { buildArgs: { COMMIT_SHA: 'abc', NO_PROXY: 'b' } }, expected: 'different' },
  { name: 'a build secret given', settings: { secrets: ['npm'] }, expected: 'different' },
  { name: 'a build secret with another id', initial: { secrets: ['npm'] }, settings: { secrets: ['npmrc'] }, expected: 'different' },
  { name: 'the same build secrets in another order', initial: { secrets: ['a', 'b'] }, settings: { secrets: ['b', 'a'] }, expected: 'same' },
  { name: 'another platform', initial: { platforms: ['linux/amd64'] }, settings: { platforms: ['linux/arm64'] }, expected: 'different' },
  { name: 'arm variants differ', initial: { platforms: ['linux/arm/v6'] }, settings: { platforms: ['linux/arm/v7'] }, expected: 'different' },
];

const userXattrs = xattrsSupported('user.probe');
const xattrCases: Case[] = [
  { name: 'a user.x xattr added to a file', change: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '1'), expected: 'different' },
  {
    name: 'a user.x xattr changed',
    prepare: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '1'),
    change: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '2'),
    expected: 'different',
  },
  { name: 'a user.x xattr set again to its value', prepare: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '1'), change: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '1'), expected: 'same' },
  { name: 'an empty user.x xattr added', change: (d) => setXattr(path.join(d, 'main.go'), 'user.x', ''), expected: 'different' },
  { name: 'a user.x xattr added to a directory', change: (d) => setXattr(path.join(d, 'lib'), 'user.x', '1'), expected: 'different' },
  { name: 'a user.x xattr on a .dockerignored file', change: (d) => setXattr(path.join(d, 'app.log'), 'user.x', '1'), expected: 'same' },
  {
    name: 'an xattr moved to another file',
    prepare: (d) => setXattr(path.join(d, 'main.go'), 'user.x', '1'),
    change: (d) => (execFileSync('setfattr', ['-x', 'user.x', path.join(d, 'main.go')]), setXattr(path.join(d, 'lib/util.go'), 'user.x', '1')),
    expected: 'different',
  },
];

const CAP_NET_RAW = '0x0100000200200000000000000000000000000000';
const rootCases: Case[] = [
  { name: 'setcap cap_net_raw+ep on a file', change: (d) => execFileSync('setcap', ['cap_net_raw+ep', path.join(d, 'main.go')]), expected: 'different' },
  { name: 'security.capability written by setfattr', change: (d) => setXattr(path.join(d, 'main.go'), 'security.capability', CAP_NET_RAW), expected: 'different' },
  { name: 'a security.selinux label (the machine’s) is ignored', change: (d) => setXattr(path.join(d, 'main.go'), 'security.selinux', 'system_u:object_r:container_file_t:s0'), expected: 'same' },
  { name: 'a trusted.* xattr on a symlink itself', change: (d) => setXattr(path.join(d, 'link'), 'trusted.x', '1'), expected: 'different' },
  {
    name: 'a POSIX ACL (system.posix_acl_access)',
    // user::rw-, user:nobody:r--, group::r--, mask::r--, other::r--
    change: (d) => setXattr(path.join(d, 'main.go'), 'system.posix_acl_access', '0x0200000001000600ffffffff02000400fe00000004000400ffffffff10000400ffffffff20000400ffffffff'),
    expected: 'different',
  },
];

async function digestChange({ prepare, change, initial, settings, digests }: Case): Promise<'same' | 'different'> {
  const dir = makeContext(CONTEXT);
  writeFileSync(path.join(dir, '../outside.txt'), 'outside');
  prepare?.(dir);
  const before = await computeInputs({ contextDir: dir, ...SETTINGS, ...initial }, { baseImageDigests: digests?.[0] });
  change?.(dir);
  const after = await computeInputs({ contextDir: dir, ...SETTINGS, ...initial, ...settings }, { baseImageDigests: digests?.[1] });
  return after.digest === before.digest ? 'same' : 'different';
}

describe.skipIf(!userXattrs)('inputs digest: extended attributes', () => {
  it.each(xattrCases)('$name → $expected', async (c) => {
    expect(await digestChange(c)).toBe(c.expected);
  });
});

describe.skipIf(!isRoot || !userXattrs || !findExecutable('setcap'))('inputs digest: extended attributes only root may set', () => {
  it.each(rootCases)('$name → $expected', async (c) => {
    expect(await digestChange(c)).toBe(c.expected);
  });
});

describe('inputs digest: what changes it', () => {
  it.each(cases)('$name → $expected', async (c) => {
    expect(await digestChange(c)).toBe(c.expected);
  });
});

describe('inputs digest: determinism', () => {
  it('does not depend on where the context is, or the order its files were created in', async () => {
    const forward = makeContext(CONTEXT, 'forward');
    const backward = makeContext(Object.fromEntries(Object.entries(CONTEXT).reverse()), 'backward');
    const [a, b] = await Promise.all([forward, backward].map((dir) => computeInputs({ contextDir: dir, ...SETTINGS })));
    expect(a?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b?.digest).toBe(a?.digest);
  });

  it('returns plain data describing the inputs', async () => {
    const dir = makeContext(CONTEXT);
    const inputs = await computeInputs({ contextDir: dir, ...SETTINGS, buildArgs: { COMMIT_SHA: 'abc', TAG_x: 'y' } });
    expect(JSON.parse(JSON.stringify(inputs))).toEqual(inputs);
    expect(inputs).toMatchObject({
      version: 2,
      files: 6, // Dockerfile, .dockerignore, main.go, lib/util.go, link, outside-link
      directories: 2, // lib, empty
      bytes: DOCKERFILE.length + '*.log\nsecret/\n'.length + 'package main\n'.length + 'package lib\n'.length,
      buildArgs: { COMMIT_SHA: 'abc', GO_VERSION: '1.22' },
      platforms: ['linux/amd64', 'linux/arm64'],
      baseImages: [{ name: 'golang:1.22' }],
      resolved: false,
      reusable: true,
      ignoreFile: '.dockerignore',
    });
    expect(inputs.reason).toBeUndefined();
    expect(inputs.entries).toBeUndefined();
    expect(inputs.dockerfile).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('FROM scratch only: nothing to resolve, so a dry run has the real digest', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: 'a' });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] });
    expect(inputs).toMatchObject({ baseImages: [], resolved: true });
  });

  it('a FROM pinned by digest is resolved by its own reference', async () => {
    const dir = makeContext({ Dockerfile: `FROM alpine:3@${D1}\n` });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] });
    expect(inputs).toMatchObject({ baseImages: [{ name: `alpine:3@${D1}`, digest: D1 }], resolved: true });
  });

  it('lists each entry with its hash on request (--debug)', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', 'a.sh': { content: 'echo\n', mode: 0o755 }, l: { symlink: 'a.sh' }, d: { dir: true, mode: 0o750 } });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] }, { entries: true });
    expect(inputs.entries).toEqual([
      { path: 'Dockerfile', type: 'file', mode: '0644', size: 13, sha256: inputs.dockerfile },
      { path: 'a.sh', type: 'file', mode: '0755', size: 5, sha256: `sha256:${createHash('sha256').update('echo\n').digest('hex')}` },
      { path: 'd', type: 'dir', mode: '0750' },
      { path: 'l', type: 'symlink', mode: '0777', target: 'a.sh' },
    ]);
  });

  it('an ADD of a URL: not reusable, and says why', async () => {
    const dir = makeContext({ Dockerfile: 'FROM alpine:3\nADD https://example.com/a.tgz /a\n' });
    const inputs = await computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] });
    expect(inputs).toMatchObject({
      reusable: false,
      reason: 'line 2 of the Dockerfile: ADD downloads https://example.com/a.tgz, whose content the inputs digest cannot cover: not reused, built every time',
    });
  });

  it('carries the labels, annotations and proxy arguments it hashed', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n' });
    const inputs = await computeInputs({
      contextDir: dir,
      dockerfilePath: 'Dockerfile',
      buildArgs: { https_proxy: 'http://p', OTHER: 'x' },
      platforms: [],
      labels: { b: '2', a: '1' },
      annotations: { c: '3' },
    });
    expect(inputs).toMatchObject({ buildArgs: { https_proxy: 'http://p' }, labels: { a: '1', b: '2' }, annotations: { c: '3' }, reusable: true });
    expect(Object.keys(inputs.labels ?? {})).toEqual(['a', 'b']);
  });

  it('rejects a digest that is not one', async () => {
    const dir = makeContext({ Dockerfile: 'FROM alpine:3\n' });
    await expect(computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] }, { baseImageDigests: { 'alpine:3': 'latest' } })).rejects.toThrow(
      /not a digest for base image alpine:3/,
    );
  });
});

describe('inputs: a variant set shares one context', () => {
  it('each variant counts only its declared arguments', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\nARG KUBECTL_VERSION=unset\nCOPY a /a\n', a: 'a' });
    const unit = (buildArgs: Record<string, string>) => computeInputs({ contextDir: dir, dockerfilePath: 'Dockerfile', buildArgs, platforms: [] });
    const [a, b, c] = await Promise.all([unit({ KUBECTL_VERSION: '1.30' }), unit({ KUBECTL_VERSION: '1.31' }), unit({ KUBECTL_VERSION: '1.30', OTHER: 'x' })]);
    expect(a?.digest).not.toBe(b?.digest);
    expect(c?.digest).toBe(a?.digest);
  });
});
