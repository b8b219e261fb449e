import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogScanner, normalizeReport, processLog, stripTimestamp, type LogFindings } from '../../../src/backends/ado/logs.js';
import { Secrets } from '../../../src/support/secrets.js';

const TS = '2024-05-01T10:00:00.1234567Z ';
const REPORT = { status: 'Succeeded', pushed: true, signed: false, image_name: 'app', images_list: ['r/app:1', 'r/app:latest'], digest: 'sha256:abc', tags: ['1', 'latest'], repository_path: 'r/', architectures: ['linux/amd64'] };

/** A log as ADO serves it: every line timestamped, CRLF. */
const log = (lines: string[], eol = '\r\n'): string => lines.map((l) => `${TS}${l}${eol}`).join('');
const reportLines = (report: unknown = REPORT) => ['---IMAGE BUILD REPORT---', ...JSON.stringify(report, null, 2).split('\n'), '---END OF IMAGE BUILD REPORT---'];

/** Scans text split into chunks of the given size. */
function scan(text: string | Buffer, chunkSize = 1 << 16): LogFindings {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const scanner = new LogScanner();
  for (let i = 0; i < bytes.length; i += chunkSize) scanner.push(bytes.subarray(i, i + chunkSize));
  return scanner.end();
}

describe('stripTimestamp', () => {
  it.each([
    ['2024-05-01T10:00:00.1234567Z hello', 'hello'],
    ['2024-05-01T10:00:00.1Z   indented', '  indented'],
    ['2024-05-01T10:00:00Z no fraction', 'no fraction'],
    ['\uFEFF2024-05-01T10:00:00.1234567Z after a BOM', 'after a BOM'],
    ['2024-05-01T10:00:00.1234567Z crlf\r', 'crlf'],
    ['2024-05-01T10:00:00.1234567Z', ''],
    ['no timestamp 2024-05-01T10:00:00.1Z inside', 'no timestamp 2024-05-01T10:00:00.1Z inside'],
  ])('%j → %j', (line, expected) => expect(stripTimestamp(line)).toBe(expected));
});

describe('LogScanner: the build report block', () => {
  it.each([
    ['timestamped CRLF lines', log(['before', ...reportLines(), 'after'])],
    ['timestamped LF lines', log(['before', ...reportLines(), 'after'], '\n')],
    ['lines without timestamps', ['before', ...reportLines(), 'after'].join('\n')],
    ['a log without a final newline', log([...reportLines()]).trimEnd()],
  ])('finds it in %s', (_name, text) => {
    expect(scan(text).report).toEqual(REPORT);
  });

  it('finds it across every chunk boundary', () => {
    const text = log(['x', ...reportLines(), 'y']);
    for (const size of [1, 2, 3, 5, 7, 13, 64, 100]) expect(scan(text, size).report, `chunks of ${size}`).toEqual(REPORT);
  });

  it('ignores a line that merely contains the marker (an echoed script)', () => {
    const text = log(['[command]/bin/bash -c "echo ---IMAGE BUILD REPORT---; cat r.json; echo ---END OF IMAGE BUILD REPORT---"', ...reportLines()]);
    const found = scan(text);
    expect(found.report).toEqual(REPORT);
    expect(found.invalidReports).toBe(0);
  });

  it('takes the last well-formed report, counts broken ones', () => {
    const older = { ...REPORT, digest: 'sha256:old' };
    const found = scan(log([...reportLines(older), '---IMAGE BUILD REPORT---', '{ not json', '---END OF IMAGE BUILD REPORT---', ...reportLines()]));
    expect(found.report?.digest).toBe('sha256:abc');
    expect(found.invalidReports).toBe(1);
  });

  it('counts a report cut short (no end line) as invalid', () => {
    const found = scan(log(['---IMAGE BUILD REPORT---', '{"status": "Succeeded"']));
    expect(found.report).toBeUndefined();
    expect(found.invalidReports).toBe(1);
  });

  it('reads the legacy image_spec form', () => {
    const legacy = { status: 'Succeeded', pushed: true, signed: false, image_spec: { image_name: 'app', tags: ['PR-1'], repository_path: 'eu.gcr.io/dev/' } };
    expect(normalizeReport(legacy)).toMatchObject({ image_name: 'app', tags: ['PR-1'], images_list: ['eu.gcr.io/dev/app:PR-1'], repository_path: 'eu.gcr.io/dev/' });
  });

  it.each([[null], [[1, 2]], ['text'], [42]])('a non-object report (%j) is not a report', (raw) => {
    expect(normalizeReport(raw)).toBeUndefined();
  });

  it('normalises missing fields to empty values', () => {
    expect(normalizeReport({ status: 'Failed' })).toEqual({ status: 'Failed', pushed: false, signed: false, image_name: '', images_list: [], digest: '', tags: [], repository_path: '', architectures: [] });
  });
});

describe('LogScanner: --images-to-sign= lines (the fallback)', () => {
  it('keeps each image once, in order of appearance', () => {
    const found = scan(log([
      '[command]sign --images-to-sign=r/app:2 --images-to-sign=r/app:1',
      'again --images-to-sign=r/app:1',
      "quoted --images-to-sign='r/app:3'",
      'a list --images-to-sign=r/app:4,r/app:2',
      'a macro --images-to-sign=$(images) is not an image',
    ]));
    expect(found.signLineImages).toEqual(['r/app:2', 'r/app:1', 'r/app:3', 'r/app:4']);
    expect(found.report).toBeUndefined();
  });

  it('finds them across chunk boundaries', () => {
    const text = log(['a', 'x --images-to-sign=registry.example/app:v1 y', 'b']);
    for (const size of [1, 4, 9, 17]) expect(scan(text, size).signLineImages, `chunks of ${size}`).toEqual(['registry.example/app:v1']);
  });

  it('survives a line longer than 1 MiB without holding it', () => {
    const text = `${'x'.repeat(3 << 20)}\n${log(['--images-to-sign=r/app:1', ...reportLines()])}`;
    const found = scan(text, 1 << 16);
    expect(found.signLineImages).toEqual(['r/app:1']);
    expect(found.report).toEqual(REPORT);
  });
});

describe('processLog', () => {
  it('copies the log to the sink with secrets masked while scanning the original', async () => {
    const text = log(['Authorization: Bearer eyJ.secret.token', `--images-to-sign=r/app:1`, ...reportLines()]);
    const out: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { out.push(chunk); done(); } });
    const secrets = new Secrets();
    secrets.add('eyJ.secret.token');
    const found = await processLog(Readable.from([Buffer.from(text.slice(0, 50)), Buffer.from(text.slice(50))]), { sink, secrets });
    expect(found.report).toEqual(REPORT);
    expect(found.signLineImages).toEqual(['r/app:1']);
    expect(found.bytes).toBe(Buffer.byteLength(text));
    expect(Buffer.concat(out).toString()).toBe(text.replace('eyJ.secret.token', '***'));
  });
});
