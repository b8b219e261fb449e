import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
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
  /** TCP connections accepted since the last script(): each try of a client is one. */
  connections(): number;
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

/** tlsVersion: the highest TLS version the server speaks (a server refusing a certificate ends TLS 1.2 and 1.3 differently). */
export async function startFakeSigner(options: { tls?: TlsFiles; tlsVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<FakeSigner> {
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
    ? https.createServer({ key: options.tls.serverKey, cert: options.tls.serverCert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true, maxVersion: options.tlsVersion }, handler)
    : http.createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    requestsTo: (p) => requests.filter((r) => r.path === p),
    script(p, replies) {
      scripts.set(p, { replies, served: 0 });
      requests.length = 0;
      connections = 0;
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

/** A client certificate (P-256 key) issued by the test CA for exactly the given validity (`openssl ca`: `x509 -req` has no dates before OpenSSL 3.4). */
export async function issueClientCertificate(dir: string, tls: TlsFiles, cn: string, notBefore: Date, notAfter: Date): Promise<{ cert: string; key: string }> {
  const ca = path.join(dir, `ca-${cn}`);
  mkdirSync(path.join(ca, 'certs'), { recursive: true });
  writeFileSync(path.join(ca, 'index.txt'), '');
  writeFileSync(path.join(ca, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  writeFileSync(path.join(ca, 'ca.key'), readFileSync(path.join(path.dirname(tls.caFile), 'ca.key')));
  writeFileSync(path.join(ca, 'ca.crt'), tls.ca);
  writeFileSync(
    path.join(ca, 'ca.cnf'),
    ['[ca]', 'default_ca = test', '[test]', 'database = index.txt', 'new_certs_dir = certs', 'serial = serial', 'default_md = sha256', 'policy = any', 'unique_subject = no', 'x509_extensions = client', '[any]', 'commonName = supplied', '[client]', 'extendedKeyUsage = clientAuth', ''].join('\n'),
  );
  // openssl ca's time format: YYYYMMDDHHMMSSZ.
  const asn1 = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  await openssl(ca, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${cn}`]);
  await openssl(ca, ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', 'client.csr', '-out', 'client.crt', '-notext', '-startdate', asn1(notBefore), '-enddate', asn1(notAfter)]);
  return { cert: readFileSync(path.join(ca, 'client.crt'), 'utf8'), key: readFileSync(path.join(ca, 'client.key'), 'utf8') };
}

/** A self-signed P-256 certificate valid for `days` from now, and its key: one no test CA issued. */
export async function selfSignedClient(dir: string, cn: string, days = 7): Promise<{ cert: string; key: string }> {
  const out = path.join(dir, `self-${cn}`);
  mkdirSync(out, { recursive: true });
  await openssl(out, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', String(days), '-subj', `/CN=${cn}`]);
  return { cert: readFileSync(path.join(out, 'cert.pem'), 'utf8'), key: readFileSync(path.join(out, 'key.pem'), 'utf8') };
}

/**
 * `openssl s_server` requiring a client certificate from the test CA: unlike node's TLS server, which resets the
 * connection, it refuses another certificate with a TLS alert (unknown ca), as many signing services' front ends do.
 */
export async function startAlertingServer(tls: TlsFiles, port: number, version: 'tls1_2' | 'tls1_3'): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = path.dirname(tls.caFile);
  const child = execa('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', 'server.crt', '-key', 'server.key', '-CAfile', 'ca.crt', '-Verify', '1', '-verify_return_error', `-${version}`, '-www', '-quiet'], { cwd: dir, reject: false, stdin: 'ignore' });
  const url = `https://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (listening) return { url, stop: async () => void (child.kill(), await child) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill();
  throw new Error(`openssl s_server did not listen on ${url}: ${(await child).stderr}`);
}
