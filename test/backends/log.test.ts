import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LINE } from '../../src/backends/lines.js';
import { openLog } from '../../src/backends/log.js';
import { makePlan, makeUnit } from '../support/plan-factory.js';
import { captureIO, removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

describe('openLog', () => {
  const unitIn = (variant?: string) => {
    const plan = makePlan({ logDir: tempDir('log') });
    return makeUnit(plan, variant === undefined ? {} : { variant });
  };

  /** A stderr that takes one write per tick and records how much it ever held unwritten. */
  function slowStderr(highWaterMark: number) {
    let maxBuffered = 0;
    let written = 0;
    const stream = new Writable({
      highWaterMark,
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        setImmediate(done);
      },
    });
    const write = stream.write.bind(stream);
    stream.write = ((chunk: Buffer, ...rest: never[]) => {
      const ok = write(chunk, ...rest);
      maxBuffered = Math.max(maxBuffered, stream.writableLength);
      return ok;
    }) as typeof stream.write;
    return { stream, maxBuffered: () => maxBuffered, written: () => written };
  }

  /** 20 MB of 100-byte lines, produced only when read. */
  function loudOutput(lines = 200_000): Readable {
    const line = Buffer.from(`${'y'.repeat(99)}\n`);
    let sent = 0;
    return new Readable({
      highWaterMark: 64 * 1024,
      read() {
        while (sent < lines) {
          sent++;
          if (!this.push(line)) return;
        }
        this.push(null);
      },
    });
  }

  it('reads the builder no faster than stderr takes it: stderr never holds more than its buffer and one chunk', async () => {
    const unit = unitIn('v1');
    const captured = captureIO();
    const stderr = slowStderr(16 * 1024);
    const log = await openLog(unit, { ...captured.io, stderr: stderr.stream }, false);
    await log.pipe(loudOutput());
    await log.close();

    const prefixed = 200_000 * (100 + '[v1] '.length);
    expect(stderr.written()).toBe(prefixed);
    expect(stderr.maxBuffered()).toBeLessThanOrEqual(16 * 1024 + 2 * (64 * 1024 + 64 * 1024 / 100 * '[v1] '.length));
    expect(readFileSync(unit.logFile).length).toBe(200_000 * 100);
  });

  it('after a stop, a stderr that never drains does not hold the builder: the log file still gets everything', async () => {
    const unit = unitIn();
    const captured = captureIO();
    const stuck = new Writable({ highWaterMark: 1024, write: () => undefined });
    const log = await openLog(unit, { ...captured.io, stderr: stuck }, false);
    const piping = log.pipe(loudOutput(50_000));
    setImmediate(() => captured.abort());
    await piping;
    await log.close();

    expect(readFileSync(unit.logFile).length).toBe(50_000 * 100);
    expect(stuck.writableLength).toBeLessThan(200 * 1024);
  });

  it('masks the run\'s secrets in every builder line, on stderr and in the log file, chunk boundaries included', async () => {
    const unit = unitIn('v1');
    const captured = captureIO();
    captured.io.log.secrets.add('npm_s3cr3t_Value', 'other-secret');
    const log = await openLog(unit, captured.io, false);
    // The secret arrives split over two chunks, as a pipe may deliver it.
    await log.pipe(Readable.from([Buffer.from('RUN echo npm_s3cr'), Buffer.from('3t_Value\nclean line\nand other-secret\n')]));
    await log.close();
    const file = readFileSync(unit.logFile, 'utf8');
    expect(file).toBe('RUN echo ***\nclean line\nand ***\n');
    expect(captured.stderr()).toBe('[v1] RUN echo ***\n[v1] clean line\n[v1] and ***\n');
  });

  it('a secret straddling the cut of an endless line leaves no part of itself', async () => {
    const unit = unitIn();
    const captured = captureIO({});
    captured.io.log.secrets.add('TOPSECRETVALUE');
    const log = await openLog(unit, captured.io, false);
    await log.pipe(Readable.from([Buffer.from(`${'x'.repeat(MAX_LINE - 6)}TOPSECRETVALUE and more\nnext\n`)]));
    await log.close();
    const file = readFileSync(unit.logFile, 'utf8');
    expect(file).not.toContain('TOPSEC');
    expect(file).toContain('***');
    expect(file.endsWith('next\n')).toBe(true);
  });

  it('cuts an endless line, keeping the lines after it', async () => {
    const unit = unitIn();
    const captured = captureIO({});
    const log = await openLog(unit, captured.io, false);
    await log.pipe(Readable.from([Buffer.alloc(MAX_LINE * 3, 'z'), Buffer.from('z\nafter\n')]));
    await log.close();
    const text = readFileSync(unit.logFile, 'utf8');
    expect(text).toBe(`${'z'.repeat(MAX_LINE)} [image-builder: line truncated at ${MAX_LINE} bytes]\nafter\n`);
  });

  it('warns on stderr, silent or not, when the log file was a symbolic link', async () => {
    const unit = unitIn();
    const victim = join(tempDir('victim'), 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(join(unit.logFile, '..'), { recursive: true });
    symlinkSync(victim, unit.logFile);
    const captured = captureIO({});
    const log = await openLog(unit, captured.io, false);
    log.line('hello');
    await log.close();
    expect(captured.stderr()).toMatch(/^warning: .*build_build\.log is a symbolic link \(to .*victim\): not followed/m);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(unit.logFile, 'utf8')).toMatch(/^warning: .*symbolic link.*\nhello\n$/);
  });
});
