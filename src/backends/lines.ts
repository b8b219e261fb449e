/** Cuts builder output into whole lines of bounded length, as bytes: one endless line cannot exhaust memory. */
import { utf8Boundary } from '../support/line-regions.js';

const NL = 10;

/** A longer line keeps its first MAX_LINE bytes and a marker; the rest of it is dropped, never held. */
export const MAX_LINE = 64 * 1024;
export const TRUNCATED = ` [image-builder: line truncated at ${MAX_LINE} bytes]`;
const TRUNCATED_LINE_END = Buffer.from(`${TRUNCATED}\n`);

export class LineCutter {
  private held: Buffer[] = [];
  private heldLength = 0;
  /** Inside a line that was already cut: its bytes are dropped up to the next newline. */
  private dropping = false;

  /** The whole lines (each ending in \n) that can go out now, in regions that are often slices of the chunk. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    if (this.dropping || this.heldLength > 0) {
      const nl = chunk.indexOf(NL);
      const end = nl < 0 ? chunk.length : nl;
      if (this.dropping) {
        if (nl < 0) return out;
        this.dropping = false;
      } else if (this.heldLength + end > MAX_LINE) {
        out.push(this.cut(Buffer.concat([...this.take(), chunk.subarray(0, MAX_LINE - this.heldLength + 1)])));
        this.dropping = nl < 0;
      } else if (nl >= 0) {
        out.push(Buffer.concat([...this.take(), chunk.subarray(0, nl + 1)]));
      } else {
        this.hold(chunk);
      }
      if (nl < 0) return out;
      start = nl + 1;
    }
    // Runs of short lines go out as one slice; a long one is cut in its place.
    let regionStart = start;
    for (let nl = chunk.indexOf(NL, start); nl >= 0; nl = chunk.indexOf(NL, start)) {
      if (nl - start > MAX_LINE) {
        if (start > regionStart) out.push(chunk.subarray(regionStart, start));
        out.push(this.cut(chunk.subarray(start, start + MAX_LINE + 1)));
        regionStart = nl + 1;
      }
      start = nl + 1;
    }
    if (start > regionStart) out.push(chunk.subarray(regionStart, start));
    if (chunk.length - start > MAX_LINE) {
      out.push(this.cut(chunk.subarray(start, start + MAX_LINE + 1)));
      this.dropping = true;
    } else if (start < chunk.length) {
      this.hold(chunk.subarray(start));
    }
    return out;
  }

  /** The last line, when the stream did not end with a newline. */
  end(): Buffer[] {
    this.dropping = false;
    return this.heldLength > 0 ? [Buffer.concat([...this.take(), Buffer.from('\n')])] : [];
  }

  /** The first MAX_LINE bytes of a line longer than that (fewer, not to split a UTF-8 character), and the marker. */
  private cut(line: Buffer): Buffer {
    const at = utf8Boundary(line, MAX_LINE);
    return Buffer.concat([line.subarray(0, at), TRUNCATED_LINE_END]);
  }

  private hold(part: Buffer): void {
    // A copy: the held tail must not keep the whole chunk alive.
    this.held.push(Buffer.from(part));
    this.heldLength += part.length;
  }

  private take(): Buffer[] {
    const held = this.held;
    this.held = [];
    this.heldLength = 0;
    return held;
  }
}
