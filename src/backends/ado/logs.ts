import { once } from 'node:events';
import { LineRegions } from '../../support/line-regions.js';
import type { Secrets } from '../../support/secrets.js';
import { normalizeReport, type BuildReport } from './report.js';

export { normalizeReport, type BuildReport } from './report.js';

/** The build report block the oci-image-builder pipeline prints at its end (SPEC 9). */
export const REPORT_START = '---IMAGE BUILD REPORT---';
export const REPORT_END = '---END OF IMAGE BUILD REPORT---';
const SIGN_FLAG = '--images-to-sign=';

// Searched without their leading dashes: a needle starting with "-" is slow to find among timestamps' dashes.
const MARKER = Buffer.from('IMAGE BUILD REPORT---');
const SIGN = Buffer.from(SIGN_FLAG.slice(2));
const NL = 10;
// A report larger than this is not a report: it is dropped instead of held.
const MAX_REPORT = 4 << 20;
// ADO prefixes every line with `2024-05-01T10:00:00.1234567Z `; the first line may carry a BOM.
const TIMESTAMP = /^\uFEFF?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z(?:\s|$)/;

export interface LogFindings {
  /** The last well-formed build report block of the log, if any. */
  report?: BuildReport;
  /** The images of `--images-to-sign=` lines: unique, in order of appearance. */
  signLineImages: string[];
  /** Report blocks that were found but were not a JSON object (or too large). */
  invalidReports: number;
  bytes: number;
}

/** One log line without its ADO timestamp and line ending. */
export function stripTimestamp(line: string): string {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  return text.replace(TIMESTAMP, '');
}

/** Text of the image values on one `--images-to-sign=` token (comma lists and quotes allowed). */
function signValues(token: string): string[] {
  return token
    .replace(/^['"]|['"]$/g, '')
    .split(',')
    .map((s) => s.trim())
    // Unexpanded pipeline macros like $(images) are not images.
    .filter((s) => s !== '' && !/[$(){}'"]/.test(s));
}

/**
 * Finds the build report block and `--images-to-sign=` lines in a log fed chunk by chunk.
 * Works on bytes with native searches; only the report block and the matched tokens become strings.
 */
export class LogScanner {
  private readonly regions = new LineRegions();
  private inReport = false;
  private reportParts: Buffer[] = [];
  private reportBytes = 0;
  private readonly seen = new Set<string>();
  private readonly findings: LogFindings = { signLineImages: [], invalidReports: 0, bytes: 0 };

  push(chunk: Buffer): void {
    this.findings.bytes += chunk.length;
    this.regions.push(chunk, this.onRegion);
  }

  end(): LogFindings {
    this.regions.end(this.onRegion);
    // A report without its end line is incomplete: the build was cut short.
    if (this.inReport) this.findings.invalidReports++;
    this.inReport = false;
    this.reportParts = [];
    return this.findings;
  }

  private readonly onRegion = (region: Buffer, whole: boolean): void => {
    if (whole) return this.lines(region);
    // A piece of an endless line: no marker line can be that long.
    this.scanImages(region, 0, region.length);
    if (this.inReport) this.collect(region, 0, region.length);
  };

  /** buf holds whole lines (the last may lack its newline at the end of the log). */
  private lines(buf: Buffer): void {
    this.scanImages(buf, 0, buf.length);
    let pos = 0;
    while (pos < buf.length) {
      if (this.inReport) {
        const end = markerLine(buf, REPORT_END, pos);
        if (!end) {
          this.collect(buf, pos, buf.length);
          return;
        }
        this.collect(buf, pos, end[0]);
        this.finishReport();
        pos = end[1];
      } else {
        const start = markerLine(buf, REPORT_START, pos);
        if (!start) return;
        this.inReport = true;
        this.reportParts = [];
        this.reportBytes = 0;
        pos = start[1];
      }
    }
  }

  private collect(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.reportBytes += to - from;
    if (this.reportBytes <= MAX_REPORT) this.reportParts.push(Buffer.from(buf.subarray(from, to)));
  }

  private finishReport(): void {
    this.inReport = false;
    const parts = this.reportParts;
    this.reportParts = [];
    if (this.reportBytes > MAX_REPORT) {
      this.findings.invalidReports++;
      return;
    }
    const text = Buffer.concat(parts).toString('utf8').split('\n').map(stripTimestamp).join('\n');
    let report: BuildReport | undefined;
    try {
      report = normalizeReport(JSON.parse(text));
    } catch {
      report = undefined;
    }
    // The last report wins: a retried pipeline job prints a newer one.
    if (report) this.findings.report = report;
    else this.findings.invalidReports++;
  }

  private scanImages(buf: Buffer, from: number, to: number): void {
    for (let i = buf.indexOf(SIGN, from); i >= 0 && i < to; i = buf.indexOf(SIGN, i + 1)) {
      if (i < from + 2 || buf[i - 1] !== 45 || buf[i - 2] !== 45) continue;
      const valueStart = i + SIGN.length;
      let j = valueStart;
      while (j < to) {
        const c = buf[j]!;
        if (c === 32 || c === 9 || c === 10 || c === 13) break;
        j++;
      }
      for (const image of signValues(buf.toString('utf8', valueStart, j))) {
        if (!this.seen.has(image)) {
          this.seen.add(image);
          this.findings.signLineImages.push(image);
        }
      }
    }
  }
}

/** [line start, index after its newline] of the first line from `from` that is exactly the marker (timestamp aside). */
function markerLine(buf: Buffer, marker: string, from: number): [number, number] | undefined {
  for (let i = buf.indexOf(MARKER, from); i >= 0; i = buf.indexOf(MARKER, i + MARKER.length)) {
    const lineStart = i === 0 ? 0 : buf.lastIndexOf(NL, i - 1) + 1;
    const nl = buf.indexOf(NL, i);
    const lineEnd = nl < 0 ? buf.length : nl;
    // An echoed script line that merely contains the marker is not the marker.
    if (stripTimestamp(buf.toString('latin1', lineStart, lineEnd)).trim() === marker) return [lineStart, lineEnd + 1];
  }
  return undefined;
}

export interface ProcessLogOptions {
  /** Where the (redacted) log is copied for people; none to only scan it. */
  sink?: NodeJS.WritableStream;
  /** Masked in what goes to the sink, also where split across chunks. */
  secrets?: Secrets;
}

/** Streams a log once: copies it, secrets masked, to the sink while scanning it; never holds it whole. */
export async function processLog(source: AsyncIterable<Buffer | string>, options: ProcessLogOptions = {}): Promise<LogFindings> {
  const scanner = new LogScanner();
  const masker = options.sink && options.secrets?.masker();
  const write = async (pieces: Buffer[]): Promise<void> => {
    for (const buf of pieces) if (buf.length > 0 && options.sink && !options.sink.write(buf)) await once(options.sink, 'drain');
  };
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    scanner.push(chunk);
    await write(masker ? masker.push(chunk) : [chunk]);
  }
  if (masker) await write(masker.end());
  return scanner.end();
}
