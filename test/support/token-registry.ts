import { createHash, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { selfSigned } from './fake-signer.js';
import { freePort } from './registry.js';

export interface TokenRequest {
  /** Basic auth user, undefined when anonymous. */
  user?: string;
  /** The Basic credentials were right. */
  authenticated: boolean;
  service: string | null;
  scopes: string[];
}

/**
 * A real docker-registry with `auth: token`: it answers 401 with a Bearer challenge pointing at a small token server
 * here, and accepts only JWTs signed by that server's certificate (rootcertbundle), as Docker Hub or GCR would.
 */
export interface TokenRegistry {
  host: string;
  url: string;
  /** Every request the token server got. */
  tokenRequests: TokenRequest[];
  /** Every token the server issued (for the secrets grep). */
  issued: string[];
  /** A token with these actions on the repository, minted directly (for test pushes). */
  mint(repository: string, actions: string[]): string;
  stop(): Promise<void>;
}

const SERVICE = 'image-builder-test-registry';
const ISSUER = 'image-builder-test-token-issuer';

export async function startTokenRegistry(users: Record<string, string>): Promise<TokenRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ib-token-registry-'));
  const { certFile, cert, key } = await selfSigned(dir, 'token issuer');
  const x5c = [new X509Certificate(cert).raw.toString('base64')];
  const tokenRequests: TokenRequest[] = [];
  const issued: string[] = [];
  const mint = (subject: string, access: Array<{ type: string; name: string; actions: string[] }>): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, sub: subject, aud: SERVICE, exp: now + 600, nbf: now - 60, iat: now, jti: randomBytes(8).toString('hex'), access };
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ typ: 'JWT', alg: 'RS256', x5c })}.${encode(claims)}`;
    const token = `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
    issued.push(token);
    return token;
  };

  const tokenServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const authenticated = user !== undefined && users[user] === rest.join(':');
    const scopes = url.searchParams.getAll('scope');
    tokenRequests.push({ user, authenticated, service: url.searchParams.get('service'), scopes });
    if (user !== undefined && !authenticated) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"wrong username or password"}');
      return;
    }
    // Anonymous callers get a token without access, as public token servers do.
    const access = authenticated ? scopes.map((s) => s.split(':')).map(([type = '', name = '', actions = '']) => ({ type, name, actions: actions.split(',') })) : [];
    const token = mint(user ?? 'anonymous', access);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 600, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(tokenServer.address() as net.AddressInfo).port}/token`;

  try {
    const registry = await launchRegistry(dir, ['  token:', `    realm: ${realm}`, `    service: ${SERVICE}`, `    issuer: ${ISSUER}`, `    rootcertbundle: ${certFile}`]);
    const stop = async () => {
      tokenServer.closeAllConnections();
      await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
      await registry.stop();
    };
    return { ...registry, tokenRequests, issued, mint: (repository, actions) => mint('test', [{ type: 'repository', name: repository, actions }]), stop };
  } catch (err) {
    tokenServer.close();
    throw err;
  }
}

/** A real docker-registry with `auth: htpasswd`: a Basic challenge, bcrypt passwords (hashed with perl's crypt). */
export async function startHtpasswdRegistry(users: Record<string, string>): Promise<{ host: string; url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ib-basic-registry-'));
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    const salt = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '.').slice(0, 22);
    const { stdout } = await execa('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]);
    if (!stdout.startsWith('$2b$')) throw new Error(`perl crypt() cannot make bcrypt hashes here: ${stdout}`);
    lines.push(`${user}:${stdout}`);
  }
  await writeFile(path.join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
  return launchRegistry(dir, ['  htpasswd:', '    realm: image-builder-test', `    path: ${path.join(dir, 'htpasswd')}`]);
}

/** docker-registry serving dir/data on a free loopback port with the given auth: section; up when /v2/ answers 401. */
async function launchRegistry(dir: string, auth: string[]): Promise<{ host: string; url: string; stop(): Promise<void> }> {
  const host = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'config.yml');
  const storage = `storage: {filesystem: {rootdirectory: ${path.join(dir, 'data')}}}`;
  await writeFile(config, ['version: 0.1', 'log: {level: warn}', storage, `http: {addr: "${host}"}`, 'auth:', ...auth, ''].join('\n'));
  const child = execa('docker-registry', ['serve', config], { reject: false, stdin: 'ignore', all: true });
  let exited = false;
  void child.then(() => (exited = true));
  const url = `http://${host}`;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await child;
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100 && !exited; attempt++) {
    // Up means: it challenges anonymous callers.
    const status = await fetch(`${url}/v2/`).then((res) => res.status, () => 0);
    if (status === 401) return { host, url, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`docker-registry did not answer GET ${url}/v2/ with 401 within 10 s: ${(await child).all ?? ''}`);
}

export interface PushedTestImage {
  digest: string;
  size: number;
  mediaType: string;
  configDigest: string;
  configSize: number;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Uploads a blob (POST, then PUT with the digest), as any OCI client does. */
async function pushBlob(registryUrl: string, repository: string, data: Buffer, headers: Record<string, string>): Promise<string> {
  const digest = sha256(data);
  const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  if (started.status !== 202) throw new Error(`blob upload to ${repository}: HTTP ${started.status} ${await started.text()}`);
  const location = new URL(started.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { ...headers, 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) });
  if (put.status !== 201) throw new Error(`blob PUT to ${repository}: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

async function putManifest(registryUrl: string, repository: string, reference: string, mediaType: string, body: Buffer, headers: Record<string, string>): Promise<void> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, { method: 'PUT', headers: { ...headers, 'Content-Type': mediaType }, body: new Uint8Array(body) });
  if (res.status !== 201) throw new Error(`manifest PUT ${repository}:${reference}: HTTP ${res.status} ${await res.text()}`);
}

/** A tiny valid OCI image (one empty-tar layer) pushed over the distribution API; tag may be a digest-less tag only. */
export async function pushTestImage(registryUrl: string, repository: string, tag: string, options: { architecture?: string; headers?: Record<string, string> } = {}): Promise<PushedTestImage> {
  const headers = options.headers ?? {};
  const tar = Buffer.alloc(1024);
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: options.architecture ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, config: {} }));
  const layerDigest = await pushBlob(registryUrl, repository, layer, headers);
  const configDigest = await pushBlob(registryUrl, repository, config, headers);
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  await putManifest(registryUrl, repository, tag, mediaType, manifest, headers);
  return { digest: sha256(manifest), size: manifest.length, mediaType, configDigest, configSize: config.length };
}

/** An OCI index over one tiny image per architecture, pushed by digest, then the index by tag. */
export async function pushTestIndex(registryUrl: string, repository: string, tag: string, architectures: string[], headers: Record<string, string> = {}): Promise<PushedTestImage & { images: PushedTestImage[] }> {
  const images: PushedTestImage[] = [];
  for (const architecture of architectures) images.push(await pushTestImage(registryUrl, repository, `${tag}-${architecture}`, { architecture, headers }));
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map((image, i) => ({ mediaType: image.mediaType, digest: image.digest, size: image.size, platform: { os: 'linux', architecture: architectures[i] } })),
    }),
  );
  await putManifest(registryUrl, repository, tag, mediaType, index, headers);
  return { digest: sha256(index), size: index.length, mediaType, configDigest: '', configSize: 0, images };
}
