import { Problems } from '../errors.js';
import type { Env, GitState, GitStateRead } from './gitstate.js';
import { publicUrl, sourceLeftOut } from './url.js';

const SHA = /^[0-9a-fA-F]{7,64}$/;
const ALL_ZEROS = /^0+$/;
const POSITIVE_INTEGER = /^[0-9]+$/;

export const SHA_EXPECTED = 'expected 7 to 64 hexadecimal characters';

/** An environment variable's value; an empty string counts as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** "true" in any case, as CI systems write it (GitHub: true, ADO: True). */
export function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

export function isSHA(value: string): boolean {
  return SHA.test(value);
}

/** GitHub writes an all-zero SHA for "no commit" (e.g. `after` of a push deleting a branch). */
export function isZeroSHA(value: string): boolean {
  return ALL_ZEROS.test(value);
}

/** A positive integer from text, or undefined. */
export function parsePositiveInteger(text: string): number | undefined {
  if (!POSITIVE_INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Reads environment variables of one CI system, recording every problem and every warning. */
export class EnvReader {
  /** What is left out but does not stop the run (a source URL that cannot be published). */
  readonly warnings: string[] = [];

  constructor(
    private readonly env: Env,
    /** The CI system, as people name it in messages. */
    readonly system: string,
    readonly problems: Problems = new Problems(),
  ) {}

  optional(name: string): string | undefined {
    return envValue(this.env, name);
  }

  /** `hint` says what the value should be, e.g. "the repository owner, e.g. REPO_OWNER=kyma-project". */
  required(name: string, hint: string): string | undefined {
    const value = envValue(this.env, name);
    if (value === undefined) {
      this.problems.add(`environment variable ${name} is not set (${this.system}): set it to ${hint}`);
    }
    return value;
  }

  sha(name: string, what: string): string | undefined {
    const value = this.required(name, `the ${what} (${SHA_EXPECTED})`);
    if (value === undefined) return undefined;
    if (!isSHA(value)) {
      this.problems.add(
        `environment variable ${name}=${JSON.stringify(value)} is not a commit SHA (${this.system}): set it to the ${what} (${SHA_EXPECTED})`,
      );
      return undefined;
    }
    return value;
  }

  /** A URL that ends in the image's source, cleaned (`publicUrl`); one that cannot be is left out, with a warning. */
  sourceUrl(text: string | undefined, where: string, example: string): string | undefined {
    const url = publicUrl(text);
    if (url === undefined) this.warnings.push(sourceLeftOut(`${where} (${this.system})`, example));
    return url;
  }

  pullNumber(name: string): number | undefined {
    const value = this.required(name, `the pull request number, e.g. ${name}=1234`);
    if (value === undefined) return undefined;
    const n = parsePositiveInteger(value);
    if (n === undefined) {
      this.problems.add(
        `environment variable ${name}=${JSON.stringify(value)} is not a pull request number (${this.system}): set it to a positive integer, e.g. ${name}=1234`,
      );
    }
    return n;
  }
}

/** Throws the collected problems; for call sites that know at least one was recorded. */
export function throwProblems(problems: Problems): never {
  problems.throwIfAny();
  throw new Error('internal error: a value is missing but no problem was recorded');
}

/** Drops undefined fields, so a GitState prints and compares without empty keys; with the reader's warnings. */
export function gitStateRead(fields: GitState, warnings: string[]): GitStateRead {
  return { gitState: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as GitState, warnings };
}

/** `<server>/<owner>/<name>` where both are known: a repository's web URL. */
export function repositoryUrl(server: string | undefined, owner: string | undefined, name: string | undefined): string | undefined {
  return server && owner && name ? `${server.replace(/\/+$/, '')}/${owner}/${name}` : undefined;
}

export const GITHUB_SERVER = 'https://github.com';
