/**
 * Dockerfile word expansion, as BuildKit's shell lexer does it for FROM, ARG defaults and --from:
 * quotes removed ('…' literal, "…" expanded), the escape character escapes the next character,
 * `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?word}`, `${NAME?word}`.
 */

/** Variables in scope: a string is set, undefined is declared but unset. */
export type Scope = ReadonlyMap<string, string | undefined>;

export interface ExpandOptions {
  /** What a name outside the scope does: expand to '' as Docker does, or abandon the expansion (the caller keeps the raw text). */
  unknown: 'empty' | 'abandon';
  /** Names outside the scope that always abandon: their value depends on the machine that builds. */
  opaque?: ReadonlySet<string>;
  /** The Dockerfile's escape character (`# escape=` directive). */
  escapeChar?: string;
}

class Abandon extends Error {}

/** The expanded word, or undefined when it names a variable it may not resolve or uses an operator we do not model (`#`, `%`, `/`). */
export function expandWord(word: string, scope: Scope, options: ExpandOptions): string | undefined {
  try {
    return new Lexer(word, scope, options, options.escapeChar ?? '\\').word('');
  } catch (err) {
    if (err instanceof Abandon) return undefined;
    throw err;
  }
}

class Lexer {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly scope: Scope,
    private readonly options: ExpandOptions,
    private readonly escape: string,
  ) {}

  /** Reads up to (not including) an unquoted `stop` character, or the end. */
  word(stop: string): string {
    let out = '';
    while (this.i < this.text.length) {
      const c = this.text[this.i] as string;
      if (stop.includes(c)) return out;
      this.i++;
      if (c === this.escape) out += this.text[this.i++] ?? '';
      else if (c === "'") out += this.until("'");
      else if (c === '"') out += this.doubleQuoted();
      else if (c === '$') out += this.variable();
      else out += c;
    }
    if (stop !== '') throw new Abandon(); // an unclosed ${
    return out;
  }

  private until(quote: string): string {
    const end = this.text.indexOf(quote, this.i);
    if (end < 0) throw new Abandon();
    const s = this.text.slice(this.i, end);
    this.i = end + 1;
    return s;
  }

  private doubleQuoted(): string {
    let out = '';
    while (this.i < this.text.length) {
      const c = this.text[this.i++] as string;
      if (c === '"') return out;
      const next = this.text[this.i];
      if (c === this.escape && next !== undefined && (next === '"' || next === '$' || next === this.escape)) out += this.text[this.i++];
      else if (c === '$') out += this.variable();
      else out += c;
    }
    throw new Abandon();
  }

  /** After a `$`. */
  private variable(): string {
    if (this.text[this.i] !== '{') {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.i))?.[0];
      if (!name) return '$';
      this.i += name.length;
      return this.lookup(name) ?? '';
    }
    this.i++;
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.i))?.[0];
    if (!name) throw new Abandon();
    this.i += name.length;
    if (this.text[this.i] === '}') {
      this.i++;
      return this.lookup(name) ?? '';
    }
    const colon = this.text[this.i] === ':';
    if (colon) this.i++;
    const op = this.text[this.i++];
    if (op === undefined || !'-+?'.includes(op)) throw new Abandon();
    const alternative = this.word('}');
    this.i++; // the closing }
    const value = this.lookup(name);
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (op === '-') return set ? (value as string) : alternative;
    if (op === '+') return set ? alternative : '';
    return value ?? ''; // `?`: Docker fails the build when unset; the builder will say so.
  }

  private lookup(name: string): string | undefined {
    if (this.scope.has(name)) return this.scope.get(name);
    if (this.options.unknown === 'abandon' || this.options.opaque?.has(name)) throw new Abandon();
    return undefined;
  }
}
