import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryable, MAX_DELAY_MS, withRetry } from '../../src/backends/ado/retry.js';

const httpError = (statusCode: number) => Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });

describe('backoffDelay: exponential from delay, ±25 % jitter, capped', () => {
  it.each<[number, number, number, number]>([
    // delayMs, failed try, random, expected wait
    [1000, 1, 0.5, 1000],
    [1000, 2, 0.5, 2000],
    [1000, 3, 0.5, 4000],
    [1000, 1, 0, 750],
    [1000, 1, 1, 1250],
    [5000, 20, 0.5, MAX_DELAY_MS],
    [10 * 60_000, 3, 0.5, 10 * 60_000],
  ])('delay %i ms, after try %i, random %f → %i ms', (delayMs, failedTry, random, expected) => {
    expect(backoffDelay({ attempts: 99, delayMs }, failedTry, () => random)).toBe(expected);
  });
});

describe('isRetryable: a 4xx other than 429 is final', () => {
  it.each<[string, unknown, boolean]>([
    ['a network error (no status)', new Error('ECONNRESET'), true],
    ['500', httpError(500), true],
    ['503', httpError(503), true],
    ['429', httpError(429), true],
    ['400', httpError(400), false],
    ['401', httpError(401), false],
    ['403', httpError(403), false],
    ['404', httpError(404), false],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ])('%s → %s', (_name, err, expected) => expect(isRetryable(err)).toBe(expected));
});

describe('withRetry', () => {
  const policy = { attempts: 3, delayMs: 1 };

  it('tries `attempts` times in all, then throws the last error', async () => {
    let calls = 0;
    const waits: number[] = [];
    await expect(withRetry(async () => { calls++; throw httpError(500 + calls); }, policy, { onRetry: (_e, _n, w) => waits.push(w) })).rejects.toThrow('HTTP 503');
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('returns the first success', async () => {
    let calls = 0;
    await expect(withRetry(async () => (++calls < 3 ? Promise.reject(httpError(502)) : 'ok'), policy)).resolves.toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry a final error', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw httpError(401); }, policy)).rejects.toThrow('HTTP 401');
    expect(calls).toBe(1);
  });

  it('stops waiting when aborted and throws the error it had', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const run = withRetry(async () => { calls++; throw httpError(500); }, { attempts: 5, delayMs: 60_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toThrow('HTTP 500');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
