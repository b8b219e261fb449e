import { existsSync } from 'node:fs';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { TestRegistry } from './registry.js';
import { tempDir } from './tools.js';

/** Commands the image's shell offers (busybox applets, or the machine's own binaries). */
const COMMANDS = ['sh', 'sleep', 'echo', 'cat', 'true'];

/**
 * Makes a tiny base image with a shell, offline, and pushes it to the registry as `<host>/<repository>:1`:
 * Debian's static busybox (`apt-get install busybox-static`) and its applets; without it, the machine's own /bin/sh
 * and /bin/sleep with the libraries they load. Built with buildah in a store of its own (not the one under test).
 * A `marker` is written to /marker: pushing another one makes a new image under the same tag.
 */
export async function pushShellImage(registry: TestRegistry, repository = 'fixtures/shell', marker?: string): Promise<string> {
  const rootfs = tempDir('shell-rootfs');
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  // A new image under the same tag: another /marker, another layer, another digest.
  if (marker !== undefined) await writeFile(path.join(rootfs, 'marker'), marker);
  if (existsSync('/bin/busybox')) {
    await cp('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    for (const command of COMMANDS) await symlink('busybox', path.join(rootfs, 'bin', command));
  } else {
    for (const file of ['/bin/sh', '/bin/sleep']) {
      const libraries = (await execa('ldd', [file], { reject: false })).stdout.match(/\/\S+/g) ?? [];
      for (const needed of [file, ...libraries]) {
        await mkdir(path.join(rootfs, path.dirname(needed)), { recursive: true });
        await cp(needed, path.join(rootfs, needed), { dereference: true });
      }
    }
  }
  const store = tempDir('shell-store');
  const buildah = (...args: string[]) =>
    execa('buildah', ['--root', path.join(store, 'root'), '--runroot', path.join(store, 'runroot'), '--storage-driver=vfs', ...args]);
  const container = (await buildah('from', 'scratch')).stdout.trim();
  await buildah('copy', container, `${rootfs}/`, '/');
  await buildah('config', '--env', 'PATH=/bin:/usr/bin', '--cmd', '/bin/sh', container);
  const reference = `${registry.host}/${repository}:1`;
  await buildah('commit', '--tls-verify=false', container, `docker://${reference}`);
  await buildah('rm', container);
  return reference;
}
