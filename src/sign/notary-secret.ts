import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Signer } from '../config/schema.js';
import { InputError } from '../errors.js';
import { isHttpsOrLoopback } from '../reference.js';
import { isRecord } from '../support/json.js';
import { Secrets } from '../support/secrets.js';

export type NotarySignerConfig = Extract<Signer, { type: 'notary' }>;

/** A notary signer's credentials, read from its secret file (SPEC 10); `none` when it has no secret. */
export type NotaryAuth =
  | { type: 'none' }
  | { type: 'token'; token: string }
  | { type: 'signify'; endpoint: URL; payload: string }
  | { type: 'signify-mtls'; cert: string; key: string; certificate: ClientCertificate };

/** What the run judges of a signify-mtls client certificate: nothing in it is secret. */
export interface ClientCertificate {
  /** The subject's RDNs, `CN=…, O=…`. */
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

/** These certificates live 7 days and are rotated from the previous one: a run warns when less than this is left. */
export const EXPIRY_WARNING_MS = 48 * 3_600_000;

/** An endpoint URL: HTTPS, or plain HTTP on a loopback host (local services and tests). Throws InputError. */
export function checkEndpoint(text: string, where: string, requireHttps = false): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${where}: ${JSON.stringify(text)} is not a URL; write https://host/path`);
  }
  if (url.protocol === 'https:' || (!requireHttps && isHttpsOrLoopback(url))) return url;
  const why = requireHttps ? 'a TLS client certificate needs https' : 'plain http is allowed only for loopback hosts';
  throw new InputError(`${where}: ${url.origin} is not https (${why}); use an https:// endpoint`);
}

/**
 * Reads and checks the secret file of a notary signer. Every secret value is added to the secrets before anything
 * can print it; messages never quote the file (parser messages would). A signer without secret reads nothing.
 */
export function readNotaryAuth(signer: NotarySignerConfig, readFile: (path: string) => string, secrets: Secrets): NotaryAuth {
  const secret = signer.config.secret;
  if (secret.type === 'none') return { type: 'none' };
  const { path, type } = secret;
  const where = `sign-config signer "${signer.name}": secret file ${path}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${where} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; mount the secret or fix secret.path`);
  }
  secrets.add(text);
  switch (type) {
    case 'token': {
      const token = text.trim();
      if (token === '') throw new InputError(`${where} is empty; it should hold the signing service's token`);
      return { type, token };
    }
    case 'signify':
      return readSignify(text, where, secrets);
    case 'signify-mtls':
      return readMtls(text, where, secrets);
  }
}

function readSignify(text: string, where: string, secrets: Secrets): NotaryAuth {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new InputError(`${where} is not valid YAML; it should be {endpoint: <token URL>, payload: <request body>}`);
  }
  const { endpoint, payload } = (isRecord(doc) ? doc : {}) as { endpoint?: unknown; payload?: unknown };
  const body = typeof payload === 'string' ? payload : payload !== undefined && payload !== null ? JSON.stringify(payload) : '';
  if (typeof endpoint !== 'string' || body === '') {
    throw new InputError(`${where} needs a string "endpoint" and a "payload"; it should be {endpoint: <token URL>, payload: <request body>}`);
  }
  secrets.add(body);
  return { type: 'signify', endpoint: checkEndpoint(endpoint, `${where}: endpoint`), payload: body };
}

function readMtls(text: string, where: string, secrets: Secrets): NotaryAuth {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InputError(`${where} is not valid JSON; it should be {"certData": <base64 PEM>, "privateKeyData": <base64 PEM>}`);
  }
  const { certData, privateKeyData } = (isRecord(doc) ? doc : {}) as { certData?: unknown; privateKeyData?: unknown };
  if (typeof certData !== 'string' || typeof privateKeyData !== 'string') {
    throw new InputError(`${where} needs string fields "certData" and "privateKeyData" (base64 of PEM)`);
  }
  const key = Buffer.from(privateKeyData, 'base64').toString('utf8');
  secrets.add(privateKeyData, key);
  // Single lines of the key too, in case a library ever echoes part of it.
  secrets.add(...key.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')));
  const cert = Buffer.from(certData, 'base64').toString('utf8');
  let certificateFile: X509Certificate;
  try {
    certificateFile = new X509Certificate(cert);
  } catch {
    throw new InputError(`${where}: certData is not a base64-encoded PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = certificateFile.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new InputError(`${where}: privateKeyData is not a base64-encoded PEM private key (unencrypted)`);
  }
  if (!matches) throw new InputError(`${where}: privateKeyData is not the key of the certificate in certData`);
  const certificate = {
    subject: certificateFile.subject.split('\n').filter(Boolean).join(', '),
    notBefore: new Date(certificateFile.validFrom),
    notAfter: new Date(certificateFile.validTo),
  };
  return { type: 'signify-mtls', cert, key, certificate };
}

const ROTATE = 'a new certificate/key pair must be issued from the previous one before it expires';

/**
 * A signify-mtls certificate judged at `now`: outside its validity it is a problem (the service would refuse it on
 * every try, after the build); valid for less than EXPIRY_WARNING_MS it is a warning with the time left.
 */
export function certificateValidity(signer: NotarySignerConfig, certificate: ClientCertificate, now: Date): { problem?: string; warning?: string } {
  const secret = signer.config.secret;
  const file = 'path' in secret ? ` in secret file ${secret.path}` : '';
  const where = `sign-config signer "${signer.name}": the client certificate${file} (subject ${certificate.subject})`;
  if (now.getTime() > certificate.notAfter.getTime()) {
    return { problem: `${where} expired at ${isoTime(certificate.notAfter)} (notAfter); the signing service would refuse it: ${ROTATE}; put a current pair in the secret` };
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    return {
      problem: `${where} is not valid before ${isoTime(certificate.notBefore)} (notBefore); check this machine's clock, or put the pair in use now in the secret (${ROTATE})`,
    };
  }
  const left = certificate.notAfter.getTime() - now.getTime();
  if (left >= EXPIRY_WARNING_MS) return {};
  return { warning: `${where} expires in ${hoursMinutes(left)} (notAfter ${isoTime(certificate.notAfter)}); ${ROTATE}` };
}

/**
 * --dry-run's view of a signify-mtls signer's certificate: when it expires, and a warning if it is outside its
 * validity or close to its end. A secret that cannot be read adds nothing: the dry-run reports no secret problem.
 */
export function describeClientCertificate(signer: NotarySignerConfig, readFile: (path: string) => string, now: Date): Record<string, string> {
  if (signer.config.secret.type !== 'signify-mtls') return {};
  let auth: NotaryAuth;
  try {
    // A throwaway registry: nothing of the secret is printed here, only dates and the subject.
    auth = readNotaryAuth(signer, readFile, new Secrets());
  } catch {
    return {};
  }
  if (auth.type !== 'signify-mtls') return {};
  const { problem, warning } = certificateValidity(signer, auth.certificate, now);
  const note = problem ?? warning;
  return { certificateExpires: isoTime(auth.certificate.notAfter), ...(note ? { certificateWarning: note } : {}) };
}

/** ISO 8601 to the second: certificate times have no fraction. */
const isoTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function hoursMinutes(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
