import { sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  appendSignature,
  buildTimestamp,
  dockerReference,
  hasSignature,
  signatureAnnotations,
  signatureLayer,
  signatureTag,
  simpleSigningPayload,
  type ExistingSignatures,
} from '../../src/sign/cosign-format.js';
import { sha256 } from '../../src/support/digest.js';
import { generateTestKey } from '../support/cosign.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('cosign payload (sigstore payload.Cosign, as cosign sign writes it)', () => {
  it.each([
    [
      'annotations sorted by key',
      { team: 'build-infra', buildTimestamp: '20240102.030405', buildNumber: '17' },
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":{"buildNumber":"17","buildTimestamp":"20240102.030405","team":"build-infra"}}`,
    ],
    [
      'no annotations: optional is null, as Go marshals a nil map',
      {},
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":null}`,
    ],
    [
      'Go escapes <, > and & in strings',
      { note: 'a<b>&c' },
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},"optional":{"note":"a\\u003cb\\u003e\\u0026c"}}`,
    ],
  ])('%s', (_, annotations, expected) => {
    const payload = simpleSigningPayload('127.0.0.1:5000/app', DIGEST, annotations);
    expect(payload.toString('utf8')).toBe(expected);
    expect(JSON.parse(payload.toString('utf8'))).toMatchObject({ critical: { image: { 'docker-manifest-digest': DIGEST } } });
  });

  it.each([
    [{ registry: '127.0.0.1:5000', repository: 'team/app' }, '127.0.0.1:5000/team/app'],
    [{ registry: 'europe-docker.pkg.dev', repository: 'kyma/prod/app' }, 'europe-docker.pkg.dev/kyma/prod/app'],
    [{ registry: 'docker.io', repository: 'nginx' }, 'index.docker.io/library/nginx'],
    [{ registry: 'docker.io', repository: 'org/app' }, 'index.docker.io/org/app'],
    [{ registry: 'index.docker.io', repository: 'busybox' }, 'index.docker.io/library/busybox'],
  ])('docker-reference of %o is %s (go-containerregistry Repository.Name)', (ref, expected) => {
    expect(dockerReference(ref)).toBe(expected);
  });

  it('the signature tag is sha256-<hex>.sig', () => {
    expect(signatureTag(DIGEST)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
  });
});

describe('default annotations (kpack: buildNumber, buildTimestamp)', () => {
  it.each([
    ['2024-01-02T03:04:05.678Z', '20240102.030405'],
    ['1999-12-31T23:59:59.999Z', '19991231.235959'],
    ['2030-10-09T00:00:00+02:00', '20301008.220000'],
  ])('buildTimestamp of %s is %s (UTC)', (iso, expected) => {
    expect(buildTimestamp(new Date(iso))).toBe(expected);
  });

  const now = new Date('2024-05-06T07:08:09Z');
  it.each([
    ['CI build number and time', undefined, '4711', { buildNumber: '4711', buildTimestamp: '20240506.070809' }],
    ['no build number outside CI: left out', undefined, undefined, { buildTimestamp: '20240506.070809' }],
    ['configured ones added', { team: 'build-infra' }, '12', { buildNumber: '12', buildTimestamp: '20240506.070809', team: 'build-infra' }],
    ['configured ones win, as in kpack (later -cosign-annotations)', { buildTimestamp: 'pinned', buildNumber: 'x' }, '12', { buildNumber: 'x', buildTimestamp: 'pinned' }],
  ])('%s', (_, configured, buildNumber, expected) => {
    expect(signatureAnnotations(configured, { buildNumber, now })).toEqual(expected);
  });
});

describe('signature manifest (cosign mutate.AppendSignatures on go-containerregistry images)', () => {
  const key = generateTestKey();
  const payload = simpleSigningPayload('127.0.0.1:5000/app', DIGEST, {});
  const layer = signatureLayer(payload, 'MEUCIQ==');

  it('a first signature: an empty OCI image with one layer, the config cosign writes', () => {
    const image = appendSignature(undefined, layer, false);
    expect(image.config.toString()).toBe(
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${sha256(payload)}"]},"config":{}}`,
    );
    expect(image.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(image.manifest.toString()).toBe(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: image.config.length, digest: sha256(image.config) },
        layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: payload.length, digest: sha256(payload), annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' } }],
      }),
    );
    expect(image.count).toBe(1);
  });

  it('docker-media-types: Docker v2 manifest and config types, the layer type unchanged', () => {
    const image = appendSignature(undefined, layer, true);
    const manifest = JSON.parse(image.manifest.toString()) as { mediaType: string; config: { mediaType: string }; layers: Array<{ mediaType: string }> };
    expect(image.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect([manifest.mediaType, manifest.config.mediaType, manifest.layers[0]?.mediaType]).toEqual([
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.container.image.v1+json',
      'application/vnd.dev.cosign.simplesigning.v1+json',
    ]);
  });

  it('appending keeps the existing layers, fields and media type; one more history entry and diff_id', () => {
    const first = appendSignature(undefined, layer, true);
    const existing: ExistingSignatures = {
      mediaType: first.mediaType,
      manifest: { ...(JSON.parse(first.manifest.toString()) as ExistingSignatures['manifest']), annotations: { kept: 'yes' } },
      config: JSON.parse(first.config.toString()) as Record<string, unknown>,
    };
    const other = signatureLayer(simpleSigningPayload('127.0.0.1:5000/app', DIGEST, { team: 't' }), 'MEQCIA==');
    const second = appendSignature(existing, other, false);
    const manifest = JSON.parse(second.manifest.toString()) as ExistingSignatures['manifest'];
    const config = JSON.parse(second.config.toString()) as { history: unknown[]; rootfs: { diff_ids: string[] } };
    expect(second.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.layers).toEqual([layer, other]);
    expect(manifest.annotations).toEqual({ kept: 'yes' });
    expect(manifest.config).toEqual({ mediaType: 'application/vnd.docker.container.image.v1+json', size: second.config.length, digest: sha256(second.config) });
    expect(config.rootfs.diff_ids).toEqual([layer.digest, other.digest]);
    expect(config.history).toEqual([{ created: '0001-01-01T00:00:00Z' }, { created: '0001-01-01T00:00:00Z' }]);
    expect(second.count).toBe(2);
  });

  it.each([
    ['the same payload signed by this key', () => signatureLayer(payload, sign('sha256', payload, key.privateKey).toString('base64')), true],
    ['the same payload signed by another key', () => signatureLayer(payload, sign('sha256', payload, generateTestKey().privateKey).toString('base64')), false],
    ['another payload signed by this key', () => signatureLayer(Buffer.from('{}'), sign('sha256', Buffer.from('{}'), key.privateKey).toString('base64')), false],
    ['this payload, another layer type', () => ({ ...signatureLayer(payload, sign('sha256', payload, key.privateKey).toString('base64')), mediaType: 'application/octet-stream' }), false],
  ])('duplicate check: %s → %s', (_, make, expected) => {
    const stored = make();
    const existing: ExistingSignatures = { mediaType: 'application/vnd.oci.image.manifest.v1+json', manifest: { layers: [stored] }, config: {} };
    const verifies = (signature: string) => verify('sha256', payload, key.publicKey, Buffer.from(signature, 'base64'));
    expect(hasSignature(existing, sha256(payload), verifies)).toBe(expected);
  });
});
