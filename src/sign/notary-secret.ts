import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Signer } from '../config/schema.js';
import { InputError } from '../errors.js';
import { isLoopbackHost } from '../reference.js';
import { isRecord } from '../support/json.js';
import type { Secrets } from '../support/secrets.js';

export type NotarySignerConfig = Extract<Signer, { type: 'notary' }>;

/** A notary signer's credentials, read from its secret file (SPEC 10); `none` when it has no secret. */
export type NotaryAuth =
  | { type: 'none' }
  | { type: 'token'; token: string }
  | { type: 'signify'; endpoint: URL; payload: string }
  | { type: 'signify-mtls'; cert: string; key: string };

/** An endpoint URL: HTTPS, or plain HTTP on a loopback host (local services and tests). Throws InputError. */
export function checkEndpoint(text: string, where: string, requireHttps = false): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${where}: ${JSON.stringify(text)} is not a URL; write https://host/path`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && !requireHttps && isLoopbackHost(url.host)) return url;
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
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new InputError(`${where}: certData is not a base64-encoded PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new InputError(`${where}: privateKeyData is not a base64-encoded PEM private key (unencrypted)`);
  }
  if (!matches) throw new InputError(`${where}: privateKeyData is not the key of the certificate in certData`);
  return { type: 'signify-mtls', cert, key };
}
