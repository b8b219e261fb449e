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
