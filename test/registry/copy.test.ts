import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference, type ImageReference } from '../../src/reference.js';
import { loadCredentials } from '../../src/registry/auth.js';
import { RegistryClient } from '../../src/registry/client.js';
import { copyImage } from '../../src/registry/copy.js';
import { startFaultProxy, type FaultProxy, type FaultRule, type ProxiedRequest } from '../support/fault-proxy.js';
import { getBlob, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { pushTestImage, pushTestIndex, startTokenRegistry } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry') && requireTool('buildah', 'apt-get install buildah');
const ref = (text: string): ImageReference => parseReference(text) ?? expect.unreachable(`bad reference ${text}`);

/** A client reading only the given Docker config.json `auths`. */
function client(auths: Record<string, unknown> = {}): RegistryClient {
  const dir = tempDir('docker-config');
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return new RegistryClient({ credentials: loadCredentials({ DOCKER_CONFIG: dir, HOME: dir }), timeoutMs: 10_000 });
}

const isMount = (r: ProxiedRequest) => r.method === 'POST' && r.url.includes('mount=');
const isPatch = (r: ProxiedRequest) => r.method === 'PATCH';
const isUploadPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url.includes('/blobs/uploads/');
const isBlobGet = (r: ProxiedRequest) => r.method === 'GET' && r.url.includes('/blobs/');

afterAll(removeTempDirs);

describe.skipIf(!ready)('copyImage between real registries: mounts within one, streams across, digests kept', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  /** The busybox shell image on the source registry: a real layer of about a megabyte. */
  let shell: string;
  const stops: Array<() => Promise<void>> = [];
  const proxy = async (registry: TestRegistry, faults: FaultRule[] = []): Promise<FaultProxy> => {
    const started = await startFaultProxy(registry.host, faults);
    stops.push(started.close);
    return started;
  };

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    stops.push(source.stop, target.stop);
    shell = await pushShellImage(source, 'dev/shell');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('within a registry: every blob mounted from the source repository, none uploaded; a second tag of the same repository costs a manifest', async () => {
    const seen = await proxy(source);
    const at = (repository: string) => ref(`${seen.host}/${repository}`);

    const results = await copyImage(client(), at('dev/shell:1'), [at('prod/shell:1'), at('prod/shell:latest'), at('team/shell:1')]);

    const { digest } = await getManifest(source, 'dev/shell', '1');
    expect(results).toEqual([
      { destination: `${seen.host}/prod/shell:1`, ok: true, digest, blobs: { mounted: 2, streamed: 0, present: 0 } },
      { destination: `${seen.host}/prod/shell:latest`, ok: true, digest, blobs: { mounted: 0, streamed: 0, present: 2 } },
      { destination: `${seen.host}/team/shell:1`, ok: true, digest, blobs: { mounted: 2, streamed: 0, present: 0 } },
    ]);
    expect(seen.seen.filter(isMount).map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(seen.seen.filter((r) => isPatch(r) || isUploadPut(r) || isBlobGet(r))).toEqual([]);
    for (const [repository, tag] of [['prod/shell', '1'], ['prod/shell', 'latest'], ['team/shell', '1']] as const) {
      expect((await getManifest(source, repository, tag)).digest).toBe(digest);
    }
  });

  it('within a registry that answers a mount with 202 (an upload started instead): streams into that upload', async () => {
    const declining = await proxy(source, [{ times: 100, match: isMount, fault: { rewrite: (p) => p.replace(/\?.*$/, '') } }]);

    const [result] = await copyImage(client(), ref(`${declining.host}/dev/shell:1`), [ref(`${declining.host}/declined/shell:1`)]);

    expect(result).toMatchObject({ ok: true, digest: (await getManifest(source, 'dev/shell', '1')).digest, blobs: { mounted: 0, streamed: 2, present: 0 } });
    expect(declining.seen.filter(isMount).map((r) => r.status)).toEqual([202, 202]);
    // The upload the declined mount started is the one used: no second POST.
    expect(declining.seen.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('across registries: blobs streamed in chunks (ranged GETs, PATCHes), then the same digest; a second copy finds every blob there', async () => {
    const seen = await proxy(target);
    const chunkBytes = 256 * 1024;
    const layer = (await getManifest(source, 'dev/shell', '1')).body.layers?.[0];
    const layerBytes = (await getBlob(source, 'dev/shell', layer?.digest ?? '')).length;
    const started = Date.now();

    const [first] = await copyImage(client(), ref(shell), [ref(`${seen.host}/prod/shell:1`)], { chunkBytes });
    const copyMs = Date.now() - started;

    const { digest } = await getManifest(source, 'dev/shell', '1');
    expect(first).toEqual({ destination: `${seen.host}/prod/shell:1`, ok: true, digest, blobs: { mounted: 0, streamed: 2, present: 0 } });
    expect((await getManifest(target, 'prod/shell', '1')).digest).toBe(digest);
    expect((await getBlob(target, 'prod/shell', layer?.digest ?? '')).equals(await getBlob(source, 'dev/shell', layer?.digest ?? ''))).toBe(true);
    // Every chunk but the last of each blob is a PATCH; the last goes with the closing PUT.
    expect(layerBytes).toBeGreaterThan(2 * chunkBytes);
    expect(seen.seen.filter(isPatch)).toHaveLength(Math.ceil(layerBytes / chunkBytes) - 1);
    expect(seen.seen.filter(isUploadPut)).toHaveLength(2);
    expect(copyMs).toBeLessThan(10_000);

    const uploads = seen.seen.length;
    const [again] = await copyImage(client(), ref(shell), [ref(`${seen.host}/prod/shell:2`)], { chunkBytes });
    expect(again).toMatchObject({ ok: true, digest, blobs: { mounted: 0, streamed: 0, present: 2 } });
    expect(seen.seen.slice(uploads).filter((r) => r.method === 'POST' || isPatch(r))).toEqual([]);
  });

  it('an index with two platform children, across registries: children stored by digest before the index, every digest equal', async () => {
    const index = await pushTestIndex(source.url, 'dev/multi', 'v1', ['amd64', 'arm64']);
    const seen = await proxy(target);

    const [result] = await copyImage(client(), ref(`${source.host}/dev/multi:v1`), [ref(`${seen.host}/prod/multi:v1`)]);

    // The two tiny images share their (empty) layer: three distinct blobs.
    expect(result).toMatchObject({ ok: true, digest: index.digest, blobs: { streamed: 3 } });
    const copied = await getManifest(target, 'prod/multi', 'v1');
    expect(copied).toMatchObject({ digest: index.digest, mediaType: index.mediaType });
    expect(copied.body.manifests?.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64']);
    for (const child of index.images) expect((await getManifest(target, 'prod/multi', child.digest)).digest).toBe(child.digest);
    const manifestPuts = seen.seen.filter((r) => r.method === 'PUT' && r.url.includes('/manifests/')).map((r) => r.url.split('/manifests/')[1]);
    expect(manifestPuts).toEqual([...index.images.map((child) => child.digest), 'v1']);
  });

  it('a copy that fails midway reports the error for that destination only; the others are copied', async () => {
    let patches = 0;
    // The layer's second chunk fails: part of the image is there already.
    const failing = await proxy(target, [{ times: 1, match: (r) => isPatch(r) && ++patches === 2, fault: { status: 500 } }]);
    const healthy = await proxy(target);

    const results = await copyImage(client(), ref(shell), [ref(`${failing.host}/broken/shell:1`), ref(`${healthy.host}/fine/shell:1`)], { chunkBytes: 256 * 1024 });

    expect(results[0]).toMatchObject({ ok: false, error: expect.stringMatching(/uploading blob sha256:[a-f0-9]{64}: registry unreachable \(HTTP 500/) });
    // Not sent again (a PATCH is not idempotent), and the upload is abandoned.
    expect(failing.seen.filter(isPatch).map((r) => r.status)).toEqual([202, 500]);
    expect(failing.seen.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([204]);
    expect(results[1]).toMatchObject({ ok: true, digest: (await getManifest(source, 'dev/shell', '1')).digest });
    expect((await fetch(`${target.url}/v2/broken/shell/manifests/1`, { method: 'HEAD' })).status).toBe(404);
  });

  it('a source that is not there: every destination reports it', async () => {
    const results = await copyImage(client(), ref(`${source.host}/dev/shell:missing`), [ref(`${target.host}/a/shell:1`), ref(`${target.host}/b/shell:1`)]);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(results[0]).toMatchObject({ error: expect.stringContaining('dev/shell:missing: not found in the registry') });
  });

  it('within a registry that wants tokens: the mount gets a token that may also read the source repository', async () => {
    const registry = await startTokenRegistry({ ci: 'secret' });
    stops.push(registry.stop);
    const pushed = await pushTestImage(registry.url, 'dev/app', 'v1', { headers: { Authorization: `Bearer ${registry.mint('dev/app', ['pull', 'push'])}` } });
    const auths = { [registry.host]: { auth: Buffer.from('ci:secret').toString('base64') } };

    const [result] = await copyImage(client(auths), ref(`${registry.host}/dev/app:v1`), [ref(`${registry.host}/prod/app:v1`)]);

    expect(result).toMatchObject({ ok: true, digest: pushed.digest, blobs: { mounted: 2, streamed: 0 } });
    expect(registry.tokenRequests.some((t) => t.scopes.includes('repository:dev/app:pull') && t.scopes.includes('repository:prod/app:pull,push'))).toBe(true);
  });
});
