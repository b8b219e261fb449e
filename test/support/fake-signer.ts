import { writeFileSync, readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { execa } from 'execa';

/** One scripted answer of the fake signing service. */
export interface FakeReply {
  status: number;
  body?: string;
  /** Wait this long before answering (to exceed the client's timeout). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** CN of the TLS client certificate, when one was presented. */
  clientCN?: string;
  /** Date.now() when the request was complete. */
  at: number;
}

/** A signing service on 127.0.0.1 speaking plain HTTP, or HTTPS that requires a client certificate (signify-mtls). */
export interface FakeSigner {
  /** `http(s)://127.0.0.1:PORT` */
  url: string;
  requests: RecordedRequest[];
  requestsTo(path: string): RecordedRequest[];
  /** Replies for path, one per request in order; the last one repeats. Resets the request log. */
  script(path: string, replies: FakeReply[]): void;
  stop(): Promise<void>;
}

export interface TlsFiles {
  /** PEM of the CA that signed the server and client certificates (give it to the CLI as NODE_EXTRA_CA_CERTS). */
  caFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export async function startFakeSigner(options: { tls?: TlsFiles } = {}): Promise<FakeSigner> {
  const scripts = new Map<string, { replies: FakeReply[]; served: number }>();
  const requests: RecordedRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
      const peer = options.tls ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
      const clientCN = peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : undefined;
      requests.push({ method: req.method ?? '', path: urlPath, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), clientCN, at: Date.now() });
      const script = scripts.get(urlPath);
      const reply = script ? (script.replies[Math.min(script.served++, script.replies.length - 1)] ?? { status: 500 }) : { status: 404, body: 'no script for this path' };
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'Content-Type': 'application/json' });
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  };
  const server = options.tls
    ? https.createServer({ key: options.tls.serverKey, cert: options.tls.serverCert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    requestsTo: (p) => requests.filter((r) => r.path === p),
    script(p, replies) {
      scripts.set(p, { replies, served: 0 });
      requests.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

/** A test CA, a server certificate for 127.0.0.1/localhost and a client certificate (CN=image-builder-test), all signed by it. */
export async function makeCertificates(dir: string): Promise<TlsFiles> {
  const file = (name: string) => path.join(dir, name);
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=image-builder test CA']);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'image-builder-test']] as const) {
    await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const read = (name: string) => readFileSync(file(name), 'utf8');
  return {
    caFile: file('ca.crt'),
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

/** A self-signed certificate and its key (PEM files in dir), e.g. for signing registry tokens. */
export async function selfSigned(dir: string, cn: string): Promise<{ certFile: string; cert: string; key: string }> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', `/CN=${cn}`]);
  return { certFile: path.join(dir, 'self.crt'), cert: readFileSync(path.join(dir, 'self.crt'), 'utf8'), key: readFileSync(path.join(dir, 'self.key'), 'utf8') };
}
