import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestOptions } from 'node:http';
import type { IHttpClient, IHttpClientResponse, IRequestHandler, IRequestInfo } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces.js';
import { AbortError } from '../../support/http-error.js';

/**
 * Makes azure-devops-node-api's requests really abortable: each call runs in a scope holding its AbortSignal, and the
 * request handler (the library calls it for every request it prepares, discovery and redirects included) hands that
 * signal to http.request, which destroys the socket when it aborts. Without it a hanging request holds the process.
 */
const scope = new AsyncLocalStorage<AbortSignal>();

/** The library's handler (the credential), plus the signal of the call the request belongs to. */
export function abortingHandler(inner: IRequestHandler, fallback: AbortSignal): IRequestHandler {
  return {
    prepareRequest(options: RequestOptions): void {
      inner.prepareRequest(options);
      options.signal = scope.getStore() ?? fallback;
    },
    canHandleAuthentication: (response: IHttpClientResponse): boolean => inner.canHandleAuthentication(response),
    handleAuthentication: (client: IHttpClient, info: IRequestInfo, data: unknown): Promise<IHttpClientResponse> => inner.handleAuthentication(client, info, data),
  };
}

/** No answer within the time one try may take: the request may or may not have reached Azure DevOps. */
export class NoAnswerError extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * One try of fn, its requests aborted when `outer` aborts (a signal, ado-timeout) or after limitMs. Rejects at once
 * then, whatever fn does: with outer's reason as an AbortError (never retried), or with a NoAnswerError (retryable).
 */
export async function tryWithin<T>(fn: () => Promise<T>, outer: AbortSignal, limitMs: number): Promise<T> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  const limit = new NoAnswerError(`no answer within ${limitMs / 1000}s`);
  const timer = setTimeout(() => controller.abort(limit), limitMs);
  // A pending try must not keep a finished process alive.
  timer.unref();
  try {
    return await abortable(scope.run(controller.signal, fn), controller.signal);
  } catch (err) {
    if (outer.aborted) throw abortError(outer.reason);
    if (controller.signal.aborted) throw limit;
    throw err;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onAbort);
  }
}

/** An AbortError carrying the reason, so that retries stop and messages say why. */
export function abortError(reason: unknown): Error {
  const message = (reason as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' && message !== '' ? message : 'aborted';
  return new AbortError(text, { cause: reason });
}

/** Settles with the promise, or rejects as soon as the signal aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

// Errors of the connection attempt: the request was never written, so Azure DevOps cannot have acted on it.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** True only when the request certainly did not reach Azure DevOps (refused connection, unresolvable host). */
export function certainlyNotSent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOT_SENT.has(code);
}
