import { describe, expect, it } from 'vitest';
import { assignments, Secrets } from '../../src/support/secrets.js';

describe('Secrets: the one registry every output is redacted through', () => {
  it('masks every added value, longest first, and its trimmed form', () => {
    const s = new Secrets();
    s.add('token-123', 'token-123-long', '  spaced-secret\n', undefined, 'abc');
    expect(s.redact('a token-123-long b token-123 c spaced-secret d abc')).toBe('a *** b *** c *** d abc');
  });

  it.each([
    ['NPM_TOKEN', true], ['API_KEY', true], ['DB_PASSWORD', true], ['ADO_PAT', true], ['MY_AUTH', true], ['GITHUB_CREDENTIALS', true],
    ['GREETING', false], ['PATH', false], ['KEYBOARD', false], ['PULL_BASE_REF', false],
  ])('a build arg named %s is secret: %s', (name, secret) => {
    const s = new Secrets();
    s.addSecretLooking(assignments([`${name}=value-of-it`]));
    expect(s.redact('x value-of-it y')).toBe(secret ? 'x *** y' : 'x value-of-it y');
  });

  it('assignments keeps "=" in values and skips texts without one', () => {
    expect(assignments(['A=b=c', 'novalue', '=x'])).toEqual([['A', 'b=c']]);
  });
});

describe('Secrets.masker: secrets masked in a byte stream, line by line', () => {
  const masker = (...values: string[]) => {
    const s = new Secrets();
    s.add(...values);
    return s.masker();
  };
  /** The text fed in chunks of `size` bytes, and what came out. */
  const through = (m: ReturnType<Secrets['masker']>, text: string, size: number): string => {
    const out: Buffer[] = [];
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += size) out.push(...m.push(bytes.subarray(i, i + size)));
    out.push(...m.end());
    return Buffer.concat(out).toString('utf8');
  };

  it('masks a secret split over any chunk boundary and leaves the rest byte for byte', () => {
    const text = 'line one\nthe token is s3cr3t-t0ken here\nlast line without newline s3cr3t-t0ken';
    for (const size of [1, 2, 5, 11, 1000]) {
      expect(through(masker('s3cr3t-t0ken'), text, size)).toBe(text.replaceAll('s3cr3t-t0ken', '***'));
    }
  });

  it('never cuts an endless line inside a secret', () => {
    const secret = 'SECRET-0123456789';
    for (let offset = (1 << 20) - 40; offset < (1 << 20) + 40; offset += 3) {
      const text = `${'a'.repeat(offset)}${secret}${'b'.repeat(1 << 20)}\n`;
      const out = through(masker(secret), text, 4096);
      expect(out.includes(secret), `secret at ${offset}`).toBe(false);
      expect(out).toBe(text.replace(secret, '***'));
    }
  });

  it('masks inside a line longer than 1 MiB', () => {
    const text = `${'é'.repeat(1 << 20)}s3cr3t-t0ken${'x'.repeat(100)}\n`;
    const out = through(masker('s3cr3t-t0ken'), text, 1 << 16);
    expect(out).not.toContain('s3cr3t-t0ken');
    expect(out.length).toBe(text.length - 's3cr3t-t0ken'.length + 3);
  });

  it('masks a secret added while the stream runs, from the next line on', () => {
    const s = new Secrets();
    const m = s.masker();
    const first = Buffer.concat(m.push(Buffer.from('before late-secret\n'))).toString();
    s.add('late-secret');
    const rest = Buffer.concat([...m.push(Buffer.from('after late-secret\n')), ...m.end()]).toString();
    expect(first + rest).toBe('before late-secret\nafter ***\n');
  });
});
