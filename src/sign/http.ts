import http from 'node:http';
import https from 'node:https';
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

/** One POST with node:http(s): fetch cannot present a TLS client certificate. Rejects on network errors and timeouts. */
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
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${formatMs(options.timeoutMs)}`)), options.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
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
