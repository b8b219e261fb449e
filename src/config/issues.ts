import type { z } from 'zod';
import { kindOf } from './fields.js';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

function bound(iss: RawIssue & { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }, small: boolean): string {
  const limit = Number(small ? iss.minimum : iss.maximum);
  if (iss.origin === 'string') return small && limit === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${limit} characters`;
  if (iss.origin === 'array') return `must have ${small ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}`;
  const words = small ? (iss.inclusive ? 'at least' : 'greater than') : iss.inclusive ? 'at most' : 'less than';
  return `must be ${words} ${limit}, got ${JSON.stringify(iss.input)}`;
}

/** Per-parse zod error map: readable defaults, overridden by messages set in the schema. */
export function readableMessage(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type': {
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      if (iss.input === undefined) return `missing: expected ${expected}`;
      if (iss.expected === 'int' && typeof iss.input === 'number') return `expected ${expected}, got ${iss.input}`;
      return `expected ${expected}, got ${kindOf(iss.input)}`;
    }
    case 'invalid_value':
      return `expected ${iss.values.length === 1 ? '' : 'one of '}${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(iss.input)}`;
    case 'too_small':
      return bound(iss, true);
    case 'too_big':
      return bound(iss, false);
    case 'invalid_format':
      return `expected ${iss.format === 'regex' ? `text matching ${iss.pattern}` : `a valid ${iss.format}`}, got ${JSON.stringify(iss.input)}`;
    case 'invalid_key':
      return `invalid key ${JSON.stringify(iss.input)}: ${iss.issues.map((i) => i.message).join('; ')}`;
    default:
      return undefined;
  }
}

/** `cache.cache-repo`, `signers[0].name`, `enabled-signers["*"][0]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z0-9_-]+$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A union whose input had the type of exactly one branch reports that branch's own problems. */
function leafIssues(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const sameType = issue.errors.filter((branch) => branch.length > 0 && !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  const [only] = sameType;
  if (sameType.length !== 1 || only === undefined) return [issue];
  return only.flatMap((i) => leafIssues({ ...i, path: [...issue.path, ...i.path] }));
}

/** One line per problem: `<file>: <key path>: <message>`. */
export function formatIssues(issues: readonly Issue[], file: string): string[] {
  const lines = issues.flatMap(leafIssues).map((issue) => {
    const where = formatPath(issue.path);
    return where === '' ? `${file}: ${issue.message}` : `${file}: ${where}: ${issue.message}`;
  });
  return [...new Set(lines)];
}
