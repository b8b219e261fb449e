import type { Logger } from '../output/logger.js';
import type { RunContext } from '../support/context.js';
import { AbortError, HttpError, isTemporary } from '../support/http-error.js';
import { constantBackoff, retry } from '../support/retry.js';
import { InputError } from '../errors.js';
import { answerError, CertificateRefused, formatMs, post, type HttpAnswer, type PostOptions } from './http.js';
import { certificateValidity, checkEndpoint, readNotaryAuth, type NotaryAuth, type NotarySignerConfig } from './notary-secret.js';
import type { ImageSigner, SignResult } from './signer.js';
import { mtlsBody, resolveTargets, tokenBody } from './targets.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };
/** SPEC 10: up to 5 tries, the first at once, then `retry-timeout` apart. */
export const TRIES = 5;
const STOPPED = 'stopped by signal';

/**
 * SPEC 10 notary signer: reads the secret now (so problems show before any build), signs all images in one POST. A
 * client certificate outside its validity at the run's clock is bad input; one close to its end is a warning.
 */
export function notarySigner(signer: NotarySignerConfig, readFile: (path: string) => string, ctx: Pick<RunContext, 'log' | 'now'>): ImageSigner {
  const { name, config } = signer;
  const mtls = config.secret.type === 'signify-mtls';
  const endpoint = checkEndpoint(config.endpoint, `sign-config signer "${name}": endpoint`, mtls);
  const auth = readNotaryAuth(signer, readFile, ctx.log.secrets);
  if (auth.type === 'signify-mtls') {
    const { problem, warning } = certificateValidity(signer, auth.certificate, ctx.now());
    if (problem) throw new InputError(problem);
    if (warning) ctx.log.warn(warning);
  }
  return {
    name,
    async sign(images, registry, ctx): Promise<SignResult> {
      const fail = (error: string): SignResult => ({ signer: name, ok: false, signed: [], error });
      const { targets, problems } = await resolveTargets(images, registry, !mtls);
      if (problems.length > 0) {
        return fail(`cannot sign ${problems.length} of ${images.length} ${plural(images.length, 'image')}, nothing was sent:\n    ${problems.join('\n    ')}`);
      }
      // Built once: every try sends exactly these bytes.
      const body = JSON.stringify(mtls ? mtlsBody(targets) : tokenBody(targets));
      ctx.log.debug(`${name}: POST ${endpoint.origin}${endpoint.pathname} ${body}`);
      const count = `${images.length} ${plural(images.length, 'image')}`;
      const send = sender(auth, endpoint, body, config.timeout, ctx);
      const delay = config['retry-timeout'];
      let tries = 0;
      try {
        await retry(
          async (n) => {
            if (ctx.signal.aborted) throw stopped();
            tries = n;
            ctx.log.info(`signing ${count} with ${name}, try ${n} of ${TRIES}`);
            await send().catch((err: unknown) => {
              const final = !isTemporary(err);
              const next = final || n === TRIES ? '' : `; next try in ${formatMs(delay)}`;
              ctx.log.warn(`${name}: try ${n} of ${TRIES} failed: ${message(err)}${final ? ' (final: not retried)' : ''}${next}`);
              throw err;
            });
          },
          { backoff: constantBackoff(TRIES, delay) },
          ctx,
        );
      } catch (err) {
        const detail = ctx.signal.aborted ? STOPPED : message(err);
        const hint = auth.type === 'none' && /^HTTP 40[13]\b/.test(detail) ? ' (this signer has no secret and signs without authentication; add config.secret if the service needs one)' : '';
        return fail(`signing ${count} failed after ${tries} ${plural(tries, 'try', 'tries')}: ${detail}${hint}`);
      }
      ctx.log.info(`${name}: signed ${targets.map((t) => `${t.gun}:${t.tag}`).join(', ')}`);
      return { signer: name, ok: true, signed: images };
    },
  };
}

/** One try of the secret's protocol, throwing an HttpError; the signify token is fetched on the first try that needs it, then reused. */
function sender(auth: NotaryAuth, endpoint: URL, body: string, timeoutMs: number, ctx: Pick<RunContext, 'log' | 'signal'>): () => Promise<void> {
  const call = async (url: URL, headers: Record<string, string>, payload: string, success: number, clientCert?: { cert: string; key: string }): Promise<void> => {
    const answer = await postTo(url, { headers, body: payload, timeoutMs, signal: ctx.signal, clientCert }, url.origin, ctx.signal, refusedHint(auth, url));
    ctx.log.debug(`POST ${url.origin}${url.pathname} → HTTP ${answer.status}`);
    const failure = answerError(answer, success);
    if (failure) throw failure;
  };
  switch (auth.type) {
    case 'none':
      // compat: the Go tool sends the token protocol's request without an Authorization header.
      return () => call(endpoint, JSON_TYPE, body, 200);
    case 'token':
      return () => call(endpoint, { ...JSON_TYPE, Authorization: `Token ${auth.token}` }, body, 200);
    case 'signify-mtls':
      return () => call(endpoint, JSON_TYPE, body, 202, { cert: auth.cert, key: auth.key });
    case 'signify': {
      let bearer: string | undefined;
      return async () => {
        bearer ??= await signifyToken(auth, timeoutMs, ctx.signal, ctx.log);
        await call(endpoint, { ...JSON_TYPE, Authorization: `Bearer ${bearer}` }, body, 200);
      };
    }
  }
}

/**
 * One POST; a network error or a timeout becomes an HttpError without a status (tried again), an abort stops, a
 * refused client certificate is final: every try would present the same one.
 */
async function postTo(url: URL, options: PostOptions, where: string, signal: AbortSignal, refused = (err: CertificateRefused) => `${where}: ${err.message}`): Promise<HttpAnswer> {
  try {
    return await post(url, options);
  } catch (err) {
    if (signal.aborted) throw stopped();
    if (err instanceof CertificateRefused) throw new HttpError(refused(err), { temporary: false, cause: err });
    throw new HttpError(`${where}: ${message(err)}`, { cause: err });
  }
}

/** The line for a signing service that refused the signify-mtls certificate: which service, which certificate, what to do. */
function refusedHint(auth: NotaryAuth, url: URL): ((err: CertificateRefused) => string) | undefined {
  if (auth.type !== 'signify-mtls') return undefined;
  return (err) =>
    `the signing service ${url.origin}${url.pathname} refused the client certificate (subject ${auth.certificate.subject}): ${err.reason}; ` +
    'every try would be refused: the secret needs the current certificate/key pair, issued for this service and not revoked';
}

const stopped = (): Error => new AbortError(STOPPED);

/** POSTs the secret's payload to its endpoint and takes `access_token.token` from the answer. */
async function signifyToken(auth: Extract<NotaryAuth, { type: 'signify' }>, timeoutMs: number, signal: AbortSignal, log: Logger): Promise<string> {
  const where = `token endpoint ${auth.endpoint.origin}${auth.endpoint.pathname}`;
  const answer = await postTo(auth.endpoint, { headers: JSON_TYPE, body: auth.payload, timeoutMs, signal }, where, signal);
  log.debug(`POST ${where} → HTTP ${answer.status}`);
  const failure = answerError(answer, 200, where);
  if (failure) throw failure;
  let token: unknown;
  try {
    token = (JSON.parse(answer.body) as { access_token?: { token?: unknown } }).access_token?.token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') throw new HttpError(`${where} answered without access_token.token`, { status: answer.status, temporary: false });
  log.secrets.add(token);
  return token;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
