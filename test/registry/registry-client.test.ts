import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/reference.js';
import { loadCredentials } from '../../src/registry/auth.js';
import { isIndex, RegistryClient, RegistryError } from '../../src/registry/client.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage, pushTestIndex, startHtpasswdRegistry, startTokenRegistry, type PushedTestImage, type TokenRegistry } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const ref = (text: string) => parseReference(text) ?? expect.unreachable(`bad reference ${text}`);
/** Tries follow one another at once: the delays between them are not what these tests are about. */
const noWait = async (): Promise<void> => undefined;

/** A client reading credentials from a Docker config.json holding `auths`. */
function clientWith(auths: Record<string, unknown> = {}, secrets: string[] = []): RegistryClient {
  const dir = tempDir('docker-config');
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return new RegistryClient({ credentials: loadCredentials({ DOCKER_CONFIG: dir, HOME: dir }), timeoutMs: 5000, onSecret: (s) => secrets.push(s), sleep: noWait });
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

afterAll(removeTempDirs);

describe.skipIf(!ready)('registry client against a real registry (anonymous)', () => {
  let registry: TestRegistry;
  let image: PushedTestImage;
  let index: PushedTestImage;
  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushTestImage(registry.url, 'app', 'v1');
    index = await pushTestIndex(registry.url, 'multi', 'v1', ['amd64', 'arm64']);
  });
  afterAll(async () => registry?.stop());

  it('reads a manifest by tag: media type, digest and size of the bytes served, parsed config', async () => {
    const manifest = await clientWith().getManifest(ref(`${registry.host}/app:v1`));
    expect(manifest).toMatchObject({ mediaType: image.mediaType, digest: image.digest, size: image.size });
    expect(manifest.bytes.length).toBe(image.size);
    expect(manifest.parsed.config).toMatchObject({ digest: image.configDigest, size: image.configSize });
    expect(isIndex(manifest)).toBe(false);
  });

  it('reads an index by tag, and a child by digest', async () => {
    const client = clientWith();
    const manifest = await client.getManifest(ref(`${registry.host}/multi:v1`));
    expect(isIndex(manifest)).toBe(true);
    expect(manifest).toMatchObject({ digest: index.digest, size: index.size });
    const child = manifest.parsed.manifests?.[1];
    const arm = await client.getManifest(ref(`${registry.host}/multi@${child?.digest ?? ''}`));
    expect(arm.digest).toBe(child?.digest);
  });

  it('checks a pinned digest against what the tag points to', async () => {
    await expect(clientWith().getManifest(ref(`${registry.host}/app:v1@${image.digest}`))).resolves.toMatchObject({ digest: image.digest });
    const err = await failure(clientWith().getManifest(ref(`${registry.host}/app:v1@${index.digest}`)));
    expect(err.reason).toBe('invalid');
    expect(err.message).toContain(`the tag now points to ${image.digest}`);
  });

  it.each([
    ['a tag the repository lacks', 'app:nope', 'MANIFEST_UNKNOWN'],
    ['a repository the registry lacks', 'nothing/here:v1', 'MANIFEST_UNKNOWN'],
  ])('names the image and says "not found" for %s', async (_, path, code) => {
    const err = await failure(clientWith().getManifest(ref(`${registry.host}/${path}`)));
    expect(err.reason).toBe('not-found');
    expect(err.message).toBe(`${registry.host}/${path}: not found in the registry (HTTP 404 ${code})`);
  });

  it('says "unreachable" when nothing listens', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await failure(clientWith().getManifest(ref(`127.0.0.1:${port}/app:v1`)));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toBe(`127.0.0.1:${port}/app:v1: registry unreachable (http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port})`);
  });
});

describe.skipIf(!ready)('registry client behind a bearer-token challenge (real registry, auth: token)', () => {
  let registry: TokenRegistry;
  let image: PushedTestImage;
  beforeAll(async () => {
    registry = await startTokenRegistry({ ci: 'registry-password-7' });
    image = await pushTestImage(registry.url, 'team/app', 'v1', { headers: { Authorization: `Bearer ${registry.mint('team/app', ['pull', 'push'])}` } });
  });
  afterAll(async () => registry?.stop());

  it('gets a token from the realm with Basic credentials from config.json, then reuses it', async () => {
    const secrets: string[] = [];
    const client = clientWith({ [`https://${registry.host}/v1/`]: { auth: Buffer.from('ci:registry-password-7').toString('base64') } }, secrets);
    registry.tokenRequests.length = 0;
    expect((await client.getManifest(ref(`${registry.host}/team/app:v1`))).digest).toBe(image.digest);
    await client.getManifest(ref(`${registry.host}/team/app:v1`));
    expect(registry.tokenRequests).toEqual([{ user: 'ci', authenticated: true, service: 'image-builder-test-registry', scopes: ['repository:team/app:pull'] }]);
    expect(secrets).toContain('registry-password-7');
    expect(secrets).toContain(registry.issued.at(-1));
  });

  it('takes username/password entries too', async () => {
    const client = clientWith({ [registry.host]: { username: 'ci', password: 'registry-password-7' } });
    await expect(client.getManifest(ref(`${registry.host}/team/app:v1`))).resolves.toMatchObject({ digest: image.digest });
  });

  it('anonymous: the token grants nothing, and the error says not authorised and where credentials were looked for', async () => {
    const err = await failure(clientWith().getManifest(ref(`${registry.host}/team/app:v1`)));
    expect(err.reason).toBe('unauthorized');
    expect(err.message).toMatch(new RegExp(`^${registry.host}/team/app:v1: not authorised \\(HTTP 401 UNAUTHORIZED; no credentials for ${registry.host} in .*config\\.json; log in`));
  });

  it('wrong password: the token server refuses, and the message never shows the password', async () => {
    const err = await failure(clientWith({ [registry.host]: { username: 'ci', password: 'wrong-password-1' } }).getManifest(ref(`${registry.host}/team/app:v1`)));
    expect(err.reason).toBe('unauthorized');
    expect(err.message).toContain('answered HTTP 401 when asked as ci (credentials from');
    expect(err.message).not.toContain('wrong-password-1');
  });
});

describe.skipIf(!ready)('registry client behind a Basic challenge (real registry, auth: htpasswd)', () => {
  let registry: Awaited<ReturnType<typeof startHtpasswdRegistry>>;
  beforeAll(async () => {
    registry = await startHtpasswdRegistry({ ci: 'basic-password-3' });
    await pushTestImage(registry.url, 'app', 'v1', { headers: { Authorization: `Basic ${Buffer.from('ci:basic-password-3').toString('base64')}` } });
  });
  afterAll(async () => registry?.stop());

  it('answers with the Basic credentials of config.json', async () => {
    const client = clientWith({ [registry.host]: { auth: Buffer.from('ci:basic-password-3').toString('base64') } });
    await expect(client.getManifest(ref(`${registry.host}/app:v1`))).resolves.toMatchObject({ mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  });

  it('without credentials: not authorised', async () => {
    expect((await failure(clientWith().getManifest(ref(`${registry.host}/app:v1`)))).reason).toBe('unauthorized');
  });
});

describe('registry client, answers no real registry gives', () => {
  /** A registry that answers each manifest read with the next status of `statuses`, then with a valid manifest. */
  async function flakyRegistry(statuses: number[]) {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 }, layers: [] });
    let requests = 0;
    const server = http.createServer((_req, res) => {
      const status = statuses[requests++];
      if (status === undefined) res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }).end(body);
      else res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => server.close() };
  }

  it('retries a read after 503 and 429, then succeeds', async () => {
    const flaky = await flakyRegistry([503, 429]);
    try {
      const waits: number[] = [];
      const manifest = await new RegistryClient({ sleep: async (ms) => void waits.push(ms) }).getManifest(ref(`${flaky.host}/app:v1`));
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(flaky.requests()).toBe(3);
      expect(waits).toEqual([500, 1500]);
    } finally {
      flaky.close();
    }
  });

  it('gives up after three tries, and never retries a 404', async () => {
    const down = await flakyRegistry([502, 502, 502, 502]);
    const missing = await flakyRegistry([404]);
    try {
      expect((await failure(new RegistryClient({ sleep: noWait }).getManifest(ref(`${down.host}/app:v1`)))).message).toMatch(/HTTP 502/);
      expect(down.requests()).toBe(3);
      expect((await failure(new RegistryClient({ sleep: noWait }).getManifest(ref(`${missing.host}/app:v1`)))).reason).toBe('not-found');
      expect(missing.requests()).toBe(1);
    } finally {
      down.close();
      missing.close();
    }
  });

  it('refuses content whose digest differs from Docker-Content-Digest', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: 'sha256:00', size: 1 }, layers: [] });
    const wrong = `sha256:${'0'.repeat(64)}`;
    const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': wrong }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const err = await failure(new RegistryClient({ sleep: noWait }).getManifest(ref(`${host}/app:v1`)));
      expect(err.reason).toBe('invalid');
      expect(err.message).toContain(`differs from the Docker-Content-Digest header ${wrong}`);
    } finally {
      server.close();
    }
  });
});
