import { isSecretLookingName } from '../tags/secrets.js';
import { LineRegions, utf8Boundary } from './line-regions.js';

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
  /** The same as bytes, for maskers that look for secrets without decoding a stream. */
  private needles: Buffer[] = [];

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
    if (!changed) return;
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
    this.needles = this.sorted.map((secret) => Buffer.from(secret));
  }

  /** The values of `NAME=value` entries whose names look secret (SPEC 5's rule): NPM_TOKEN, API_KEY, … */
  addSecretLooking(entries: Iterable<readonly [string, string]>): void {
    for (const [name, value] of entries) if (isSecretLookingName(name) || hasUrlCredentials(value)) this.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  /** A masker for one stream: the secrets known when each line passes are masked, also those added later. */
  masker(): SecretMasker {
    return new SecretMasker(this, () => this.needles);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.sorted[Symbol.iterator]();
  }
}

/**
 * Masks secrets in a byte stream fed chunk by chunk, line by line: a secret split across chunks is masked, only a line
 * holding a secret becomes a string, and a line longer than MAX_PIECE goes out in pieces cut where no secret straddles.
 */
class SecretMasker {
  private readonly regions = new LineRegions((line) => this.safeCut(line));

  constructor(
    private readonly secrets: Secrets,
    private readonly needles: () => Buffer[],
  ) {}

  /** The masked bytes that can go out now, in order. */
  push(chunk: Buffer): Buffer[] {
    // No secret yet (there never was one: secrets are only added): the bytes pass as they come.
    if (this.needles().length === 0) return [chunk];
    const out: Buffer[] = [];
    this.regions.push(chunk, (region) => out.push(this.mask(region)));
    return out;
  }

  /** The rest: the last line, when the stream did not end with a newline. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    this.regions.end((region) => out.push(this.mask(region)));
    return out;
  }

  private mask(region: Buffer): Buffer {
    return this.needles().some((needle) => region.includes(needle)) ? Buffer.from(this.secrets.redact(region.toString('utf8'))) : region;
  }

  /** Where to cut an endless line: before its last bytes, never inside a secret or a UTF-8 character. */
  private safeCut(line: Buffer): number {
    const needles = this.needles();
    let cut = utf8Boundary(line, line.length - Math.max(0, ...needles.map((n) => n.length)));
    for (let moved = true; moved && cut > 0; ) {
      moved = false;
      for (const n of needles) {
        const i = line.lastIndexOf(n, cut - 1);
        if (i >= 0 && i + n.length > cut) {
          cut = utf8Boundary(line, i);
          moved = true;
        }
      }
    }
    return cut;
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

/** A value holding a URL with a user or password in it (a proxy `http://user:pass@proxy:3128`). */
export function hasUrlCredentials(value: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/\s@]+@/i.test(value);
}
