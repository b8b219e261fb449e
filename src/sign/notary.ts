import type { Logger } from '../output/logger.js';
import type { Secrets } from '../support/secrets.js';
import { formatMs, post } from './http.js';
import { checkEndpoint, readNotaryAuth, type NotaryAuth, type NotarySignerConfig } from './notary-secret.js';
import { judgeAnswer, withRetries, type TryOutcome } from './retry.js';
import type { ImageSigner, SignContext, SignResult } from './signer.js';
import { mtlsBody, resolveTargets, tokenBody } from './targets.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

/** SPEC 10 notary signer: reads the secret now (so problems show before any build), signs all images in one POST. */
export function notarySigner(signer: NotarySignerConfig, readFile: (path: string) => string, secrets: Secrets): ImageSigner {
  const { name, config } = signer;
  const mtls = config.secret.type === 'signify-mtls';
  const endpoint = checkEndpoint(config.endpoint, `sign-config signer "${name}": endpoint`, mtls);
  const auth = readNotaryAuth(signer, readFile, secrets);
  return {
    name,
    async sign(images, io): Promise<SignResult> {
      const fail = (error: string): SignResult => ({ signer: name, ok: false, signed: [], error });
      const { targets, problems } = await resolveTargets(images, io.registry, !mtls);
      if (problems.length > 0) {
        return fail(`cannot sign ${problems.length} of ${images.length} ${plural(images.length, 'image')}, nothing was sent:\n    ${problems.join('\n    ')}`);
      }
      // Built once: every try sends exactly these bytes.
      const body = JSON.stringify(mtls ? mtlsBody(targets) : tokenBody(targets));
      io.log.debug(`${name}: POST ${endpoint.origin}${endpoint.pathname} ${body}`);
      const count = `${images.length} ${plural(images.length, 'image')}`;
      const result = await withRetries(sender(auth, endpoint, body, config.timeout, io), config['retry-timeout'], {
        signal: io.signal,
        onTry: (n, tries) => io.log.info(`signing ${count} with ${name}, try ${n} of ${tries}`),
        onFailure: (n, tries, detail, retryIn) =>
          io.log.warn(`${name}: try ${n} of ${tries} failed: ${detail}${retryIn === undefined ? '' : `; next try in ${formatMs(retryIn)}`}`),
      });
      if (!result.ok) {
        const hint = auth.type === 'none' && /^HTTP 40[13]\b/.test(result.detail ?? '') ? ' (this signer has no secret and signs without authentication; add config.secret if the service needs one)' : '';
        return fail(`signing ${count} failed after ${result.tries} ${plural(result.tries, 'try', 'tries')}: ${result.detail ?? 'unknown error'}${hint}`);
      }
      io.log.info(`${name}: signed ${targets.map((t) => `${t.gun}:${t.tag}`).join(', ')}`);
      return { signer: name, ok: true, signed: images };
    },
  };
}

/** One try of the secret's protocol; the signify token is fetched on the first try that needs it, then reused. */
function sender(auth: NotaryAuth, endpoint: URL, body: string, timeoutMs: number, io: SignContext): () => Promise<TryOutcome> {
  const call = async (url: URL, headers: Record<string, string>, payload: string, success: number, clientCert?: { cert: string; key: string }): Promise<TryOutcome> => {
    try {
      const answer = await post(url, { headers, body: payload, timeoutMs, signal: io.signal, clientCert });
      io.log.debug(`POST ${url.origin}${url.pathname} → HTTP ${answer.status}`);
      return judgeAnswer(answer, success);
    } catch (err) {
      return { ok: false, final: io.signal.aborted, detail: io.signal.aborted ? 'stopped by signal' : `${url.origin}: ${(err as Error).message}` };
    }
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
        if (bearer === undefined) {
          const got = await signifyToken(auth, timeoutMs, io.signal, io.log);
          if (typeof got !== 'string') return got;
          bearer = got;
        }
        return call(endpoint, { ...JSON_TYPE, Authorization: `Bearer ${bearer}` }, body, 200);
      };
    }
  }
}

/** POSTs the secret's payload to its endpoint and takes `access_token.token` from the answer. */
async function signifyToken(auth: Extract<NotaryAuth, { type: 'signify' }>, timeoutMs: number, signal: AbortSignal, log: Logger): Promise<string | TryOutcome> {
  const where = `token endpoint ${auth.endpoint.origin}${auth.endpoint.pathname}`;
  let answer;
  try {
    answer = await post(auth.endpoint, { headers: JSON_TYPE, body: auth.payload, timeoutMs, signal });
  } catch (err) {
    return { ok: false, final: signal.aborted, detail: signal.aborted ? 'stopped by signal' : `${where}: ${(err as Error).message}` };
  }
  log.debug(`POST ${where} → HTTP ${answer.status}`);
  const outcome = judgeAnswer(answer, 200);
  if (!outcome.ok) return { ...outcome, detail: `${where}: ${outcome.detail}` };
  let token: unknown;
  try {
    token = (JSON.parse(answer.body) as { access_token?: { token?: unknown } }).access_token?.token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') return { ok: false, final: true, detail: `${where} answered without access_token.token` };
  log.secrets.add(token);
  return token;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
