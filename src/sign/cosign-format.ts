import type { ImageReference } from '../reference.js';
import { DOCKER_MANIFEST, OCI_MANIFEST, type Descriptor } from '../registry/client.js';
import { sha256 } from '../support/digest.js';
import { isRecord } from '../support/json.js';

/** cosign's signature format (sigstore `payload`, cosign `pkg/oci/static` and `mutate`), as plain functions of data. */

export const SIMPLE_SIGNING_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** What a keyless signature's layer carries besides the signature (cosign `pkg/oci/static`). */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Go's zero time, which go-containerregistry writes for `created` of the signature image and its history. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A layer of a `.sig` manifest: the payload blob, its signature in an annotation. */
export interface SignatureLayer extends Descriptor {
  mediaType: string;
  annotations?: Record<string, string>;
}

/** A signature image ready to push: config blob, manifest and its media type. */
export interface SignatureImage {
  config: Buffer;
  manifest: Buffer;
  mediaType: string;
  /** Signatures in the manifest, the new one included. */
  count: number;
}

/** What the registry holds under a `.sig` tag: manifest (served type and parsed) and config. */
export interface ExistingSignatures {
  mediaType: string;
  manifest: Record<string, unknown> & { config?: Descriptor; layers?: SignatureLayer[] };
  config: Record<string, unknown>;
}

/** `YYYYMMDD.HHMMSS` in UTC: kpack's buildTimestamp (Go layout 20060102.150405). */
export function buildTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** kpack's default annotations (buildNumber when the CI system gives one, buildTimestamp), then the configured ones, which win. */
export function signatureAnnotations(configured: Record<string, string> | undefined, run: { buildNumber?: string; now: Date }): Record<string, string> {
  return { ...(run.buildNumber ? { buildNumber: run.buildNumber } : {}), buildTimestamp: buildTimestamp(run.now), ...configured };
}

/** The repository as go-containerregistry names it (`Repository.Name()`): Docker Hub as index.docker.io, with library/. */
export function dockerReference(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  const registry = ref.registry === 'docker.io' ? 'index.docker.io' : ref.registry;
  const repository = registry === 'index.docker.io' && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
  return `${registry}/${repository}`;
}

/** Go's encoding/json output: JSON.stringify plus the HTML-safe escapes Go applies. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The simple-signing payload cosign signs, byte for byte as `cosign sign` writes it: Go field order, `optional`
 * with sorted keys, or null without annotations.
 */
export function simpleSigningPayload(dockerRef: string, digest: string, annotations: Record<string, string>): Buffer {
  const keys = Object.keys(annotations).sort();
  const optional = keys.length > 0 ? Object.fromEntries(keys.map((k) => [k, annotations[k]])) : null;
  const critical = { identity: { 'docker-reference': dockerRef }, image: { 'docker-manifest-digest': digest }, type: COSIGN_SIGNATURE_TYPE };
  return Buffer.from(goJson({ critical, optional }), 'utf8');
}

/** `sha256-<hex>.sig`: the tag cosign stores an image's signatures under. */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** The layer of one signature: the payload's descriptor with the base64 signature annotation (and a keyless one's certificate, chain, bundle). */
export function signatureLayer(payload: Buffer, signature: string, keyless?: { certificate: string; chain: string; bundle: string }): SignatureLayer {
  const annotations = { [SIGNATURE_ANNOTATION]: signature };
  if (keyless) Object.assign(annotations, { [CERTIFICATE_ANNOTATION]: keyless.certificate, [CHAIN_ANNOTATION]: keyless.chain, [BUNDLE_ANNOTATION]: keyless.bundle });
  return { mediaType: SIMPLE_SIGNING_TYPE, size: payload.length, digest: sha256(payload), annotations };
}

/** True when a layer holds this payload with a signature `verifies` accepts (cosign's duplicate check). */
export function hasSignature(existing: ExistingSignatures | undefined, payloadDigest: string, verifies: (signature: string) => boolean): boolean {
  return (existing?.manifest.layers ?? []).some((layer) => {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    return layer.mediaType === SIMPLE_SIGNING_TYPE && layer.digest === payloadDigest && typeof signature === 'string' && verifies(signature);
  });
}

/**
 * The signature image with one more layer, as cosign's `mutate.AppendSignatures` makes it: the existing image
 * (its media types kept), else an empty one (OCI, or Docker v2 with `dockerMediaTypes`); the config gets one history
 * entry and one diff_id (the payload is stored uncompressed) per layer.
 */
export function appendSignature(existing: ExistingSignatures | undefined, layer: SignatureLayer, dockerMediaTypes: boolean): SignatureImage {
  const base = existing?.config ?? { architecture: '', created: ZERO_TIME, history: [], os: '', rootfs: { type: 'layers', diff_ids: [] }, config: {} };
  const rootfs = isRecord(base.rootfs) ? base.rootfs : { type: 'layers' };
  const config = {
    ...base,
    history: [...(Array.isArray(base.history) ? base.history : []), { created: ZERO_TIME }],
    rootfs: { ...rootfs, diff_ids: [...(Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : []), layer.digest] },
  };
  const configBytes = Buffer.from(JSON.stringify(config), 'utf8');
  const configDescriptor = { size: configBytes.length, digest: sha256(configBytes) };
  const layers = [...(existing?.manifest.layers ?? []), layer];
  let manifest: Record<string, unknown>;
  let mediaType: string;
  if (existing) {
    mediaType = existing.mediaType;
    manifest = { ...existing.manifest, config: { ...existing.manifest.config, ...configDescriptor }, layers };
  } else {
    mediaType = dockerMediaTypes ? DOCKER_MANIFEST : OCI_MANIFEST;
    const configType = dockerMediaTypes ? DOCKER_CONFIG : OCI_CONFIG;
    manifest = { schemaVersion: 2, mediaType, config: { mediaType: configType, ...configDescriptor }, layers };
  }
  return { config: configBytes, manifest: Buffer.from(JSON.stringify(manifest), 'utf8'), mediaType, count: layers.length };
}
