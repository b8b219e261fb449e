import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpAnswer } from './http.js';

/** SPEC 10: up to 5 tries, the first at once, then `retry-timeout` apart. */
export const TRIES = 5;
/** The signing service will answer these the same way however often it is asked. */
export const FINAL_STATUSES = [400, 401, 403, 415];

export type TryOutcome = { ok: true } | { ok: false; final: boolean; detail: string };

export interface RetryHooks {
  /** Called before each try, 1-based. */
  onTry?(attempt: number, tries: number): void;
  /** Called after a failed try; `retryInMs` is undefined when no try follows. */
  onFailure?(attempt: number, tries: number, detail: string, retryInMs: number | undefined): void;
  signal?: AbortSignal;
}

export interface RetryResult {
  ok: boolean;
  tries: number;
  /** What the last failed try said. */
  detail?: string;
}

/** What one answer means for the retry loop: the success code, a final refusal, or worth another try. */
export function judgeAnswer(answer: HttpAnswer, success: number): TryOutcome {
  if (answer.status === success) return { ok: true };
  const text = answer.body.replace(/\s+/g, ' ').trim();
  const detail = `HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}${text ? `: ${text.slice(0, 200)}` : ''}`;
  return { ok: false, final: FINAL_STATUSES.includes(answer.status), detail };
}

/** Runs attempt until it succeeds, fails finally, or `tries` are used up; waits `delayMs` between tries. */
export async function withRetries(attempt: (n: number) => Promise<TryOutcome>, delayMs: number, hooks: RetryHooks = {}, tries = TRIES): Promise<RetryResult> {
  let detail: string | undefined;
  for (let n = 1; n <= tries; n++) {
    if (hooks.signal?.aborted) return { ok: false, tries: n - 1, detail: 'stopped by signal' };
    hooks.onTry?.(n, tries);
    const outcome = await attempt(n);
    if (outcome.ok) return { ok: true, tries: n };
    detail = outcome.detail;
    const last = outcome.final || n === tries;
    hooks.onFailure?.(n, tries, outcome.final ? `${detail} (final: not retried)` : detail, last ? undefined : delayMs);
    if (last) return { ok: false, tries: n, detail };
    try {
      await sleep(delayMs, undefined, { signal: hooks.signal });
    } catch {
      return { ok: false, tries: n, detail: 'stopped by signal' };
    }
  }
  return { ok: false, tries, detail };
}
