/** One unit's log: builder output to its log file and, unless silent, to stderr, at the pace both take it. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BuildUnit } from '../plan-types.js';
import type { RunContext } from '../support/context.js';
import { openLogFile } from './log-file.js';
import { LineCutter, TRUNCATED } from './lines.js';
import { MASK, type Secrets } from '../support/secrets.js';

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

/**
 * Masks the run's secrets in whole lines (a secret never spans lines). Only a line holding a secret becomes a string;
 * a line cut at MAX_LINE also loses a trailing start of a secret, so no part of one is left at the cut.
 */
function masker(secrets: Secrets): (regions: Buffer[]) => Buffer[] {
  const needles = [...secrets].map((s) => Buffer.from(s));
  if (needles.length === 0) return (regions) => regions;
  const marker = Buffer.from(TRUNCATED);
  return (regions) =>
    regions.map((region) => {
      const cut = region.indexOf(marker);
      const hit = needles.some((n) => region.includes(n)) || (cut >= 0 && needles.some((n) => endsWithStartOf(region.subarray(0, cut), n)));
      if (!hit) return region;
      let text = secrets.redact(region.toString('utf8'));
      if (cut >= 0) {
        const at = text.indexOf(TRUNCATED);
        const head = text.slice(0, at);
        const partial = [...secrets].map((s) => longestStartAtEnd(head, s)).reduce((a, b) => Math.max(a, b), 0);
        text = `${head.slice(0, head.length - partial)}${partial > 0 ? MASK : ''}${text.slice(at)}`;
      }
      return Buffer.from(text);
    });
}

/** Whether the buffer ends with the first 4 or more bytes of the needle. */
function endsWithStartOf(buf: Buffer, needle: Buffer): boolean {
  for (let n = Math.min(needle.length - 1, buf.length); n >= 4; n--) if (buf.subarray(buf.length - n).equals(needle.subarray(0, n))) return true;
  return false;
}

function longestStartAtEnd(text: string, secret: string): number {
  for (let n = Math.min(secret.length - 1, text.length); n >= 4; n--) if (text.endsWith(secret.slice(0, n))) return n;
  return 0;
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
  const mask = masker(io.log.secrets);
  const emit = (regions: Buffer[]): void => {
    const masked = mask(regions);
    sinks.forEach((sink) => sink.write(masked));
  };
  if (replaced) {
    if (silent) io.stderr.write(`warning: ${replaced}\n`);
    emit([Buffer.from(`warning: ${replaced}\n`)]);
  }

  return {
    line: (text) => emit([Buffer.from(`${text}\n`)]),
    async pipe(stream) {
      const cutter = new LineCutter();
      try {
        for await (const chunk of stream) {
          emit(cutter.push(chunk as Buffer));
          for (const sink of sinks) await sink.ready();
        }
      } catch {
        // The builder's pipe broke: what it printed so far is in the log; its exit status tells the rest.
      }
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
