import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLogFile } from '../../src/backends/log-file.js';
import { removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

async function writeThrough(file: string, text: string): Promise<string | undefined> {
  const { stream, replaced } = await openLogFile(file);
  await new Promise<void>((resolve, reject) => stream.end(text, () => resolve()).on('error', reject));
  return replaced;
}

describe('openLogFile never writes through what stands at the path', () => {
  it.each([
    {
      name: 'a symbolic link to a file',
      plant: (file: string, victim: string) => symlinkSync(victim, file),
      replaced: /is a symbolic link \(to .*victim\): not followed; a new log file replaces it/,
    },
    { name: 'a dangling symbolic link', plant: (file: string) => symlinkSync(join(file, '..', 'nowhere', 'x'), file), replaced: /is a symbolic link/ },
    { name: 'a hard link to a file', plant: (file: string, victim: string) => linkSync(victim, file), replaced: /has 1 other hard link\(s\)/ },
    { name: 'a FIFO', plant: (file: string) => execFileSync('mkfifo', [file]), replaced: /is a FIFO/ },
  ])('$name: replaced by a plain file, its target untouched, and said so', async ({ plant, replaced }) => {
    const dir = tempDir('log-file');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const file = join(dir, 'build_build.log');
    plant(file, victim);

    expect(await writeThrough(file, 'log line\n')).toMatch(replaced);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    expect(lstatSync(file).isFile()).toBe(true);
    expect(lstatSync(file).nlink).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('log line\n');
  });

  it('an earlier log of our own is emptied and rewritten, without a warning', async () => {
    const file = join(tempDir('log-file'), 'build_build.log');
    writeFileSync(file, 'an old, longer log\n');
    expect(await writeThrough(file, 'new\n')).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('new\n');
  });

  it('a folder at the path is an error, not replaced', async () => {
    const file = join(tempDir('log-file'), 'build_build.log');
    mkdirSync(file);
    await expect(openLogFile(file)).rejects.toThrow(/EISDIR/);
  });
});
