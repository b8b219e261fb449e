/** Line-wise handling of a log stream: whole-line regions, and secret masking that never needs the whole log. */
const NL = 10;
// A line longer than this is processed in pieces so that one endless line cannot exhaust memory.
export const MAX_LINE = 1 << 20;

/**
 * Cuts a byte stream into regions of whole lines without copying them. A line longer than MAX_LINE
 * comes out in pieces; `cut` picks where a piece ends, the rest waiting for the next chunk.
 */
export class LineRegions {
  private parts: Buffer[] = [];
  private length = 0;

  constructor(private readonly cut: (line: Buffer) => number = (line) => line.length) {}

  /** emit(region, whole): whole = the region ends at a line end (or at the end of the stream). */
  push(chunk: Buffer, emit: (region: Buffer, whole: boolean) => void): void {
    let start = 0;
    if (this.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.keep(Buffer.from(chunk));
        if (this.length > MAX_LINE) this.emitPiece(emit);
        return;
      }
      this.parts.push(chunk.subarray(0, nl + 1));
      emit(this.take(), true);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= start) {
      emit(chunk.subarray(start, last + 1), true);
      start = last + 1;
    }
    // A copy, so that the carried tail does not keep the whole chunk alive.
    if (start < chunk.length) this.keep(Buffer.from(chunk.subarray(start)));
  }

  end(emit: (region: Buffer, whole: boolean) => void): void {
    if (this.length > 0) emit(this.take(), true);
  }

  private emitPiece(emit: (region: Buffer, whole: boolean) => void): void {
    const all = this.take();
    const cut = this.cut(all);
    emit(all.subarray(0, cut), false);
    if (cut < all.length) this.keep(Buffer.from(all.subarray(cut)));
  }

  private keep(part: Buffer): void {
    this.parts.push(part);
    this.length += part.length;
  }

  private take(): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.length = 0;
    return all;
  }
}

/**
 * Masks secrets in a byte stream line by line: only lines that contain a secret become strings.
 * A line longer than MAX_LINE is cut where no secret can straddle the cut.
 */
export class SecretRedactor {
  private readonly needles: Buffer[];
  private readonly regions: LineRegions;

  constructor(secrets: Iterable<string | undefined>, private readonly redact: (text: string) => string) {
    this.needles = [...new Set([...secrets].filter((s): s is string => !!s && s.length >= 4))].map((s) => Buffer.from(s));
    this.regions = new LineRegions((line) => this.safeCut(line));
  }

  /** Where to cut an endless line: before its last bytes, never inside a secret or a UTF-8 character. */
  private safeCut(line: Buffer): number {
    let cut = utf8Boundary(line, line.length - Math.max(0, ...this.needles.map((n) => n.length)));
    for (let moved = true; moved && cut > 0; ) {
      moved = false;
      for (const n of this.needles) {
        const i = line.lastIndexOf(n, cut - 1);
        if (i >= 0 && i < cut && i + n.length > cut) {
          cut = utf8Boundary(line, i);
          moved = true;
        }
      }
    }
    return cut;
  }

  /** The masked bytes that can go out now, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.regions.push(chunk, (region) => out.push(this.mask(region)));
    return out;
  }

  end(): Buffer[] {
    const out: Buffer[] = [];
    this.regions.end((region) => out.push(this.mask(region)));
    return out;
  }

  private mask(buf: Buffer): Buffer {
    if (!this.needles.some((n) => buf.includes(n))) return buf;
    return Buffer.from(this.redact(buf.toString('utf8')));
  }
}

/** The nearest index at or before i that does not split a UTF-8 character. */
function utf8Boundary(buf: Buffer, i: number): number {
  let at = Math.max(0, i);
  while (at > 0 && (buf[at]! & 0xc0) === 0x80) at--;
  return at;
}
