import { describe, expect, it } from 'vitest';
import { mtlsBody, tokenBody, type SignTarget } from '../../src/sign/targets.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const C1 = `sha256:${'c'.repeat(64)}`;
const C2 = `sha256:${'d'.repeat(64)}`;

const image: SignTarget = {
  image: 'europe-docker.pkg.dev/kyma-project/prod/app:v1',
  gun: 'europe-docker.pkg.dev/kyma-project/prod/app',
  tag: 'v1',
  manifest: { digest: D1, size: 528, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
  config: { digest: C1, size: 1234 },
};
const index: SignTarget = {
  image: '127.0.0.1:5000/multi:v2',
  gun: '127.0.0.1:5000/multi',
  tag: 'v2',
  manifest: { digest: D2, size: 700, mediaType: 'application/vnd.oci.image.index.v1+json' },
  config: { digest: C2, size: 99 },
};

describe('request bodies (SPEC 10)', () => {
  it('token and signify: one entry per image, config digest hex and size, tag as version', () => {
    expect(JSON.stringify(tokenBody([image, index]))).toBe(
      JSON.stringify([
        { notaryGun: 'europe-docker.pkg.dev/kyma-project/prod/app', sha256: 'c'.repeat(64), byteSize: 1234, version: 'v1' },
        { notaryGun: '127.0.0.1:5000/multi', sha256: 'd'.repeat(64), byteSize: 99, version: 'v2' },
      ]),
    );
  });

  it('signify-mtls: one trusted collection per image, manifest (or index) digest hex and size', () => {
    expect(JSON.stringify(mtlsBody([image, index]))).toBe(
      JSON.stringify({
        trustedCollections: [
          { gun: 'europe-docker.pkg.dev/kyma-project/prod/app', targets: [{ name: 'v1', byteSize: 528, digest: 'a'.repeat(64) }] },
          { gun: '127.0.0.1:5000/multi', targets: [{ name: 'v2', byteSize: 700, digest: 'b'.repeat(64) }] },
        ],
      }),
    );
  });

  it('token body without a config read is a bug, not a silent zero', () => {
    expect(() => tokenBody([{ ...image, config: undefined }])).toThrow('no config descriptor');
  });
});
