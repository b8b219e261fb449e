import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { InputError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['300ms', 300],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2h45m30.5s', 9_930_500],
    ['1.1s', 1_100],
    ['.5s', 500],
    ['1.s', 1_000],
    ['300ns', 0.0003],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['1m0s', 60_000],
    ['+5s', 5_000],
    ['-5s', -5_000],
    ['0s', 0],
    ['2562047h', 2562047 * 3_600_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['10', 'a number must be followed by a unit'],
    ['5 m', 'unknown unit " m"'],
    ['3 hours', 'unknown unit " hours"'],
    ['1d', 'unknown unit "d"'],
    ['h', 'a number must come before "h"'],
    ['.s', 'a number must come before "s"'],
    ['1h30', 'a number must be followed by a unit'],
    ['PT5M', 'a number must come before "PT"'],
    ['-', 'empty'],
    ['2562048h', 'too large'],
  ])('%j is refused: %s', (text, why) => {
    expect(() => parseDuration(text)).toThrow(InputError);
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)} (${why}); expected a Go duration such as "300ms"`);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [300, '300ms'],
    [1_500, '1.5s'],
    [10_000, '10s'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [9_930_500, '2h45m30.5s'],
    [10_800_000, '3h'],
    [1.5, '1.5ms'],
    [0.5, '500µs'],
    [0.0003, '300ns'],
    [-5_000, '-5s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['300ms', '10s', '5m', '1h30m', '2h45m30.5s', '26h1m1s'])('round-trips %s', (text) => {
    expect(formatDuration(parseDuration(text))).toBe(text);
  });
});
