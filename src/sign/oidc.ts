import type { Env } from '../ci/gitstate.js';
import { InputError } from '../errors.js';
import type { RunContext } from '../support/context.js';
import { isRecord } from '../support/json.js';
import { checkEndpoint } from './notary-secret.js';

/** Bound of the request to the GitHub Actions ID-token endpoint. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A token that expires sooner than this is fetched again (GitHub) or refused before it is sent to Fulcio. */
const EXPIRY_MARGIN_MS = 30_000;

export const GITHUB_ORIGIN = 'the GitHub Actions ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL)';

/** The OIDC identity token of the run's keyless signers; the token itself is registered as a secret. */
export interface IdentityToken {
  /** Where it came from, for messages: --oidc-token, SIGSTORE_ID_TOKEN or the GitHub endpoint. */
  origin: string;
  /** A token valid now: the GitHub endpoint is asked again once the token held expires; a given token that expired fails. */
  current(): Promise<string>;
}

type TokenContext = Pick<RunContext, 'log' | 'signal' | 'now'>;

/**
 * The identity token, before anything is built: in GitHub Actions from the runner's endpoint (audience sigstore),
 * else --oidc-token, else SIGSTORE_ID_TOKEN. None, an unreadable or an expired one is an InputError (exit 2).
 */
export async function readIdentityToken(env: Env, flagToken: string | undefined, ctx: TokenContext, where: string): Promise<IdentityToken> {
  const github = githubRequest(env);
  if (github) {
    ctx.log.secrets.add(github.bearer);
    const fetchToken = async (): Promise<string> => checked(await requestGithubToken(github, ctx), GITHUB_ORIGIN, ctx, where);
    let token = await fetchToken();
    return {
      origin: GITHUB_ORIGIN,
      async current() {
        if (expiresAt(token) - EXPIRY_MARGIN_MS <= ctx.now().getTime()) token = await fetchToken();
        return token;
      },
    };
  }
  const given = flagToken ? { token: flagToken, origin: '--oidc-token' } : env.SIGSTORE_ID_TOKEN ? { token: env.SIGSTORE_ID_TOKEN, origin: 'SIGSTORE_ID_TOKEN' } : undefined;
  if (!given) {
    throw new InputError(
      `${where}: keyless signing needs the CI's OIDC identity token, and there is none: in GitHub Actions give the job "permissions: id-token: write"; elsewhere pass --oidc-token or set SIGSTORE_ID_TOKEN`,
    );
  }
  const token = checked(given.token, given.origin, ctx, where);
  return {
    origin: given.origin,
    current() {
      // The build may outlast a given token: say so instead of sending Fulcio a token it refuses.
      if (expiresAt(token) - EXPIRY_MARGIN_MS <= ctx.now().getTime()) {
        return Promise.reject(new Error(`the identity token from ${given.origin} expired at ${new Date(expiresAt(token)).toISOString()}, before signing; pass a token that outlasts the build`));
      }
      return Promise.resolve(token);
    },
  };
}

/** The `exp` claim in milliseconds; the signature is not checked (Fulcio does that), only the time. */
export function expiresAt(token: string): number {
  const claims = jwtClaims(token);
  return typeof claims?.exp === 'number' ? claims.exp * 1000 : Number.NaN;
}

/** The payload of a compact JWS, or undefined when the text is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return isRecord(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Registers the token as a secret, then refuses it when it is not a JWT with an exp that is a time, or expires now. */
function checked(token: string, origin: string, ctx: TokenContext, where: string): string {
  ctx.log.secrets.add(token, ...token.split('.'));
  const claims = jwtClaims(token);
  const what = `${where}: the identity token from ${origin}`;
  if (!claims) throw new InputError(`${what} is not a JWT (header.payload.signature, base64url); give the OIDC token the CI issued`);
  if (typeof claims.exp !== 'number') {
    const found = claims.exp === undefined ? '' : ` (exp is ${claims.exp === null ? 'null' : `a ${Array.isArray(claims.exp) ? 'list' : typeof claims.exp}`})`;
    throw new InputError(`${what} has no numeric exp claim${found}; give the OIDC token the CI issued`);
  }
  const exp = expiresAt(token);
  // A Date holds ±8.64e15 ms: beyond, every message about the time would throw "Invalid time value".
  if (Number.isNaN(new Date(exp).getTime())) {
    throw new InputError(
      `${what} has an exp claim out of range (${String(claims.exp)}): expected seconds since 1970-01-01 UTC (a time JavaScript can represent, before the year 275760); give the OIDC token the CI issued`,
    );
  }
  const now = ctx.now();
  if (exp - EXPIRY_MARGIN_MS <= now.getTime()) {
    throw new InputError(`${where}: the identity token from ${origin} expired at ${new Date(exp).toISOString()} (now ${now.toISOString()}); give a fresh token`);
  }
  return token;
}

interface GithubRequest {
  url: URL;
  bearer: string;
}

/**
 * Both variables are set only for a job with `permissions: id-token: write`. The URL gets the runner's bearer token:
 * https, or plain http on a loopback host, as Fulcio's and Rekor's.
 */
function githubRequest(env: Env): GithubRequest | undefined {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) return undefined;
  const parsed = checkEndpoint(url, 'environment variable ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions ID-token endpoint)');
  parsed.searchParams.set('audience', 'sigstore');
  return { url: parsed, bearer };
}

/** GET the endpoint with the runner's bearer token; the answer is `{"value": "<jwt>"}`. */
async function requestGithubToken(request: GithubRequest, ctx: Pick<RunContext, 'signal'>): Promise<string> {
  const fail = (why: string) => new InputError(`cannot get the identity token from ${GITHUB_ORIGIN}: ${why}`);
  let response: Response;
  try {
    response = await fetch(request.url, {
      headers: { Authorization: `bearer ${request.bearer}`, Accept: 'application/json; api-version=2.0' },
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw fail(err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err));
  }
  const text = await response.text();
  if (!response.ok) throw fail(`HTTP ${response.status} from ${request.url.origin}${request.url.pathname}; check the job's "permissions: id-token: write"`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isRecord(body) || typeof body.value !== 'string' || body.value === '') throw fail('the answer has no "value" with the token');
  return body.value;
}
