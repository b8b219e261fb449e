import { describe, expect, it } from 'vitest';
import { FINAL_STATUSES, judgeAnswer, TRIES, withRetries, type TryOutcome } from '../../src/sign/retry.js';

/** Runs withRetries on scripted outcomes; records the hooks' calls. */
async function run(outcomes: TryOutcome[], delayMs = 0, signal?: AbortSignal) {
  const calls: string[] = [];
  const result = await withRetries(
    async (n) => outcomes[Math.min(n - 1, outcomes.length - 1)]!,
    delayMs,
    {
      signal,
      onTry: (n, tries) => calls.push(`try ${n}/${tries}`),
      onFailure: (n, _tries, detail, retryIn) => calls.push(`failed ${n}: ${detail}${retryIn === undefined ? '' : ` (retry in ${retryIn})`}`),
    },
  );
  return { result, calls };
}

const ok: TryOutcome = { ok: true };
const transient = (detail: string): TryOutcome => ({ ok: false, final: false, detail });
const final = (detail: string): TryOutcome => ({ ok: false, final: true, detail });

describe('withRetries: SPEC 10 retry policy', () => {
  it('five tries at most', () => expect(TRIES).toBe(5));

  it('stops at the first success', async () => {
    expect(await run([ok])).toEqual({ result: { ok: true, tries: 1 }, calls: ['try 1/5'] });
  });

  it('retries transient failures, then succeeds', async () => {
    const { result, calls } = await run([transient('HTTP 503'), transient('HTTP 500'), ok], 7);
    expect(result).toEqual({ ok: true, tries: 3 });
    expect(calls).toEqual(['try 1/5', 'failed 1: HTTP 503 (retry in 7)', 'try 2/5', 'failed 2: HTTP 500 (retry in 7)', 'try 3/5']);
  });

  it('gives up after five tries with the last detail', async () => {
    const { result, calls } = await run([transient('HTTP 502')]);
    expect(result).toEqual({ ok: false, tries: 5, detail: 'HTTP 502' });
    expect(calls.filter((c) => c.startsWith('try'))).toHaveLength(5);
    expect(calls.at(-1)).toBe('failed 5: HTTP 502');
  });

  it('a final failure is not retried', async () => {
    const { result, calls } = await run([final('HTTP 401')]);
    expect(result).toEqual({ ok: false, tries: 1, detail: 'HTTP 401' });
    expect(calls).toEqual(['try 1/5', 'failed 1: HTTP 401 (final: not retried)']);
  });

  it('waits retry-timeout between tries, not before the first', async () => {
    const started = Date.now();
    const times: number[] = [];
    await withRetries(async () => {
      times.push(Date.now() - started);
      return times.length < 3 ? transient('x') : ok;
    }, 150);
    expect(times[0]).toBeLessThan(100);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(140);
  });

  it('an abort during the wait stops at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const { result } = await run([transient('HTTP 503')], 10_000, controller.signal);
    expect(result).toEqual({ ok: false, tries: 1, detail: 'stopped by signal' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('judgeAnswer: success code per protocol, final statuses', () => {
  it.each<[number, number, Partial<TryOutcome>]>([
    [200, 200, { ok: true }],
    [202, 202, { ok: true }],
    [200, 202, { ok: false, final: false }],
    [202, 200, { ok: false, final: false }],
    [500, 200, { ok: false, final: false }],
    [503, 202, { ok: false, final: false }],
    [404, 200, { ok: false, final: false }],
    [429, 200, { ok: false, final: false }],
    ...FINAL_STATUSES.map((status): [number, number, Partial<TryOutcome>] => [status, 200, { ok: false, final: true }]),
  ])('HTTP %i when %i is success → %j', (status, success, expected) => {
    expect(judgeAnswer({ status, statusText: '', body: '' }, success)).toMatchObject(expected);
  });

  it('the final statuses are exactly 400, 401, 403, 415', () => expect(FINAL_STATUSES).toEqual([400, 401, 403, 415]));

  it('the detail has status, reason and the answer on one line, cut at 200 characters', () => {
    const outcome = judgeAnswer({ status: 503, statusText: 'Service Unavailable', body: `{"error":\n  "busy"}${'x'.repeat(300)}` }, 200);
    expect(outcome).toMatchObject({ detail: expect.stringMatching(/^HTTP 503 Service Unavailable: \{"error": "busy"\}x+$/) });
    expect(!outcome.ok && outcome.detail.length).toBe('HTTP 503 Service Unavailable: '.length + 200);
  });
});
