import { createHash, generateKeyPairSync, randomBytes, scryptSync, verify, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

/**
 * cosign test material made from the documented formats, without the product's code: keys in cosign's encrypted
 * format (go-securesystemslib `encrypted`: scrypt + NaCl secretbox), and a reader of `.sig` manifests that checks
 * signatures with node:crypto alone.
 */

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Unencrypted PKCS#8 PEM. */
  pkcs8: string;
  /** DER PKCS#8, base64 (what an encrypted key hides). */
  derBase64: string;
  publicPem: string;
}

export function generateTestKey(curve = 'prime256v1'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  return {
    privateKey,
    publicKey,
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    derBase64: der.toString('base64'),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** PEM as Go's pem.EncodeToMemory writes it: 64-character lines. */
export function pem(type: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** A private key sealed as `cosign generate-key-pair` does: JSON {kdf, cipher, ciphertext} in an encrypted PEM block. */
export function cosignEncryptedKey(key: TestKey, password: string, options: { type?: string; N?: number; params?: Record<string, unknown>; cipher?: string } = {}): string {
  const N = options.N ?? 32768;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const boxKey = scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
  const ciphertext = xsalsa20poly1305(boxKey, nonce).encrypt(Buffer.from(key.derBase64, 'base64'));
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: options.params ?? { N, r: 8, p: 1 }, salt: b64(salt) },
    cipher: { name: options.cipher ?? 'nacl/secretbox', nonce: b64(nonce) },
    ciphertext: b64(ciphertext),
  });
  return pem(options.type ?? 'ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(json));
}

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface StoredSignature {
  /** The payload blob as stored, its digest checked against the layer's. */
  payload: Buffer;
  parsed: { critical: { identity: { 'docker-reference': string }; image: { 'docker-manifest-digest': string }; type: string }; optional: Record<string, string> | null };
  layer: { mediaType: string; size: number; digest: string; annotations: Record<string, string> };
  /** The base64 DER signature of the layer annotation. */
  signature: string;
}

export interface StoredSignatures {
  /** Digest of the `.sig` manifest as served. */
  digest: string;
  mediaType: string;
  manifest: { schemaVersion: number; mediaType?: string; config: { mediaType: string; size: number; digest: string }; layers: StoredSignature['layer'][] };
  config: { architecture: string; created: string; os: string; history: unknown[]; rootfs: { type: string; diff_ids: string[] }; config: object };
  signatures: StoredSignature[];
}

const ACCEPT = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

/**
 * The signatures stored for an image digest under `sha256-<hex>.sig` (or its attestations under `.att`: then each
 * `parsed` is a DSSE envelope), read with plain fetch; undefined when none.
 */
export async function readStoredSignatures(
  registryUrl: string,
  repository: string,
  imageDigest: string,
  headers: Record<string, string> = {},
  suffix: '.sig' | '.att' = '.sig',
): Promise<StoredSignatures | undefined> {
  const tag = `sha256-${imageDigest.replace('sha256:', '')}${suffix}`;
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, { headers: { Accept: ACCEPT, ...headers } });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${repository}:${tag}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const manifest = JSON.parse(bytes.toString('utf8')) as StoredSignatures['manifest'];
  const blob = async (digest: string): Promise<Buffer> => {
    const answer = await fetch(`${registryUrl}/v2/${repository}/blobs/${digest}`, { headers });
    if (!answer.ok) throw new Error(`GET blob ${digest}: HTTP ${answer.status}`);
    const data = Buffer.from(await answer.arrayBuffer());
    if (sha256(data) !== digest) throw new Error(`blob ${digest} has digest ${sha256(data)}`);
    return data;
  };
  const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as StoredSignatures['config'];
  const signatures: StoredSignature[] = [];
  for (const layer of manifest.layers) {
    const payload = await blob(layer.digest);
    if (payload.length !== layer.size) throw new Error(`layer ${layer.digest}: size ${payload.length}, descriptor says ${layer.size}`);
    signatures.push({ payload, parsed: JSON.parse(payload.toString('utf8')) as StoredSignature['parsed'], layer, signature: layer.annotations['dev.cosignproject.cosign/signature'] ?? '' });
  }
  return { digest: sha256(bytes), mediaType: (res.headers.get('content-type') ?? '').split(';')[0] ?? '', manifest, config, signatures };
}

/** What `cosign verify --key` checks of one signature: ECDSA-SHA256 over the exact payload bytes. */
export function verifiedBy(signature: StoredSignature, publicKey: KeyObject | string): boolean {
  return verify('sha256', signature.payload, publicKey, Buffer.from(signature.signature, 'base64'));
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/**
 * What `cosign verify-attestation --key` checks of one envelope, from the DSSE spec alone: an ECDSA-SHA256 signature
 * over PAE(payloadType, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. Returns the statement when valid.
 */
export function verifiedStatement(envelopeBytes: Buffer, publicKey: KeyObject | string): Record<string, unknown> | undefined {
  const envelope = JSON.parse(envelopeBytes.toString('utf8')) as DsseEnvelope;
  const body = Buffer.from(envelope.payload, 'base64');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${body.length} `), body]);
  const valid = envelope.signatures.some((s) => verify('sha256', pae, publicKey, Buffer.from(s.sig, 'base64')));
  return valid ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : undefined;
}
