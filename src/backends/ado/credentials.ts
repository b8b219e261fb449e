import type { Env } from '../../ci/gitstate.js';
import { InputError } from '../../errors.js';
import { isHttpsOrLoopback } from '../../reference.js';
import { HttpError } from '../../support/http-error.js';
import type { RunContext } from '../../support/context.js';
import { exponentialBackoff, retry, type RetryPolicy } from '../../support/retry.js';

/** The Azure DevOps resource: a client-credentials token for it is what ADO accepts. */
export const ADO_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export type AdoCredential =
  | { kind: 'token'; source: '--azure-access-token' | 'ADO_PAT'; token: string }
  | { kind: 'service-principal'; source: 'flags' | 'environment' | 'flags and environment'; clientId: string; clientSecret: string; tenantId: string; tokenUrl: string };

const given = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** `AZURE_AUTHORITY_HOST` or the public cloud; plain HTTP only on loopback, so a client secret never crosses a network in clear. */
export function tokenUrl(env: Env, tenantId: string): string {
  const host = (given(env.AZURE_AUTHORITY_HOST) ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new InputError(`AZURE_AUTHORITY_HOST "${host}" is not a URL; give e.g. ${DEFAULT_AUTHORITY_HOST}`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new InputError(`AZURE_AUTHORITY_HOST "${host}" must use https; the client secret is sent to it`);
  }
  return `${host}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

/** The flags a credential may come from. */
export interface CredentialFlags {
  azureAccessToken?: string;
  azureClientId?: string;
  azureClientSecret?: string;
  azureTenantId?: string;
}

/**
 * The credential of SPEC 9, first found wins: --azure-access-token, ADO_PAT, then a service principal
 * (each of its values from the flag, else the AZURE_* variable). Pure; undefined when there is none.
 */
export function resolveCredential(options: CredentialFlags, env: Env): AdoCredential | undefined {
  const flagToken = given(options.azureAccessToken);
  if (flagToken) return { kind: 'token', source: '--azure-access-token', token: flagToken };
  const pat = given(env.ADO_PAT);
  if (pat) return { kind: 'token', source: 'ADO_PAT', token: pat };

  const parts = [
    ['--azure-client-id', 'AZURE_CLIENT_ID', given(options.azureClientId), given(env.AZURE_CLIENT_ID)],
    ['--azure-client-secret', 'AZURE_CLIENT_SECRET', given(options.azureClientSecret), given(env.AZURE_CLIENT_SECRET)],
    ['--azure-tenant-id', 'AZURE_TENANT_ID', given(options.azureTenantId), given(env.AZURE_TENANT_ID)],
  ] as const;
  const values = parts.map(([, , flag, variable]) => flag ?? variable);
  if (values.every((v) => v === undefined)) return undefined;
  const missing = parts.filter((_, i) => values[i] === undefined).map(([flag, variable]) => `${flag} (or ${variable})`);
  if (missing.length > 0) throw new InputError(`the Azure service principal is incomplete: ${missing.join(', ')} missing`);
  const fromFlags = parts.filter(([, , flag]) => flag !== undefined).length;
  const source = fromFlags === 3 ? 'flags' : fromFlags === 0 ? 'environment' : 'flags and environment';
  const [clientId, clientSecret, tenantId] = values as [string, string, string];
  return { kind: 'service-principal', source, clientId, clientSecret, tenantId, tokenUrl: tokenUrl(env, tenantId) };
}

export const NO_CREDENTIAL =
  'no Azure DevOps credentials: pass --azure-access-token, set ADO_PAT, or give a service principal with ' +
  '--azure-client-id/--azure-client-secret/--azure-tenant-id (or AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID)';

/** What --dry-run shows: where the credential comes from, every secret as ***. */
export function describeCredential(c: AdoCredential | undefined): Record<string, string> {
  if (!c) return { source: 'none', note: NO_CREDENTIAL };
  if (c.kind === 'token') return { source: c.source, scheme: tokenScheme(c.token), token: '***' };
  return { source: `service principal (${c.source})`, clientId: c.clientId, tenantId: c.tenantId, clientSecret: '***', tokenUrl: c.tokenUrl, scope: ADO_SCOPE };
}

/** A JWT is an Entra ID access token (sent as Bearer); anything else is a PAT (Basic, as the Go tool sends it). */
export function tokenScheme(token: string): 'basic' | 'bearer' {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(token) ? 'bearer' : 'basic';
}

interface TokenAnswer {
  access_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Client-credentials grant at the Microsoft identity platform; retried like every other call. Secrets go to ctx.log.secrets. */
export async function servicePrincipalToken(
  c: Extract<AdoCredential, { kind: 'service-principal' }>,
  policy: RetryPolicy,
  ctx: Pick<RunContext, 'signal' | 'log' | 'sleep'>,
): Promise<string> {
  const body = new URLSearchParams({ client_id: c.clientId, client_secret: c.clientSecret, grant_type: 'client_credentials', scope: ADO_SCOPE });
  // The secret also as the form body carries it (`!` as %21, a space as +).
  ctx.log.secrets.add(c.clientSecret, new URLSearchParams({ s: c.clientSecret }).toString().slice('s='.length));
  return retry(
    async () => {
      ctx.log.debug(`requesting an Azure DevOps token for client ${c.clientId} from ${c.tokenUrl}`);
      const res = await fetch(c.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]),
      });
      const answer = (await res.json().catch(() => ({}))) as TokenAnswer;
      if (!res.ok || typeof answer.access_token !== 'string') {
        // AADSTS descriptions end with trace lines; the first line says what is wrong.
        const why = typeof answer.error_description === 'string' ? answer.error_description.split(/\r?\n/)[0] : '';
        const what = typeof answer.error === 'string' ? answer.error : `HTTP ${res.status}`;
        // An answer without a token is the service failing: retried like a 502.
        throw new HttpError(`the identity platform refused the service principal token (${what}${why ? `: ${why}` : ''})`, { status: res.ok ? 502 : res.status });
      }
      return answer.access_token;
    },
    { backoff: exponentialBackoff(policy), onRetry: (err, n, wait) => ctx.log.debug(`token request failed (try ${n}): ${(err as Error).message}; retrying in ${wait} ms`) },
    ctx,
  );
}

/** How requests authenticate: a PAT as Basic, an Entra ID token as Bearer. */
export interface AuthToken {
  scheme: 'basic' | 'bearer';
  token: string;
}

/** The token to send; a service principal's is fetched first. Every secret met is added to ctx.log.secrets. */
export async function authToken(c: AdoCredential, policy: RetryPolicy, ctx: Pick<RunContext, 'signal' | 'log' | 'sleep'>): Promise<AuthToken> {
  if (c.kind === 'token') {
    // azure-devops-node-api sends a PAT in the header `Basic base64(PAT:<token>)`.
    ctx.log.secrets.add(c.token, Buffer.from(`PAT:${c.token}`).toString('base64'));
    return { scheme: tokenScheme(c.token), token: c.token };
  }
  const token = await servicePrincipalToken(c, policy, ctx);
  ctx.log.secrets.add(token);
  return { scheme: 'bearer', token };
}
