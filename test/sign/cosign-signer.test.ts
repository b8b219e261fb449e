import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../../src/config/schema.js';
import { Logger } from '../../src/output/logger.js';
import { parseReference } from '../../src/reference.js';
import { RegistryClient } from '../../src/registry/client.js';
import { prepareSigning, runSigners } from '../../src/sign/run.js';
import { generateTestKey, readStoredSignatures, verifiedBy, type TestKey } from '../support/cosign.js';
import { githubStyleToken } from '../support/sigstore.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage, pushTestIndex, startTokenRegistry, type PushedTestImage, type TokenRegistry } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir, testContext } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const NOW = new Date('2024-05-06T07:08:09Z');
const REGISTRY_PASSWORD = 'cosign-registry-pw-7Q';

/** Signs through the product's signing step (prepareSigning + runSigners), with keys as files and a captured log. */
async function signWith(keys: Array<{ name: string; key: TestKey; config?: Record<string, unknown> }>, images: string[], env: Record<string, string> = {}) {
  const dir = tempDir('cosign-keys');
  const signers = keys.map(({ name, key, config }): Signer => {
    const file = path.join(dir, `${name}.key`);
    writeFileSync(file, key.pkcs8);
    return { name, type: 'cosign', config: { key: file, 'docker-media-types': false, ...config } } as Signer;
  });
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
  const io = testContext({ env: { HOME: dir, ...env }, log: new Logger(stream, false), now: () => NOW });
  const failures = await runSigners(await prepareSigning(signers, io, undefined, { buildNumber: '42' }), images, io);
  return { failures, log: lines.join('') };
}

afterAll(removeTempDirs);

describe.skipIf(!ready)('cosign signer against a real registry, checked with node:crypto', () => {
  let registry: TestRegistry;
  let image: PushedTestImage;
  let index: PushedTestImage;
  const key = generateTestKey();
  const other = generateTestKey();

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushTestImage(registry.url, 'team/app', 'v1');
    await pushTestImage(registry.url, 'team/app', 'v1-again');
    index = await pushTestIndex(registry.url, 'multi', 'v1', ['amd64', 'arm64']);
  });
  afterAll(async () => registry?.stop());

  it('signs the manifest digest: payload, annotations, layer, config and signature as cosign stores them', async () => {
    const { failures, log } = await signWith([{ name: 'kpack', key, config: { annotations: { team: 'build-infra' } } }], [`${registry.host}/team/app:v1`]);
    expect(failures).toEqual([]);
    expect(log).toContain(`kpack: signed ${registry.host}/team/app:v1 (${image.digest}) → ${registry.host}/team/app:sha256-${image.digest.slice(7)}.sig (1 signature)`);
    const stored = await readStoredSignatures(registry.url, 'team/app', image.digest);
    expect(stored?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(stored?.manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    const [signature, ...more] = stored?.signatures ?? [];
    expect(more).toEqual([]);
    expect(signature?.layer.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(signature?.parsed).toEqual({
      critical: { identity: { 'docker-reference': `${registry.host}/team/app` }, image: { 'docker-manifest-digest': image.digest }, type: 'cosign container image signature' },
      optional: { buildNumber: '42', buildTimestamp: '20240506.070809', team: 'build-infra' },
    });
    expect(verifiedBy(signature!, key.publicKey)).toBe(true);
    expect(verifiedBy(signature!, other.publicKey)).toBe(false);
    expect(stored?.config).toMatchObject({ architecture: '', os: '', created: '0001-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [signature?.layer.digest] } });
  });

  it('the same payload again (another tag of the digest, or a second run) adds nothing; another key adds a layer and keeps the first', async () => {
    const before = await readStoredSignatures(registry.url, 'team/app', image.digest);
    const again = await signWith([{ name: 'kpack', key, config: { annotations: { team: 'build-infra' } } }], [`${registry.host}/team/app:v1`, `${registry.host}/team/app:v1-again`]);
    expect(again.failures).toEqual([]);
    expect(again.log).toContain(`kpack: ${registry.host}/team/app:v1-again (${image.digest}) already has this signature in ${registry.host}/team/app:sha256-`);
    expect((await readStoredSignatures(registry.url, 'team/app', image.digest))?.digest).toBe(before?.digest);

    const second = await signWith([{ name: 'second', key: other }], [`${registry.host}/team/app:v1`]);
    expect(second.log).toContain('(2 signatures)');
    const after = await readStoredSignatures(registry.url, 'team/app', image.digest);
    expect(after?.signatures.map((s) => s.layer)).toEqual([before?.signatures[0]?.layer, expect.objectContaining({ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json' })]);
    expect(after?.signatures.map((s) => [verifiedBy(s, key.publicKey), verifiedBy(s, other.publicKey)])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(after?.config.rootfs.diff_ids).toEqual(after?.signatures.map((s) => s.layer.digest));
    expect(after?.config.history).toHaveLength(2);
  });

  it('an index is signed by its own digest; docker-media-types writes Docker v2 types', async () => {
    const { failures } = await signWith([{ name: 'legacy', key, config: { 'docker-media-types': true } }], [`${registry.host}/multi:v1`]);
    expect(failures).toEqual([]);
    const stored = await readStoredSignatures(registry.url, 'multi', index.digest);
    expect(stored?.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(stored?.manifest.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(stored?.signatures[0]?.parsed.critical.image['docker-manifest-digest']).toBe(index.digest);
    expect(verifiedBy(stored!.signatures[0]!, key.publicKey)).toBe(true);
  });

  it('repository: signatures go to another repository; the image repository gets none', async () => {
    const fresh = await pushTestImage(registry.url, 'team/elsewhere', 'v1', { architecture: 'riscv64' });
    const { failures } = await signWith([{ name: 'relocated', key, config: { repository: `${registry.host}/signatures/store` } }], [`${registry.host}/team/elsewhere:v1`]);
    expect(failures).toEqual([]);
    expect(await readStoredSignatures(registry.url, 'team/elsewhere', fresh.digest)).toBeUndefined();
    const stored = await readStoredSignatures(registry.url, 'signatures/store', fresh.digest);
    expect(stored?.signatures[0]?.parsed.critical.identity['docker-reference']).toBe(`${registry.host}/team/elsewhere`);
    expect(verifiedBy(stored!.signatures[0]!, key.publicKey)).toBe(true);
  });

  it('an image the registry lacks fails the signer naming it; the other images are still signed', async () => {
    const fresh = await pushTestImage(registry.url, 'team/partial', 'v1', { architecture: 's390x' });
    const { failures } = await signWith([{ name: 'kpack', key }], [`${registry.host}/team/partial:missing`, `${registry.host}/team/partial:v1`]);
    expect(failures).toEqual([`kpack: 1 of 2 images not signed:\n    ${registry.host}/team/partial:missing: not found in the registry (HTTP 404 MANIFEST_UNKNOWN)`]);
    expect((await readStoredSignatures(registry.url, 'team/partial', fresh.digest))?.signatures).toHaveLength(1);
  });
});

describe('what cosign signers offer besides signing', () => {
  it('every cosign signer attests, keyless too; one with a key exposes its public key and its repository (trustKey), a keyless one nothing', async () => {
    const dir = tempDir('cosign-trust');
    const key = generateTestKey();
    const file = path.join(dir, 'cosign.key');
    writeFileSync(file, key.pkcs8);
    const keyless = { 'fulcio-url': 'https://fulcio.example', 'rekor-url': 'https://rekor.example', keyless: true };
    const configs = [
      { name: 'plain', type: 'cosign', config: { key: file, 'docker-media-types': false } },
      { name: 'relocated', type: 'cosign', config: { key: file, 'docker-media-types': false, repository: '127.0.0.1:5000/signatures/store' } },
      { name: 'keyless', type: 'cosign', config: { ...keyless, 'docker-media-types': false } },
    ] as Signer[];
    const io = testContext({ env: { HOME: dir, SIGSTORE_ID_TOKEN: githubStyleToken() } });
    const { signers } = await prepareSigning(configs, io);
    expect(signers.map((s) => [s.name, typeof s.attest])).toEqual([
      ['plain', 'function'],
      ['relocated', 'function'],
      ['keyless', 'function'],
    ]);
    const [plain, relocated, keylessSigner] = signers;
    expect(plain?.trustKey?.publicKey.equals(key.publicKey)).toBe(true);
    expect(plain?.trustKey?.repository).toBeUndefined();
    expect(relocated?.trustKey?.publicKey.equals(key.publicKey)).toBe(true);
    expect(relocated?.trustKey?.repository).toEqual({ registry: '127.0.0.1:5000', repository: 'signatures/store' });
    expect(keylessSigner?.trustKey).toBeUndefined();
  });
});

describe.skipIf(!ready)('cosign signer behind a bearer-token registry', () => {
  let registry: TokenRegistry;
  let image: PushedTestImage;
  const key = generateTestKey();
  const auth = () => ({ Authorization: `Bearer ${registry.mint('team/app', ['pull', 'push'])}` });

  beforeAll(async () => {
    registry = await startTokenRegistry({ ci: REGISTRY_PASSWORD });
    image = await pushTestImage(registry.url, 'team/app', 'v1', { headers: auth() });
  });
  afterAll(async () => registry?.stop());

  it('pushes with the config.json credentials and one pull,push token; anonymous: not authorised, naming the step', async () => {
    const dockerConfig = tempDir('docker-config');
    writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`ci:${REGISTRY_PASSWORD}`).toString('base64') } } }));
    registry.tokenRequests.length = 0;
    const { failures } = await signWith([{ name: 'kpack', key }], [`${registry.host}/team/app:v1`], { DOCKER_CONFIG: dockerConfig });
    expect(failures).toEqual([]);
    expect(registry.tokenRequests.map((r) => r.scopes)).toEqual([['repository:team/app:pull'], ['repository:team/app:pull', 'repository:team/app:pull,push']]);
    const stored = await readStoredSignatures(registry.url, 'team/app', image.digest, auth());
    expect(verifiedBy(stored!.signatures[0]!, key.publicKey)).toBe(true);

    const anonymous = await signWith([{ name: 'kpack', key: generateTestKey() }], [`${registry.host}/team/app:v1`]);
    expect(anonymous.failures[0]).toMatch(/^kpack: 1 of 1 image not signed:\n {4}127\.0\.0\.1:\d+\/team\/app:v1: not authorised \(HTTP 401 UNAUTHORIZED; no credentials for/);
  });

  it('registry client writes: a blob the repository has is not uploaded again; failures name the registry and the step', async () => {
    const dockerConfig = tempDir('docker-config');
    writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { username: 'ci', password: REGISTRY_PASSWORD } } }));
    const { loadCredentials } = await import('../../src/registry/auth.js');
    const client = new RegistryClient({ credentials: loadCredentials({ DOCKER_CONFIG: dockerConfig }), timeoutMs: 5000 });
    const ref = parseReference(`${registry.host}/team/blobs:t`)!;
    const blob = Buffer.from(`blob ${Date.now()}`);
    expect((await client.pushBlob(ref, blob)).uploaded).toBe(true);
    expect(await client.pushBlob(ref, blob)).toMatchObject({ uploaded: false });
    expect((await client.getBlob(ref, (await client.pushBlob(ref, blob)).digest)).equals(blob)).toBe(true);
    const anonymous = new RegistryClient({ timeoutMs: 5000 });
    const err = await anonymous.pushBlob(ref, Buffer.from('other')).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^127\.0\.0\.1:\d+\/team\/blobs: checking blob sha256:[0-9a-f]{64}: not authorised \(HTTP 401/);
    const put = await anonymous.putManifest(ref, Buffer.from('{}'), 'application/vnd.oci.image.manifest.v1+json').then(() => undefined, (e: unknown) => e as Error);
    expect(put?.message).toMatch(/^127\.0\.0\.1:\d+\/team\/blobs:t: storing the manifest: not authorised \(HTTP 401/);
  });
});
