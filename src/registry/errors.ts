import { HttpError, isTemporaryStatus } from '../support/http-error.js';

export type RegistryFailure = 'not-found' | 'unauthorized' | 'unreachable' | 'invalid';

const REASONS: Record<RegistryFailure, string> = {
  'not-found': 'not found in the registry',
  unauthorized: 'not authorised',
  unreachable: 'registry unreachable',
  invalid: 'unexpected answer from the registry',
};

/**
 * A registry request that failed, naming the image and why. Another try may succeed after a 429 or 5xx, or when the
 * registry (or its token server) could not be reached or failed.
 */
export class RegistryError extends HttpError {
  constructor(
    readonly image: string,
    readonly reason: RegistryFailure,
    detail: string,
    status?: number,
    /** The distribution API's error code of the answer, e.g. NAME_UNKNOWN. */
    readonly code?: string,
  ) {
    super(`${image}: ${REASONS[reason]} (${detail})`, { status, temporary: status === undefined ? reason === 'unreachable' : isTemporaryStatus(status) });
    this.name = 'RegistryError';
  }
}

/** Maps an error answer of the distribution API to a RegistryError; `auth` says which credentials were used. */
export function describeFailure(image: string, status: number, body: string, auth: string): RegistryError {
  const code = errorCode(body);
  const http = `HTTP ${status}${code ? ` ${code}` : ''}`;
  if (status === 404) return new RegistryError(image, 'not-found', http, status, code);
  if (status === 401 || status === 403) {
    return new RegistryError(image, 'unauthorized', `${http}; ${auth}; log in with \`docker login\` or \`buildah login\``, status, code);
  }
  if (status >= 500) return new RegistryError(image, 'unreachable', `${http}: the registry failed; try again later`, status, code);
  return new RegistryError(image, 'invalid', http, status, code);
}

/** The first `errors[].code` of a distribution API error body, e.g. MANIFEST_UNKNOWN. */
function errorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown }> };
    const code = parsed.errors?.[0]?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Why a request got no answer: a timeout, or the network error's code and message. */
export function networkDetail(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return err.name === 'TimeoutError' ? `no answer within ${timeoutMs < 1000 ? `${timeoutMs}ms` : `${timeoutMs / 1000}s`}` : 'stopped';
  }
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
