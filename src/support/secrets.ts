import { isSecretLookingName } from '../tags/secrets.js';

export const MASK = '***';

/** Shorter values are left alone: masking every "abc" would make text unreadable and hides nothing. */
const MIN_LENGTH = 4;

/**
 * The one registry of the run's secrets: every source adds to it (flags, environment, credentials, signer secrets,
 * secret-looking build args and pipeline parameters), every output channel is redacted through it.
 */
export class Secrets implements Iterable<string> {
  private readonly values = new Set<string>();
  /** Longest first, so that a secret containing another is masked whole. */
  private sorted: string[] = [];

  add(...values: Array<string | undefined>): void {
    let changed = false;
    for (const value of values) {
      if (value === undefined || value.length < MIN_LENGTH || this.values.has(value)) continue;
      this.values.add(value);
      // A value with surrounding whitespace is also printed trimmed (a token file's newline).
      const trimmed = value.trim();
      if (trimmed !== value && trimmed.length >= MIN_LENGTH) this.values.add(trimmed);
      changed = true;
    }
    if (changed) this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** The values of `NAME=value` entries whose names look secret (SPEC 5's rule): NPM_TOKEN, API_KEY, … */
  addSecretLooking(entries: Iterable<readonly [string, string]>): void {
    for (const [name, value] of entries) if (isSecretLookingName(name)) this.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.sorted[Symbol.iterator]();
  }
}

/** `NAME=VALUE` texts as entries (a text without "=" has no value to hide). */
export function assignments(texts: Iterable<string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq > 0) out.push([text.slice(0, eq), text.slice(eq + 1)]);
  }
  return out;
}
