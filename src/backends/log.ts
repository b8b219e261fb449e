/** One unit's log: builder output to its log file and, unless silent, to stderr, at the pace both take it. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BuildUnit } from '../plan-types.js';
import type { RunContext } from '../support/context.js';
import { openLogFile } from './log-file.js';
import { LineCutter } from './lines.js';

export interface BuildLog {
  /** A line of our own (image-builder: …). */
  line(text: string): void;
  /**
   * Copies a builder's output into the log in whole lines of bounded length. The stream is read only as fast as
   * the log file and stderr take it (the builder waits on its full pipe meanwhile), so memory stays bounded.
   */
  pipe(stream: Readable): Promise<void>;
  close(): Promise<void>;
}

/** One shared wait per stream, so that many waiting units add one listener each, not one per wait. */
const drains = new WeakMap<NodeJS.WritableStream, Promise<void>>();

/** Resolves once the stream has drained, failed or closed: a broken stream must not hold the builder forever. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  let wait = drains.get(stream);
  if (wait === undefined) {
    wait = new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done).off('error', done).off('close', done);
        drains.delete(stream);
        resolve();
      };
      stream.on('drain', done).on('error', done).on('close', done);
    });
    drains.set(stream, wait);
  }
  return wait;
}

/** A destination of the log's bytes that reports when its buffer is full. */
class Sink {
  full = false;
  failed = false;
  /** Bytes not written because the stream stayed full after a stop (lossy sinks only). */
  dropped = 0;

  constructor(
    readonly stream: NodeJS.WritableStream,
    private readonly prefix: Buffer | undefined,
    /** After this aborts, bytes that find the stream full are dropped instead of waited for. */
    private readonly lossyAfter?: AbortSignal,
  ) {}

  write(regions: Buffer[]): void {
    if (this.failed || regions.length === 0) return;
    const data = this.prefix ? withPrefix(regions, this.prefix) : regions.length === 1 ? regions[0]! : Buffer.concat(regions);
    if (this.full && this.lossyAfter?.aborted) {
      this.dropped += data.length;
      return;
    }
    if (!this.stream.write(data)) {
      this.full = true;
      void drained(this.stream).then(() => (this.full = false));
    }
  }

  /** Resolves when more may be written: at once, after a drain, or (lossy) after the stop. */
  async ready(): Promise<void> {
    const signal = this.lossyAfter;
    while (this.full && !this.failed && !signal?.aborted) {
      if (signal === undefined) {
        await drained(this.stream);
        continue;
      }
      const stop = new AbortController();
      const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true, signal: stop.signal }));
      await Promise.race([drained(this.stream), stopped]);
      stop.abort();
    }
  }
}

/** Each line of the regions (whole lines, each ending in \n) with the prefix before it. */
function withPrefix(regions: Buffer[], prefix: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const region of regions) {
    for (let start = 0; start < region.length; ) {
      const end = region.indexOf(10, start) + 1 || region.length;
      parts.push(prefix, region.subarray(start, end));
      start = end;
    }
  }
  return Buffer.concat(parts);
}

export async function openLog(unit: BuildUnit, io: RunContext, silent: boolean): Promise<BuildLog> {
  await mkdir(path.dirname(unit.logFile), { recursive: true });
  const { stream: file, replaced } = await openLogFile(unit.logFile);
  const sinks = [new Sink(file, undefined)];
  // A later write error (disk full) must not crash the run: say it once, keep streaming to stderr.
  file.on('error', (err) => {
    if (!sinks[0]!.failed) io.stderr.write(`image-builder: cannot write ${unit.logFile}: ${err.message}\n`);
    sinks[0]!.failed = true;
  });
  const prefix = unit.variant === undefined ? undefined : Buffer.from(`[${unit.variant}] `);
  const stderr = silent ? undefined : new Sink(io.stderr, prefix, io.signal);
  if (stderr) sinks.push(stderr);
  const emit = (regions: Buffer[]): void => sinks.forEach((sink) => sink.write(regions));
  const line = (text: string): void => emit([Buffer.from(`${io.log.secrets.redact(text)}\n`)]);
  if (replaced) {
    if (silent) io.stderr.write(`warning: ${replaced}\n`);
    line(`warning: ${replaced}`);
  }

  return {
    line,
    async pipe(stream) {
      // Masked before lines are cut to length, so that a cut never leaves part of a secret.
      const masker = io.log.secrets.masker();
      const cutter = new LineCutter();
      const cut = (pieces: Buffer[]): void => emit(pieces.flatMap((piece) => cutter.push(piece)));
      try {
        for await (const chunk of stream) {
          cut(masker.push(chunk as Buffer));
          for (const sink of sinks) await sink.ready();
        }
      } catch {
        // The builder's pipe broke: what it printed so far is in the log; its exit status tells the rest.
      }
      if (masker) cut(masker.end());
      emit(cutter.end());
    },
    async close() {
      if (stderr && stderr.dropped > 0) {
        io.stderr.write(`image-builder: ${stderr.dropped} bytes of builder output after the stop are only in ${unit.logFile}\n`);
      }
      file.end();
      await finished(file).catch(() => undefined);
    },
  };
}
