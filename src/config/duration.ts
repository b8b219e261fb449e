import { InputError } from '../errors.js';

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu: Go accepts both
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

// Go keeps durations in an int64 of nanoseconds.
const MAX_NS = 2n ** 63n - 1n;

const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

export const DURATION_SYNTAX = 'a Go duration such as "300ms", "10s", "5m", "1h30m" or "1.5h" (units ns, us, ms, s, m, h)';

function invalid(text: string, why: string): InputError {
  return new InputError(`invalid duration ${JSON.stringify(text)} (${why}); expected ${DURATION_SYNTAX}`);
}

/** Parses Go duration syntax (time.ParseDuration) and returns milliseconds. */
export function parseDuration(text: string): number {
  let rest = text;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid(text, 'empty');

  let ns = 0n;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (!match) throw invalid(text, 'a number must be followed by a unit');
    const [whole, intDigits = '', fracDigits = '', unitName = ''] = match;
    if (intDigits === '' && fracDigits === '') throw invalid(text, `a number must come before ${JSON.stringify(unitName)}`);
    const unit = NS_PER_UNIT[unitName];
    if (unit === undefined) throw invalid(text, `unknown unit ${JSON.stringify(unitName)}`);
    ns += BigInt(intDigits || '0') * unit;
    if (fracDigits !== '') ns += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    if (ns > MAX_NS) throw invalid(text, 'too large');
    rest = rest.slice(whole.length);
  }
  return Number(sign * ns) / 1e6;
}

const UNITS_MS: [string, number][] = [
  ['h', 3_600_000],
  ['m', 60_000],
];

/** Formats milliseconds compactly in Go duration syntax, e.g. 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1) return ms * 1000 >= 1 ? `${round(ms * 1000)}µs` : `${round(ms * 1e6)}ns`;
  if (ms < 1000) return `${round(ms)}ms`;
  let out = '';
  let rest = ms;
  for (const [unit, size] of UNITS_MS) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  if (rest > 0) out += `${round(rest / 1000)}s`;
  return out;
}

// Drops binary floating-point noise such as 30.500000000000004.
function round(value: number): number {
  return Number(value.toFixed(9));
}
