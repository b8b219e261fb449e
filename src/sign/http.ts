import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { HttpError } from '../support/http-error.js';

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** The answer's first 64 KiB, as text. */
  body: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** Bound of the whole exchange, connecting to reading the answer. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** TLS client certificate and key (PEM), for mTLS endpoints. */
  clientCert?: { cert: string; key: string };
}

const MAX_BODY = 64 * 1024;

/** The signing service will answer these the same way however often it is asked; any other failure is tried again. */
export const FINAL_STATUSES = [400, 401, 403, 415];

/** An answer other than the protocol's success code, as an HttpError saying status, reason and the answer on one line. */
export function answerError(answer: HttpAnswer, success: number, where?: string): HttpError | undefined {
  if (answer.status === success) return undefined;
  const text = answer.body.replace(/\s+/g, ' ').trim();
  const detail = `HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}${text ? `: ${text.slice(0, 200)}` : ''}`;
  return new HttpError(where ? `${where}: ${detail}` : detail, { status: answer.status, temporary: !FINAL_STATUSES.includes(answer.status) });
}

/** The server refused the TLS client certificate: every try presents the same one, so none is tried again. */
export class CertificateRefused extends Error {
  override readonly name = 'CertificateRefused';

  /** What the server did: its TLS alert, or that it closed the connection in the handshake. */
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(`the server refused the client certificate (${reason})`, options);
  }
}

// TLS alerts a server sends about the client's certificate, as OpenSSL names them in its error messages.
const CERTIFICATE_ALERT = /alert (bad certificate|unsupported certificate|certificate revoked|certificate expired|certificate unknown|unknown ca|access denied|certificate required)\b/;

/**
 * How far a TLS handshake with a client certificate got. A server refusing the certificate ends the connection after
 * the client sent it (TLS 1.2: once keys are agreed, before the handshake ends; TLS 1.3: once the client finished
 * it) and before it says anything more (a session ticket or an answer); some send an alert, others reset.
 */
class HandshakeWatch {
  private shown = false;
  private accepted = false;

  watch(req: http.ClientRequest): void {
    req.once('socket', (socket: TLSSocket) => {
      // Only the label is read: the line carries key material and is dropped at once.
      socket.on('keylog', (line: Buffer) => {
        if (line.subarray(0, 14).toString('latin1') === 'CLIENT_RANDOM ') this.shown = true;
      });
      socket.once('secureConnect', () => {
        if (socket.getProtocol() === 'TLSv1.3') this.shown = true;
        else this.accepted = true;
      });
      socket.once('session', () => (this.accepted = true));
    });
    req.once('response', () => (this.accepted = true));
  }

  /** The refusal this error is, or undefined for any other failure (tried again as before). */
  refusal(err: Error): CertificateRefused | undefined {
    const alert = CERTIFICATE_ALERT.exec(err.message)?.[1];
    if (alert && !this.accepted) return new CertificateRefused(`TLS alert "${alert}"`, { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (this.shown && !this.accepted && (code === 'ECONNRESET' || code === 'EPIPE')) {
      return new CertificateRefused('it closed the connection in the TLS handshake, after the certificate was sent', { cause: err });
    }
    return undefined;
  }
}

/**
 * One POST with node:http(s): fetch cannot present a TLS client certificate. Rejects on network errors and timeouts;
 * a server refusing the client certificate rejects with CertificateRefused.
 */
export function post(url: URL, options: PostOptions): Promise<HttpAnswer> {
  const payload = Buffer.from(options.body, 'utf8');
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: 'POST',
      headers: { ...options.headers, 'Content-Length': String(payload.length) },
      // A fresh connection per request: no pooled socket outlives the run or mixes client certificates.
      agent: false,
      signal: options.signal,
      ...(options.clientCert ? { cert: options.clientCert.cert, key: options.clientCert.key } : {}),
    });
    const handshake = options.clientCert && url.protocol === 'https:' ? new HandshakeWatch() : undefined;
    handshake?.watch(req);
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${formatMs(options.timeoutMs)}`)), options.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(handshake?.refusal(err) ?? err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk.subarray(0, MAX_BODY - size));
        size += chunk.length;
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(payload);
  });
}

export function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms}ms` : `${ms / 1000}s`;
}
