import { InputError, Problems } from '../errors.js';
import { isRecord } from '../support/json.js';
import { isSHA, isZeroSHA, SHA_EXPECTED } from './vars.js';

/** A GitHub event payload read from GITHUB_EVENT_PATH; field problems name the file and the field path. */
export class EventPayload {
  private constructor(
    private readonly json: Record<string, unknown>,
    private readonly path: string,
    /** The event name, to say in messages which payload was expected. */
    private readonly event: string,
    private readonly problems: Problems,
  ) {}

  /** Reads and parses the file; throws an InputError naming it when it cannot. */
  static read(path: string, event: string, readFile: (path: string) => string, problems: Problems): EventPayload {
    const where = `GITHUB_EVENT_PATH=${path}`;
    let text: string;
    try {
      text = readFile(path);
    } catch (err) {
      throw new InputError(
        `${where}: cannot read the event payload (${reason(err)}): GitHub Actions writes it for every run; check that GITHUB_EVENT_PATH points to it`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InputError(`${where}: the event payload is not valid JSON (${reason(err)})`);
    }
    if (!isRecord(json)) throw new InputError(`${where}: the event payload is not a JSON object`);
    return new EventPayload(json, path, event, problems);
  }

  /** The value at a dotted path, undefined where any step is missing or null. */
  get(field: string): unknown {
    let value: unknown = this.json;
    for (const key of field.split('.')) {
      if (!isRecord(value)) return undefined;
      value = value[key];
    }
    return value ?? undefined;
  }

  has(field: string): boolean {
    return this.get(field) !== undefined;
  }

  string(field: string): string | undefined {
    const value = this.get(field);
    if (typeof value === 'string' && value !== '') return value;
    if (value === undefined || value === '') this.missing(field);
    else this.invalid(field, `is ${JSON.stringify(value)}, not a string`);
    return undefined;
  }

  /** A non-empty string at the field, else undefined; never a problem (for fields only some templates use). */
  optionalString(field: string): string | undefined {
    const value = this.get(field);
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  sha(field: string): string | undefined {
    const value = this.string(field);
    if (value === undefined) return undefined;
    if (!isSHA(value) || isZeroSHA(value)) {
      this.invalid(field, `is ${JSON.stringify(value)}, not a commit SHA (${SHA_EXPECTED})`);
      return undefined;
    }
    return value;
  }

  pullNumber(field: string): number | undefined {
    const value = this.get(field);
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
    if (value === undefined) this.missing(field);
    else this.invalid(field, `is ${JSON.stringify(value)}, not a pull request number (a positive integer)`);
    return undefined;
  }

  /** Records "field <field> is missing" with the file and how to fix it. */
  missing(field: string, hint?: string): void {
    const fix = hint ?? `a ${this.event} event payload has it; check that GITHUB_EVENT_NAME=${this.event} matches the file`;
    this.problems.add(`GITHUB_EVENT_PATH=${this.path}: field ${field} is missing (${fix})`);
  }

  invalid(field: string, what: string): void {
    this.problems.add(`GITHUB_EVENT_PATH=${this.path}: field ${field} ${what}`);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
