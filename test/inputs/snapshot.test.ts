import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { inputsOf, scanInputs, type BuildSettings, type InputsScan } from '../../src/inputs/index.js';
import { findExecutable, removeTempDirs, tempDir } from '../support/tools.js';
import { getXattrs, isRoot, makeContext, setXattr, xattrsSupported } from './fixture.js';

afterAll(removeTempDirs);

const SETTINGS: BuildSettings = { buildArgs: {}, platforms: ['linux/amd64'] };
const digestOf = (scan: InputsScan): string => inputsOf(scan, SETTINGS).digest;
const snapshotDir = (): string => tempDir('snapshot'); // mkdtemp: empty, 0700
const snap = async (contextDir: string, dockerfilePath = 'Dockerfile'): Promise<InputsScan & { snapshot: NonNullable<InputsScan['snapshot']> }> => {
  const scan = await scanInputs({ contextDir, dockerfilePath }, { snapshotDir: snapshotDir() });
  if (!scan.snapshot) throw new Error('no snapshot');
  return scan as InputsScan & { snapshot: NonNullable<InputsScan['snapshot']> };
};
/** The snapshot read back as a context of its own: what a builder would be given. */
const rescan = (scan: { snapshot: NonNullable<InputsScan['snapshot']> }): Promise<InputsScan> =>
  scanInputs({ contextDir: scan.snapshot.context, dockerfilePath: scan.snapshot.dockerfile });
const modeOf = (file: string): string => (lstatSync(file).mode & 0o7777).toString(8).padStart(4, '0');

/** Every path under dir, directories with a trailing slash, sorted. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((d) => {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    return d.isDirectory() ? [`${rel}/`, ...tree(dir, rel)] : [rel];
  });
}

describe('the snapshot holds exactly what is sent', () => {
  it('content, modes (setuid, sticky, private), symlink text, empty dirs, fifos; ignored files absent', async () => {
    const dir = makeContext({
      Dockerfile: 'FROM scratch\nCOPY . /\n',
      '.dockerignore': '*.log\nsecret/\n!secret/public\n',
      'bin/tool': { content: '#!/bin/sh\n', mode: 0o4755 },
      'src/main.go': 'package main\n',
      'app.log': 'noise',
      'secret/key': 'hunter2',
      'secret/public': 'hello',
      tmp: { dir: true, mode: 0o1777 },
      'private/x': { dir: true, mode: 0o700 },
      link: { symlink: '../outside/nowhere' },
      abs: { symlink: '/etc/passwd' },
    });
    execFileSync('mkfifo', ['-m', '0640', path.join(dir, 'pipe')]);
    const scan = await snap(dir);
    const ctx = scan.snapshot.context;
    expect(tree(ctx)).toEqual(['.dockerignore', 'Dockerfile', 'abs', 'bin/', 'bin/tool', 'link', 'pipe', 'private/', 'private/x/', 'secret/', 'secret/public', 'src/', 'src/main.go', 'tmp/']);
    expect(readFileSync(path.join(ctx, 'src/main.go'), 'utf8')).toBe('package main\n');
    expect(readFileSync(path.join(ctx, 'secret/public'), 'utf8')).toBe('hello');
    expect(modeOf(path.join(ctx, 'bin/tool'))).toBe('4755');
    expect(modeOf(path.join(ctx, 'tmp'))).toBe('1777');
    expect(modeOf(path.join(ctx, 'private/x'))).toBe('0700');
    expect(modeOf(path.join(ctx, 'src/main.go'))).toBe('0644');
    expect(readlinkSync(path.join(ctx, 'link'))).toBe('../outside/nowhere');
    expect(readlinkSync(path.join(ctx, 'abs'))).toBe('/etc/passwd');
    expect(lstatSync(path.join(ctx, 'pipe')).isFIFO()).toBe(true);
    expect(modeOf(path.join(ctx, 'pipe'))).toBe('0640');
    expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
  });

  it('hard links: one inode in the snapshot too', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', a: { content: 'same', mode: 0o600 }, 'd/c': 'copy' });
    linkSync(path.join(dir, 'a'), path.join(dir, 'b'));
    linkSync(path.join(dir, 'a'), path.join(dir, 'd/z'));
    const scan = await snap(dir);
    expect(scan.context.entries.filter((e) => e.hardlink !== undefined).map((e) => [e.path, e.hardlink])).toEqual([
      ['b', 'a'],
      ['d/z', 'a'],
    ]);
    const ino = (rel: string): number => statSync(path.join(scan.snapshot.context, rel)).ino;
    expect(ino('b')).toBe(ino('a'));
    expect(ino('d/z')).toBe(ino('a'));
    expect(ino('d/c')).not.toBe(ino('a'));
    expect(statSync(path.join(scan.snapshot.context, 'a')).nlink).toBe(3);
    expect(modeOf(path.join(scan.snapshot.context, 'b'))).toBe('0600');
    expect(inputsOf(scan, SETTINGS).bytes).toBe('FROM scratch\n'.length + 'same'.length + 'copy'.length); // a hard-linked file once
    expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
  });

  it('a read-only directory is filled first, then made read-only', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', 'ro/inner/f': 'x', 'ro/g': { content: 'y', mode: 0o444 } });
    chmodSync(path.join(dir, 'ro/inner'), 0o555);
    chmodSync(path.join(dir, 'ro'), 0o500);
    const scan = await snap(dir);
    const ctx = scan.snapshot.context;
    expect(readFileSync(path.join(ctx, 'ro/inner/f'), 'utf8')).toBe('x');
    expect([modeOf(path.join(ctx, 'ro')), modeOf(path.join(ctx, 'ro/inner')), modeOf(path.join(ctx, 'ro/g'))]).toEqual(['0500', '0555', '0444']);
  });

  it('mtimes and atimes copied (builders put mtimes in layers), directories included', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', 'd/f': 'x', l: { symlink: 'd/f' } });
    const at = new Date('2020-02-03T04:05:06.789Z');
    const mt = new Date('2021-07-08T09:10:11.123Z');
    utimesSync(path.join(dir, 'd/f'), at, mt);
    utimesSync(path.join(dir, 'd'), at, new Date('2019-01-01T00:00:00Z'));
    const scan = await snap(dir);
    const ctx = scan.snapshot.context;
    expect(statSync(path.join(ctx, 'd/f')).mtime.toISOString()).toBe(mt.toISOString());
    expect(statSync(path.join(ctx, 'd/f')).atime.toISOString()).toBe(at.toISOString());
    expect(statSync(path.join(ctx, 'd')).mtime.toISOString()).toBe('2019-01-01T00:00:00.000Z');
    expect(lstatSync(path.join(ctx, 'l')).mtimeMs).toBeCloseTo(lstatSync(path.join(dir, 'l')).mtimeMs, 2);
  });

  it('the Dockerfile (the bytes hashed) beside two empty ignore files; absolute paths', async () => {
    const text = 'FROM scratch\nCOPY . /\n';
    const dir = makeContext({ 'build/app.Dockerfile': text, 'build/app.Dockerfile.dockerignore': 'x\n', x: 'ignored', y: 'sent' });
    const scan = await snap(dir, 'build/app.Dockerfile');
    const { dir: root, context, dockerfile } = scan.snapshot;
    expect(path.isAbsolute(root)).toBe(true);
    expect(context).toBe(path.join(root, 'context'));
    expect(dockerfile).toBe(path.join(root, 'dockerfile', 'app.Dockerfile'));
    expect(readdirSync(path.dirname(dockerfile)).sort()).toEqual(['app.Dockerfile', 'app.Dockerfile.containerignore', 'app.Dockerfile.dockerignore']);
    expect(readFileSync(dockerfile, 'utf8')).toBe(text);
    expect(readFileSync(`${dockerfile}.dockerignore`, 'utf8')).toBe('');
    expect(readFileSync(`${dockerfile}.containerignore`, 'utf8')).toBe('');
    expect(tree(context)).toEqual(['build/', 'build/app.Dockerfile', 'build/app.Dockerfile.dockerignore', 'y']);
    const again = await rescan(scan);
    expect(again.ignoreFile).toBe(path.relative(context, `${dockerfile}.dockerignore`)); // the empty one: nothing more left out
    expect(digestOf(again)).toBe(digestOf(scan));
  });

  it('without snapshotDir nothing is written (the dry run)', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', a: 'a' });
    const before = tree(path.dirname(dir));
    const scan = await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' });
    expect(scan.snapshot).toBeUndefined();
    expect(tree(path.dirname(dir))).toEqual(before);
  });
});

describe('the snapshot equals what was hashed, whatever the working tree does', () => {
  it('a file rewritten after scanInputs returned does not change the snapshot', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: 'before', 'd/b': 'b' });
    const scan = await snap(dir);
    writeFileSync(path.join(dir, 'a'), 'after');
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM alpine\n');
    chmodSync(path.join(dir, 'd/b'), 0o755);
    writeFileSync(path.join(dir, 'new'), 'new');
    expect(readFileSync(path.join(scan.snapshot.context, 'a'), 'utf8')).toBe('before');
    expect(readFileSync(scan.snapshot.dockerfile, 'utf8')).toBe('FROM scratch\nCOPY a /a\n');
    expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
    expect(digestOf(await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' }))).not.toBe(digestOf(scan));
  });

  it('files rewritten in place, re-moded and re-attributed while they are read: the snapshot is still what was hashed', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', big: randomBytes(4 * 1024 * 1024), small: 'x' });
    const canXattr = xattrsSupported('user.probe');
    // Another process keeps changing the tree: bytes in place (no new inode), a small file's length and mode, an attribute.
    const script = `
      const fs = require('node:fs'), { randomBytes, randomInt } = require('node:crypto'), { execFileSync } = require('node:child_process');
      const fd = fs.openSync('big', 'r+');
      for (let i = 0; ; i++) {
        for (let j = 0; j < 64; j++) fs.writeSync(fd, randomBytes(4096), 0, 4096, randomInt(1024) * 4096);
        fs.writeFileSync('small', 'x'.repeat(randomInt(100)));
        fs.chmodSync('small', i % 2 ? 0o600 : 0o644);
        if (${canXattr} && i % 16 === 0) execFileSync('setfattr', ['-n', 'user.v', '-v', String(i), 'small']);
      }`;
    const writer = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 5; i++) {
        const scan = await snap(dir);
        expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
      }
    } finally {
      writer.kill('SIGKILL');
    }
  });
});

describe.skipIf(!xattrsSupported('user.probe'))('extended attributes in the snapshot', () => {
  it('user.* on files and directories, read back with getfattr', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', 'd/f': 'x', 'n\nl': 'odd name' });
    setXattr(path.join(dir, 'd/f'), 'user.mime', 'text/plain');
    setXattr(path.join(dir, 'd/f'), 'user.empty', '');
    setXattr(path.join(dir, 'd'), 'user.dir', '0x00ff');
    setXattr(path.join(dir, 'n\nl'), 'user.x', '1');
    const scan = await snap(dir);
    const ctx = scan.snapshot.context;
    expect(getXattrs(path.join(ctx, 'd/f'))).toEqual({ 'user.empty': '0x', 'user.mime': '0x746578742f706c61696e' });
    expect(getXattrs(path.join(ctx, 'd'))).toEqual({ 'user.dir': '0x00ff' });
    expect(getXattrs(path.join(ctx, 'n\nl'))).toEqual({ 'user.x': '0x31' });
    expect(scan.context.entries.find((e) => e.path === 'd/f')?.xattrs).toEqual({ 'user.empty': '', 'user.mime': '746578742f706c61696e' });
    expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
  });

  it.skipIf(!isRoot || !findExecutable('setcap'))('security.capability (setcap) on a setuid file, trusted.* on a symlink itself; security.selinux left out', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n', ping: { content: 'ELF', mode: 0o4755 }, target: 't', link: { symlink: 'target' } });
    execFileSync('setcap', ['cap_net_raw+ep', path.join(dir, 'ping')]);
    setXattr(path.join(dir, 'ping'), 'security.selinux', 'system_u:object_r:bin_t:s0');
    setXattr(path.join(dir, 'link'), 'trusted.note', 'on-the-link');
    const scan = await snap(dir);
    const ctx = scan.snapshot.context;
    expect(getXattrs(path.join(ctx, 'ping'))).toEqual({ 'security.capability': '0x0100000200200000000000000000000000000000' });
    expect(execFileSync('getcap', [path.join(ctx, 'ping')], { encoding: 'utf8' })).toContain('cap_net_raw=ep');
    expect(modeOf(path.join(ctx, 'ping'))).toBe('4755');
    expect(getXattrs(path.join(ctx, 'link'))).toEqual({ 'trusted.note': '0x6f6e2d7468652d6c696e6b' });
    expect(getXattrs(path.join(ctx, 'target'))).toEqual({});
    expect(digestOf(await rescan(scan))).toBe(digestOf(scan));
  });
});

describe('what a snapshot refuses', () => {
  it.skipIf(!isRoot)('a device: an InputError naming it (listed, not refused, without a snapshot)', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n' });
    execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    const plain = await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' });
    expect(plain.context.entries.find((e) => e.path === 'null')).toEqual({ path: 'null', type: 'char', mode: expect.any(String) });
    const error = await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' }, { snapshotDir: snapshotDir() }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `null in the build context ${dir} is a character device, which reuse cannot copy into its snapshot of the context: exclude it in .dockerignore, or turn reuse off with --no-reuse`,
    );
  });

  it.each<[string, (dir: string) => void, RegExp]>([
    ['not empty', (d) => writeFileSync(path.join(d, 'x'), ''), /the snapshot directory .* must be empty/],
    ['not private', (d) => chmodSync(d, 0o755), /the snapshot directory .* must be private \(mode 0700\), not 755/],
    ['missing', (d) => execFileSync('rmdir', [d]), /cannot check .* in the snapshot of the build context: ENOENT/],
  ])('a snapshot directory %s: a plain Error, not an InputError', async (_, spoil, message) => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\n' });
    const target = snapshotDir();
    spoil(target);
    const error = await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' }, { snapshotDir: target }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('scale', () => {
  it('a context of 1,000 files / 10 MB, hashed and copied', async () => {
    const dir = makeContext({ Dockerfile: 'FROM scratch\nCOPY . /\n' });
    for (let i = 0; i < 1000; i++) {
      const sub = path.join(dir, `d${i % 20}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(path.join(sub, `f${i}.bin`), randomBytes(10 * 1024));
    }
    await scanInputs({ contextDir: dir, dockerfilePath: 'Dockerfile' }); // warm the page cache, as a fresh checkout is
    const started = performance.now();
    const scan = await snap(dir);
    const ms = performance.now() - started;
    expect(tree(scan.snapshot.context)).toHaveLength(1021);
    console.info(`scan + snapshot of 1,000 files / 10 MB: ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(5000); // creating files is slow on some CI disks; this only catches a gross regression
  });
});
