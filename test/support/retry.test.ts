import { describe, expect, it } from 'vitest';
import { AbortError, HttpError } from '../../src/support/http-error.js';
import type { RunContext } from '../../src/support/context.js';
import { backoffDelay, constantBackoff, exponentialBackoff, fixedBackoff, MAX_DELAY_MS, retry, type Backoff, type RetryOptions } from '../../src/support/retry.js';

const httpError = (status: number) => new HttpError(`HTTP ${status}`, { status });

/** Runs retry on scripted outcomes (an Error is thrown, anything else returned); unless `ctx` says otherwise, with a sleep that only records its waits. */
async function run<T>(outcomes: Array<T | Error>, backoff: Backoff, options: Partial<RetryOptions> = {}, ctx: Partial<Pick<RunContext, 'signal' | 'sleep'>> = {}) {
  const calls: string[] = [];
  const waits: number[] = [];
  const result = await retry(
    async (n) => {
      calls.push(`try ${n}`);
      const outcome = outcomes[Math.min(n - 1, outcomes.length - 1)];
      if (outcome instanceof Error) throw outcome;
      return outcome as T;
    },
    {
      backoff,
      onRetry: (err, n, wait) => calls.push(`failed ${n}: ${(err as Error).message}, next in ${wait}`),
      ...options,
    },
    { sleep: async (ms) => void waits.push(ms), ...ctx },
  ).then(
    (value) => ({ value }),
    (err: unknown) => ({ error: (err as Error).message }),
  );
  return { result, calls, waits };
}

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

describe('backoffs: how many tries, and the waits between them', () => {
  it.each<[string, Backoff, number, number[]]>([
    ['exponential (ado-retry-strategy {attempts: 4, delay: 100ms}, no jitter)', exponentialBackoff({ attempts: 4, delayMs: 100 }, () => 0.5), 4, [100, 200, 400]],
    ['exponential with attempts 0: one try', exponentialBackoff({ attempts: 0, delayMs: 100 }), 1, []],
    ['fixed (registry reads: 500 ms, then 1500 ms)', fixedBackoff([500, 1500]), 3, [500, 1500]],
    ['fixed without waits: one try', fixedBackoff([]), 1, []],
    ['constant (notary: 5 tries, retry-timeout apart)', constantBackoff(5, 10_000), 5, [10_000, 10_000, 10_000, 10_000]],
  ])('%s', async (_name, backoff, tries, waits) => {
    const outcome = await run([httpError(503)], backoff);
    expect(outcome.calls.filter((c) => c.startsWith('try'))).toHaveLength(tries);
    expect(outcome.waits).toEqual(waits);
    expect(outcome.result).toEqual({ error: 'HTTP 503' });
  });
});

describe('retry', () => {
  it('stops at the first success, waiting only between tries', async () => {
    expect(await run(['ok'], constantBackoff(5, 7))).toEqual({ result: { value: 'ok' }, calls: ['try 1'], waits: [] });
    const { result, calls, waits } = await run([httpError(503), httpError(500), 'ok'], constantBackoff(5, 7));
    expect(result).toEqual({ value: 'ok' });
    expect(calls).toEqual(['try 1', 'failed 1: HTTP 503, next in 7', 'try 2', 'failed 2: HTTP 500, next in 7', 'try 3']);
    expect(waits).toEqual([7, 7]);
  });

  it('tries `attempts` times in all, then throws the last error; no wait after the last try', async () => {
    const { result, calls, waits } = await run([httpError(500), httpError(501), httpError(502), 'never'], constantBackoff(3, 1));
    expect(result).toEqual({ error: 'HTTP 502' });
    expect(calls.filter((c) => c.startsWith('try'))).toHaveLength(3);
    expect(waits).toEqual([1, 1]);
  });

  it('does not retry a final error: a 4xx other than 429, an abort, or what the predicate refuses', async () => {
    for (const final of [httpError(401), httpError(404), new AbortError('stopped')]) {
      const { result, calls } = await run([final, 'ok'], constantBackoff(5, 1));
      expect(result).toEqual({ error: final.message });
      expect(calls).toEqual(['try 1']);
    }
    const refused = await run([new Error('ECONNRESET'), 'ok'], constantBackoff(5, 1), { retryable: (err) => err instanceof HttpError });
    expect(refused.calls).toEqual(['try 1']);
  });

  it('retries network errors (no status), 429 and 5xx by default', async () => {
    const { result, calls } = await run([new Error('ECONNRESET'), httpError(429), httpError(502), 'ok'], constantBackoff(5, 1));
    expect(result).toEqual({ value: 'ok' });
    expect(calls.filter((c) => c.startsWith('try'))).toHaveLength(4);
  });

  it('the wait may come from the error, e.g. a server\'s Retry-After', async () => {
    const backoff: Backoff = { attempts: 3, delayMs: (n, err) => (err instanceof HttpError && err.status === 429 ? 2_000 : n * 10) };
    const { waits } = await run([httpError(429), httpError(503), 'ok'], backoff);
    expect(waits).toEqual([2_000, 20]);
  });

  it('an abort during the wait stops at once and throws the error it had', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    // The real sleep: a minute between tries.
    const { result, calls } = await run([httpError(500)], constantBackoff(5, 60_000), {}, { signal: controller.signal, sleep: undefined });
    expect(result).toEqual({ error: 'HTTP 500' });
    expect(calls).toEqual(['try 1', 'failed 1: HTTP 500, next in 60000']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an aborted signal stops before any wait, even with a sleep that does not watch it', async () => {
    const controller = new AbortController();
    const stopping = await run([httpError(500)], constantBackoff(5, 1), {}, { signal: controller.signal, sleep: async () => controller.abort() });
    expect(stopping.result).toEqual({ error: 'HTTP 500' });
    expect(stopping.calls.filter((c) => c.startsWith('try'))).toHaveLength(1);
    const aborted = await run([httpError(500)], constantBackoff(5, 1), {}, { signal: AbortSignal.abort() });
    expect(aborted.calls).toEqual(['try 1']);
    expect(aborted.waits).toEqual([]);
  });
});
