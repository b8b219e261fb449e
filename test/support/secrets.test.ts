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
