import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { loadCredentials } from '../../src/registry/auth.js';
import { OCI_INDEX, OCI_MANIFEST, RegistryClient } from '../../src/registry/client.js';
import { findImage } from '../../src/registry/lookup.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage, pushTestIndex, startHtpasswdRegistry } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const ref = (text: string): ImageReference => parseReference(text) ?? expect.unreachable(`bad reference ${text}`);

/** A client with an empty credential store of its own (nothing of the machine's logins is used), retrying without waits. */
function client(): RegistryClient {
  const dir = tempDir('docker-config');
  writeFileSync(path.join(dir, 'config.json'), '{"auths": {}}');
  return new RegistryClient({ credentials: loadCredentials({ DOCKER_CONFIG: dir, HOME: dir }), timeoutMs: 5000, sleep: async () => {} });
}

/** A registry that is no docker-registry: HEAD answers without digest nor type, `missing` repositories are a 400 NAME_UNKNOWN. */
async function startOddRegistry(): Promise<{ host: string; manifest: Buffer; stop(): Promise<void> }> {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] }));
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/v2/missing/')) {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}');
    } else if (req.method === 'HEAD') {
      res.writeHead(200).end();
    } else {
      res.writeHead(200, { 'Content-Type': OCI_MANIFEST }).end(manifest);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, manifest, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

afterAll(removeTempDirs);

describe.skipIf(!ready)('findImage: a tag looked up in a real registry, every failure a value', () => {
  let registry: TestRegistry;
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    registry = await startRegistry();
    stops.push(() => registry.stop());
  });
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('finds an image and an index by their inputs-<hex> tags: digest, media type, whether an index', async () => {
    const image = await pushTestImage(registry.url, 'lookup/app', 'inputs-0a1b');
    const index = await pushTestIndex(registry.url, 'lookup/multi', 'inputs-2c3d', ['amd64', 'arm64']);

    expect(await findImage(client(), ref(`${registry.host}/lookup/app:inputs-0a1b`))).toEqual({
      status: 'found',
      reference: `${registry.host}/lookup/app:inputs-0a1b`,
      digest: image.digest,
      mediaType: OCI_MANIFEST,
      isIndex: false,
    });
    expect(await findImage(client(), ref(`${registry.host}/lookup/multi:inputs-2c3d`))).toMatchObject({ status: 'found', digest: index.digest, mediaType: OCI_INDEX, isIndex: true });
  });

  it.each([
    { name: 'an unknown tag of a known repository', image: 'lookup/app:inputs-ffff' },
    { name: 'an unknown repository', image: 'lookup/never-pushed:inputs-ffff' },
  ])('says not found for $name', async ({ image }) => {
    await pushTestImage(registry.url, 'lookup/app', 'inputs-0a1b');
    expect(await findImage(client(), ref(`${registry.host}/${image}`))).toMatchObject({ status: 'not-found', detail: 'HTTP 404' });
  });

  it('reads the manifest when HEAD names no digest, and takes NAME_UNKNOWN for not found whatever its status', async () => {
    const odd = await startOddRegistry();
    stops.push(odd.stop);

    const found = await findImage(client(), ref(`${odd.host}/app:inputs-1`));
    expect(found).toMatchObject({ status: 'found', mediaType: OCI_MANIFEST, isIndex: false });
    expect(found.status === 'found' && found.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await findImage(client(), ref(`${odd.host}/missing/app:inputs-1`))).toMatchObject({ status: 'not-found', detail: expect.stringContaining('NAME_UNKNOWN') });
  });

  it('fails, without throwing, on a registry that answers 500 (after the client\'s retries)', async () => {
    const failing: FaultProxy = await startFaultProxy(registry.host, [{ times: 100, fault: { status: 500 } }]);
    stops.push(failing.close);
    const started = Date.now();

    const lookup = await findImage(client(), ref(`${failing.host}/lookup/app:inputs-0a1b`));

    expect(lookup).toMatchObject({ status: 'failed', reason: 'unreachable', message: expect.stringContaining('HTTP 500') });
    expect(failing.seen.filter((r) => r.method === 'HEAD')).toHaveLength(3);
    expect(failing.seen.filter((r) => r.method === 'GET')).toHaveLength(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails on a closed port, naming the address', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await findImage(client(), ref(`${closed}/lookup/app:inputs-0a1b`))).toMatchObject({ status: 'failed', reason: 'unreachable', message: expect.stringContaining(closed) });
  });

  it('fails as unauthorised on a registry that wants a login, saying which credentials were looked for', async () => {
    const locked = await startHtpasswdRegistry({ ci: 'secret' });
    stops.push(locked.stop);

    const lookup = await findImage(client(), ref(`${locked.host}/lookup/app:inputs-0a1b`));

    expect(lookup).toMatchObject({ status: 'failed', reason: 'unauthorized' });
    expect(lookup.status === 'failed' && lookup.message).toMatch(/HTTP 401 UNAUTHORIZED; no credentials for 127\.0\.0\.1:\d+ in .*config\.json/);
  });
});
