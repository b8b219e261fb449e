import { setTimeout as sleep } from 'node:timers/promises';

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

/** HTTP status of an error thrown by azure-devops-node-api (typed-rest-client sets statusCode). */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A 4xx other than 429 will not change on a retry; 5xx, 429 and network errors may. */
export function isRetryable(err: unknown): boolean {
  if ((err as Error | null)?.name === 'AbortError') return false;
  const status = statusOf(err);
  return status === undefined || status === 429 || status >= 500;
}

export interface RetryOptions {
  /** Stops waiting between tries; the last error is thrown. */
  signal?: AbortSignal;
  onRetry?: (err: unknown, failedTry: number, waitMs: number) => void;
  random?: () => number;
}

/** Runs fn up to policy.attempts times, waiting with backoff between tries; throws the last error. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, policy.attempts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err) || options.signal?.aborted) throw err;
      const wait = backoffDelay(policy, attempt, options.random);
      options.onRetry?.(err, attempt, wait);
      try {
        await sleep(wait, undefined, { signal: options.signal });
      } catch {
        throw err;
      }
    }
  }
}
