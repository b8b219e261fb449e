import { WorkError } from '../errors.js';

/** Answers another try may not get: too many requests, or the server (or a proxy in front of it) failing. */
export function isTemporaryStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export interface HttpErrorOptions {
  /** The answer's status; undefined when no answer came (refused, reset, timed out). */
  status?: number;
  /** Whether another try may succeed; by default true for 429, 5xx and no answer at all. */
  temporary?: boolean;
  cause?: unknown;
}

/** A request that failed: failed work (exit 1), with the status when the server answered. */
export class HttpError extends WorkError {
  readonly status?: number;
  readonly temporary: boolean;

  constructor(message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = options.status;
    this.temporary = options.temporary ?? (options.status === undefined || isTemporaryStatus(options.status));
  }
}

/** The status of an HttpError; undefined for anything else. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof HttpError ? err.status : undefined;
}

/** A stop (a signal, a deadline), named as fetch and node:http name theirs: never tried again. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
}

/** Whether another try may succeed: an HttpError says; an abort never; any other error (the network's) may. */
export function isTemporary(err: unknown): boolean {
  if (err instanceof HttpError) return err.temporary;
  return (err as Error | null)?.name !== 'AbortError';
}
