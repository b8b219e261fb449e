import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { OCI_MANIFEST, RegistryClient, RegistryError } from '../../src/registry/client.js';
import { startFaultProxy, type FaultProxy, type FaultRule, type ProxiedRequest } from '../support/fault-proxy.js';
import { freePort, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { requireTool } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const ref = (text: string): ImageReference => parseReference(text)!;
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err as RegistryError);
/** A client that records the waits between its tries instead of waiting. */
const recording = (waits: number[] = []) => new RegistryClient({ timeoutMs: 5000, sleep: async (ms) => void waits.push(ms) });

const isUploadStart = (r: ProxiedRequest) => r.method === 'POST';
const isUploadPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url.includes('/blobs/uploads/');
const isManifestPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url.includes('/manifests/');

describe.skipIf(!ready)('registry client writes against a real registry behind a fault-injecting proxy', () => {
  let registry: TestRegistry;
  const proxies: FaultProxy[] = [];
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await registry?.stop();
  });

  const proxy = async (faults: FaultRule[]) => {
    const started = await startFaultProxy(registry.host, faults);
    proxies.push(started);
    return started;
  };

  /** An image (a config blob and a manifest) written through the client. */
  async function pushImage(client: RegistryClient, at: ImageReference, text: string): Promise<{ manifest: Buffer; config: Buffer }> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', text }));
    await client.pushBlob(at, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers: [] }));
    await client.putManifest(at, manifest, OCI_MANIFEST);
    return { manifest, config };
  }

  it.each<{ name: string; faults: FaultRule[]; injected: number }>([
    { name: 'a 503 on the upload start', faults: [{ times: 1, fault: { status: 503 }, match: isUploadStart }], injected: 1 },
    { name: 'the blob PUT dropped: the upload starts again from scratch', faults: [{ times: 1, fault: 'drop', match: isUploadPut }], injected: 1 },
    { name: 'the answer to the blob PUT lost (the blob arrived): the next try\'s HEAD finds it', faults: [{ times: 1, fault: 'lose', match: isUploadPut }], injected: 1 },
    { name: 'a 500 on the blob PUT: the upload starts again from scratch', faults: [{ times: 2, fault: { status: 500 }, match: isUploadPut }], injected: 2 },
    { name: 'a 429 and a 502 on the manifest PUT', faults: [{ times: 1, fault: { status: 429 }, match: isManifestPut }, { times: 1, fault: { status: 502 }, match: isManifestPut }], injected: 2 },
    { name: 'the manifest PUT dropped', faults: [{ times: 2, fault: 'drop', match: isManifestPut }], injected: 2 },
    { name: 'the answer to the manifest PUT lost (it was stored): the same PUT again', faults: [{ times: 1, fault: 'lose', match: isManifestPut }], injected: 1 },
  ])('retries $name, and the registry holds the image', async ({ faults, injected }) => {
    const faulty = await proxy(faults);
    const repository = `writes/${faulty.host.split(':')[1]}`;
    const { manifest } = await pushImage(recording(), ref(`${faulty.host}/${repository}:v1`), repository);

    expect(faulty.seen.filter((q) => q.fault)).toHaveLength(injected);
    expect((await getManifest(registry, repository, 'v1')).digest).toBe(sha256(manifest));
    // A blob whose PUT arrived is found by the HEAD of the next try, not uploaded twice.
    if (faults.some((f) => f.fault === 'lose' && f.match === isUploadPut)) {
      expect(faulty.seen.filter(isUploadPut)).toHaveLength(1);
      expect(faulty.seen.filter((q) => q.method === 'HEAD' && q.status === 200)).toHaveLength(1);
    }
  });

  it('gives up after three tries of an upload, naming the status', async () => {
    const faulty = await proxy([{ times: 100, fault: { status: 502 }, match: isUploadStart }]);
    const waits: number[] = [];
    const err = await failure(recording(waits).pushBlob(ref(`${faulty.host}/writes/down:v1`), Buffer.from('blob')));

    expect(err).toBeInstanceOf(RegistryError);
    expect(err?.message).toMatch(/starting blob upload: registry unreachable \(HTTP 502/);
    expect(faulty.seen.filter(isUploadStart)).toHaveLength(3);
    // The upload start is a POST, not retried by itself: the whole upload is, 500 ms and then 1500 ms later.
    expect(waits).toEqual([500, 1500]);
  });

  it('never retries a final answer (400 on the manifest PUT)', async () => {
    const faulty = await proxy([{ times: 100, fault: { status: 400, body: '{"errors":[{"code":"MANIFEST_INVALID"}]}' }, match: isManifestPut }]);
    const err = await failure(recording().putManifest(ref(`${faulty.host}/writes/bad:v1`), Buffer.from('{}'), OCI_MANIFEST));

    expect(err?.reason).toBe('invalid');
    expect(faulty.seen.filter(isManifestPut)).toHaveLength(1);
  });

  it('ping: any HTTP answer means reachable; a closed port is unreachable', async () => {
    const failing = await proxy([{ times: 100, fault: { status: 500 } }]);
    const client = recording();
    expect(await client.ping(registry.host)).toBe(200);
    expect(await client.ping(failing.host)).toBe(500);
    const closed = `127.0.0.1:${await freePort()}`;
    const err = await failure(client.ping(closed));
    expect(err?.reason).toBe('unreachable');
    expect(err?.message).toContain(closed);
  });
});
