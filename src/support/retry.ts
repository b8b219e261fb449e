import { setTimeout as timeout } from 'node:timers/promises';
import type { RunContext, Sleep } from './context.js';
import { isTemporary } from './http-error.js';

export type { Sleep };

/** Waits ms; rejects as soon as the signal aborts. Tests pass one that does not wait. */
export const sleep: Sleep = (ms, signal) => timeout(ms, undefined, signal ? { signal } : undefined);

/** How many tries in all, and the wait after each failed one (1 = the first); the error may say (Retry-After). */
export interface Backoff {
  attempts: number;
  delayMs(failedTry: number, err: unknown): number;
}

/** `ado-retry-strategy` of config.yaml: `attempts` tries in all, the first wait `delayMs`. */
export interface RetryPolicy {
  attempts: number;
  delayMs: number;
}

// Waits double each time; this cap keeps a large `attempts` from waiting for hours.
export const MAX_DELAY_MS = 5 * 60_000;

/** The wait after the given failed try (1 = the first): delay·2^(n-1), capped, then ±25 % jitter. */
export function backoffDelay(policy: RetryPolicy, failedTry: number, random: () => number = Math.random): number {
  const base = Math.min(policy.delayMs * 2 ** (failedTry - 1), Math.max(policy.delayMs, MAX_DELAY_MS));
  // Jitter spreads the retries of many CI jobs that failed at the same moment.
  return Math.round(base * (0.75 + 0.5 * random()));
}

export function exponentialBackoff(policy: RetryPolicy, random: () => number = Math.random): Backoff {
  return { attempts: Math.max(1, policy.attempts), delayMs: (failedTry) => backoffDelay(policy, failedTry, random) };
}

/** One try more than there are waits, each wait in turn. */
export function fixedBackoff(delaysMs: readonly number[]): Backoff {
  return { attempts: delaysMs.length + 1, delayMs: (failedTry) => delaysMs[failedTry - 1] ?? 0 };
}

export function constantBackoff(attempts: number, delayMs: number): Backoff {
  return { attempts: Math.max(1, attempts), delayMs: () => delayMs };
}

export interface RetryOptions {
  backoff: Backoff;
  /** Whether another try may succeed after this error; by default isTemporary (HttpError.temporary, never an abort). */
  retryable?: (err: unknown) => boolean;
  /** Called before each wait, for the log line. */
  onRetry?: (err: unknown, failedTry: number, waitMs: number) => void;
}

/**
 * Runs attempt (with its 1-based number) until it succeeds, throws a final error or the tries are used up; throws the
 * last error. The run's signal stops the retries and the wait between them at once; its sleep (else a timer) waits.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions, run: Partial<Pick<RunContext, 'signal' | 'sleep'>> = {}): Promise<T> {
  const { backoff, retryable = isTemporary } = options;
  const { signal } = run;
  const attempts = Math.max(1, backoff.attempts);
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= attempts || signal?.aborted || !retryable(err)) throw err;
      const waitMs = backoff.delayMs(n, err);
      options.onRetry?.(err, n, waitMs);
      try {
        await (run.sleep ?? sleep)(waitMs, signal);
      } catch {
        throw err;
      }
      // An injected sleep may not watch the signal.
      if (signal?.aborted) throw err;
    }
  }
}
