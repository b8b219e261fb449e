import { describe, expect, it } from 'vitest';
import { LineCutter, MAX_LINE, TRUNCATED } from '../../src/backends/lines.js';

/** Feeds the chunks and returns everything that came out, as text, with the number of regions. */
function cut(chunks: Array<string | Buffer>): { text: string; regions: number } {
  const cutter = new LineCutter();
  const out = [...chunks.flatMap((chunk) => cutter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))), ...cutter.end()];
  return { text: Buffer.concat(out).toString('utf8'), regions: out.length };
}

const x = (n: number) => 'x'.repeat(n);
const cutLine = (head: string) => `${head}${TRUNCATED}\n`;

describe('LineCutter', () => {
  it.each([
    { name: 'whole lines pass through unchanged', chunks: ['a\nbb\n'], text: 'a\nbb\n' },
    { name: 'a line split across chunks is joined', chunks: ['ab', 'c', 'd\ne\n'], text: 'abcd\ne\n' },
    { name: 'a last line without a newline gets one', chunks: ['a\nlast'], text: 'a\nlast\n' },
    { name: 'an empty stream gives nothing', chunks: [], text: '' },
    { name: 'empty lines are kept', chunks: ['\n\n', '\n'], text: '\n\n\n' },
    { name: 'a line of exactly MAX_LINE bytes is kept whole', chunks: [`${x(MAX_LINE)}\n`], text: `${x(MAX_LINE)}\n` },
    { name: 'exactly MAX_LINE bytes over two chunks is kept whole', chunks: [x(MAX_LINE - 1), 'x', '\nnext\n'], text: `${x(MAX_LINE)}\nnext\n` },
    { name: 'a longer line inside one chunk is cut', chunks: [`a\n${x(MAX_LINE + 5)}\nb\n`], text: `a\n${cutLine(x(MAX_LINE))}b\n` },
    { name: 'a longer line over many chunks is cut, the rest dropped', chunks: [x(40_000), x(40_000), x(40_000), 'yy\nb\n'], text: `${cutLine(x(MAX_LINE))}b\n` },
    { name: 'a longer tail without a newline is cut, the rest dropped up to the end', chunks: [`a\n${x(MAX_LINE + 1)}`, x(10)], text: `a\n${cutLine(x(MAX_LINE))}` },
    { name: 'dropping ends at the next newline', chunks: [x(MAX_LINE + 1), x(100), 'z\nkept\n'], text: `${cutLine(x(MAX_LINE))}kept\n` },
  ])('$name', ({ chunks, text }) => {
    expect(cut(chunks).text).toBe(text);
  });

  it('never cuts inside a UTF-8 character', () => {
    // 'é' is two bytes: with one x in front, byte MAX_LINE is the second byte of a character.
    const line = `x${'é'.repeat(MAX_LINE)}\n`;
    const { text } = cut([Buffer.from(line)]);
    const head = text.slice(0, -`${TRUNCATED}\n`.length);
    expect(head).toBe(`x${'é'.repeat((MAX_LINE - 2) / 2)}`);
    expect(Buffer.byteLength(head)).toBe(MAX_LINE - 1);
    expect(text).not.toContain('\ufffd');
  });

  it('passes a run of short lines as one slice of the chunk, not a copy per line', () => {
    const chunk = Buffer.from('one\ntwo\nthree\nfour');
    const cutter = new LineCutter();
    const out = cutter.push(chunk);
    expect(out).toHaveLength(1);
    expect(out[0]!.buffer).toBe(chunk.buffer);
    expect(out[0]!.toString()).toBe('one\ntwo\nthree\n');
  });

  it('gives out one cut line however long a line without a newline goes on', () => {
    const cutter = new LineCutter();
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let out = 0;
    for (let i = 0; i < 1000; i++) out += cutter.push(chunk).reduce((n, b) => n + b.length, 0);
    expect(out).toBe(MAX_LINE + TRUNCATED.length + 1);
  });
});
