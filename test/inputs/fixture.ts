import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/tools.js';

/** A context entry to create: file content, or a directory, or a symlink, with an optional mode. */
export type Spec = string | Buffer | { content: string | Buffer; mode: number } | { dir: true; mode?: number } | { symlink: string };

/** Creates the entries under a fresh temp dir, in the order given; returns the dir. */
export function makeContext(entries: Record<string, Spec>, prefix = 'inputs'): string {
  const dir = tempDir(prefix);
  writeEntries(dir, entries);
  return dir;
}

export function writeEntries(dir: string, entries: Record<string, Spec>): void {
  for (const [rel, spec] of Object.entries(entries)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
      writeFileSync(file, spec);
      chmodSync(file, 0o644);
    } else if ('symlink' in spec) {
      symlinkSync(spec.symlink, file);
    } else if ('dir' in spec) {
      mkdirSync(file, { recursive: true });
      chmodSync(file, spec.mode ?? 0o755);
    } else {
      writeFileSync(file, spec.content);
      chmodSync(file, spec.mode);
    }
  }
}

/** Sets an extended attribute on path itself (never a symlink's target); value as setfattr takes it (`0x…` for hex). */
export function setXattr(file: string, name: string, value: string): void {
  execFileSync('setfattr', ['-h', '-n', name, '-v', value, '--', file]);
}

/** The attributes getfattr reads back: name → `0x…`. */
export function getXattrs(file: string): Record<string, string> {
  const out = execFileSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', '-e', 'hex', '--', file], { encoding: 'utf8' });
  return Object.fromEntries(out.split('\n').flatMap((line) => (line === '' || line.startsWith('#') ? [] : [line.split('=', 2) as [string, string]])));
}

/** True when the temp dir's filesystem takes the attribute (as this user). */
export function xattrsSupported(name: string, value = 'probe'): boolean {
  const dir = tempDir('xattr-probe');
  const file = path.join(dir, 'f');
  writeFileSync(file, '');
  return spawnSync('setfattr', ['-n', name, '-v', value, file]).status === 0;
}

export const isRoot = process.getuid?.() === 0;
