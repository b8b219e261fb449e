/** A byte stream cut into regions of whole lines, for code that reads a log as it streams and never holds it whole. */
const NL = 10;
// A line longer than this is processed in pieces so that one endless line cannot exhaust memory.
export const MAX_PIECE = 1 << 20;

/**
 * Cuts a byte stream into regions of whole lines without copying them. A line longer than MAX_PIECE
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
        if (this.length > MAX_PIECE) this.emitPiece(emit);
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

/** The nearest index at or before i that does not split a UTF-8 character. */
export function utf8Boundary(buf: Buffer, i: number): number {
  let at = Math.max(0, i);
  while (at > 0 && (buf[at]! & 0xc0) === 0x80) at--;
  return at;
}
