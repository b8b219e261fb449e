import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { batches } from '../../src/inputs/tool.js';
import { parseGetfattr, readXattrs, restoreDump } from '../../src/inputs/xattr.js';
import { removeTempDirs, tempDir } from '../support/tools.js';
import { getXattrs, makeContext, setXattr, xattrsSupported } from './fixture.js';

afterAll(removeTempDirs);

describe('parseGetfattr: getfattr -d -m - -e hex output', () => {
  it('blocks per file, names and paths unescaped (\\ooo), values in lowercase hex, security.selinux left out', () => {
    const output = Buffer.concat([
      Buffer.from(
        [
          '# file: a',
          'security.capability=0x0100000200200000000000000000000000000000',
          'security.selinux=0x73797374656d5f753a6f626a6563745f723a7330',
          'user.we ird\\075n=0x31',
          'user.x=0xABcd',
          '',
          '# file: n\\012l',
          'user.empty=0x',
          '',
          '# file: back\\134slash',
          'user.x=0x00',
          '',
          '# file: only-selinux',
          'security.selinux=0x00',
          '',
          '# file: ',
        ].join('\n'),
      ),
      Buffer.from('é\nuser.u=0x01\n\n', 'utf8'), // getfattr leaves UTF-8 bytes as they are
    ]);
    expect(Object.fromEntries(parseGetfattr(output))).toEqual({
      a: { 'security.capability': '0100000200200000000000000000000000000000', 'user.we ird=n': '31', 'user.x': 'abcd' },
      'n\nl': { 'user.empty': '' },
      'back\\slash': { 'user.x': '00' },
      é: { 'user.u': '01' },
    });
  });

  it('refuses a value that is not hex', () => {
    expect(() => parseGetfattr(Buffer.from('# file: a\nuser.x="text"\n\n'))).toThrow(/unexpected getfattr value for user.x/);
  });

  it('restoreDump escapes what setfattr unescapes', () => {
    expect(restoreDump([{ path: 'n\nl =\\é', xattrs: { 'user.a=b': '00' } }, { path: 'none' }])).toBe('# file: n\\012l\\040\\075\\134\\303\\251\nuser.a\\075b=0x00\n\n');
    const dump = restoreDump([{ path: 'n\nl =\\é', xattrs: { 'user.a=b': '00', 'user.e': '' } }]);
    expect(Object.fromEntries(parseGetfattr(Buffer.from(dump)))).toEqual({ 'n\nl =\\é': { 'user.a=b': '00', 'user.e': '' } });
  });
});

describe('batches: argv well under ARG_MAX', () => {
  it('splits by bytes and by count, never loses or reorders a path', () => {
    const paths = Array.from({ length: 10_000 }, (_, i) => `dir/${'x'.repeat(i % 200)}/${i}`);
    const split = batches(paths);
    expect(split.length).toBeGreaterThan(1);
    expect(split.flat()).toEqual(paths);
    for (const batch of split) expect(batch.reduce((n, p) => n + Buffer.byteLength(p) + 9, 0)).toBeLessThanOrEqual(96 * 1024);
    expect(batches([])).toEqual([]);
  });
});

describe.skipIf(!xattrsSupported('user.probe'))('readXattrs: one getfattr per batch, relative paths, links not followed', () => {
  it('reads odd names back exactly, and nothing for entries without attributes', async () => {
    const names = ['plain', '-dash', 'sp ace', 'new\nline', 'back\\slash', 'eq=ual', 'ünï', 'd/nested'];
    const dir = makeContext(Object.fromEntries(names.map((n) => [n, 'x'])));
    writeFileSync(path.join(dir, 'bare'), '');
    for (const name of names) setXattr(path.join(dir, name), 'user.name', `0x${Buffer.from(name).toString('hex')}`);
    setXattr(path.join(dir, 'd'), 'user.dir', '1');
    const found = await readXattrs(dir, [...names, 'bare', 'd']);
    expect(Object.fromEntries(found)).toEqual({
      ...Object.fromEntries(names.map((n) => [n, { 'user.name': Buffer.from(n).toString('hex') }])),
      d: { 'user.dir': '31' },
    });
    expect(getXattrs(path.join(dir, 'plain'))).toEqual({ 'user.name': '0x706c61696e' });
  });

  it('many paths: several batches', async () => {
    const dir = tempDir('many');
    const paths = Array.from({ length: 1200 }, (_, i) => `${'long-name-'.repeat(8)}${i}`);
    for (const p of paths) writeFileSync(path.join(dir, p), '');
    setXattr(path.join(dir, paths[1199] as string), 'user.last', '1');
    expect(batches(paths).length).toBeGreaterThan(1);
    expect(Object.fromEntries(await readXattrs(dir, paths))).toEqual({ [paths[1199] as string]: { 'user.last': '31' } });
  });
});

describe('readXattrs: failures', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('getfattr not installed: an InputError saying what to do', async () => {
    process.env.PATH = tempDir('empty-path');
    const error = await readXattrs(tempDir('ctx'), ['a']).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      'reuse needs getfattr to read the extended attributes of the build context (they are inputs of the image): install it (apt-get install attr), or turn reuse off with --no-reuse',
    );
  });

  it('a path that vanished: the context changed while it was read', async () => {
    const dir = tempDir('ctx');
    await expect(readXattrs(dir, ['gone'])).rejects.toThrow(`cannot read the extended attributes of gone in the build context ${dir}: it changed while the context was read`);
  });

  it('"Operation not supported" (a filesystem without xattrs): no attributes, no error', async () => {
    // A stand-in speaking getfattr's words, since no such filesystem can be mounted here.
    const bin = tempDir('bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'getfattr'), '#!/bin/sh\nfor p; do :; done\necho "getfattr: $p: Operation not supported" >&2\nexit 1\n');
    chmodSync(path.join(bin, 'getfattr'), 0o755);
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    expect((await readXattrs(tempDir('ctx'), ['a', 'b'])).size).toBe(0);
  });
});
