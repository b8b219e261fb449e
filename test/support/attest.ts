import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { DSSEBundleBuilder, RekorWitness, type Signature, type Signer } from '@sigstore/sign';
import { CAClient } from '@sigstore/sign/dist/signer/fulcio/ca.js';
import type { ImageReference } from '../../src/reference.js';
import type { RegistryClient } from '../../src/registry/client.js';
import { attestationLayer, attestationTag, INTOTO_PAYLOAD_TYPE, pae } from '../../src/sign/attestation.js';
import { appendSignature, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, type ExistingSignatures, type SignatureImage, type SignatureLayer } from '../../src/sign/cosign-format.js';
import { rekorBundle } from '../../src/sign/keyless.js';
import type { MockSigstore } from './sigstore.js';

/**
 * Attestations as cosign stores them (`cosign attest`): a DSSE envelope per layer of the image's `sha256-<hex>.att`
 * manifest. With a key: node:crypto over the envelope's PAE. Keyless: @sigstore/sign's DSSEBundleBuilder with a
 * Fulcio certificate of the mock CA and an intoto entry in the mock Rekor (as cosign logs an envelope), and the
 * certificate, chain and Rekor bundle as layer annotations.
 */

export const SLSA = 'https://slsa.dev/provenance/v1';

/** An SLSA provenance statement of `subject` (an image digest) that records `inputsDigest`, as the build writes it. */
export function provenance(subject: string, inputsDigest: string, change: { predicateType?: string; _type?: string } = {}): Record<string, unknown> {
  return {
    _type: change._type ?? 'https://in-toto.io/Statement/v1',
    subject: [{ name: '127.0.0.1/app', digest: { sha256: subject.replace(/^sha256:/, '') } }],
    predicateType: change.predicateType ?? SLSA,
    predicate: {
      buildDefinition: { buildType: 'https://image-builder/buildtypes/v1', externalParameters: {}, internalParameters: { ciSystem: 'github', inputsDigest }, resolvedDependencies: [] },
      runDetails: { builder: { id: 'https://image-builder' }, metadata: { startedOn: '2025-01-01T00:00:00Z', finishedOn: '2025-01-01T00:01:00Z' } },
    },
  };
}

/** The envelope blob and its `.att` layer. */
export interface SignedAttestation {
  envelope: Buffer;
  layer: SignatureLayer;
}

export interface KeySigning {
  payloadType?: string;
  /** Sign these bytes instead of the payload stored (a tampered payload). */
  signedPayload?: Buffer;
}

/** `cosign attest --key`: ECDSA-SHA256 over PAE(payloadType, payload). */
export function keyAttestation(statement: object, privateKey: KeyObject, options: KeySigning = {}): SignedAttestation {
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = options.payloadType ?? INTOTO_PAYLOAD_TYPE;
  const sig = sign('sha256', pae(payloadType, options.signedPayload ?? payload), privateKey);
  const envelope = Buffer.from(JSON.stringify({ payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] }));
  return { envelope, layer: attestationLayer(envelope, predicateTypeOf(statement)) };
}

/** `cosign attest` without a key: a certificate of the mock Fulcio for the token's subject, an intoto entry in the mock Rekor. */
export async function keylessAttestation(sigstore: MockSigstore, statement: object, token: string): Promise<SignedAttestation> {
  const signer = new FulcioChainSigner(sigstore.fulcio.url, token);
  const witness = new RekorWitness({ rekorBaseURL: sigstore.rekor.url, entryType: 'intoto' });
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [witness] }).create({ data: Buffer.from(JSON.stringify(statement)), type: INTOTO_PAYLOAD_TYPE });
  const { payloadType, payload, signatures } = bundle.content.dsseEnvelope;
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (!entry?.inclusionPromise || !entry.logId) throw new Error('the mock Rekor returned no signed entry timestamp');
  const envelope = Buffer.from(JSON.stringify({ payloadType, payload: payload.toString('base64'), signatures: signatures.map((s) => ({ keyid: '', sig: s.sig.toString('base64') })) }));
  const layer = attestationLayer(envelope, predicateTypeOf(statement));
  layer.annotations = {
    ...layer.annotations,
    [CERTIFICATE_ANNOTATION]: signer.chain[0] ?? '',
    [CHAIN_ANNOTATION]: signer.chain.slice(1).join(''),
    [BUNDLE_ANNOTATION]: rekorBundle({
      signedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      body: entry.canonicalizedBody,
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logId: entry.logId.keyId,
    }),
  };
  return { envelope, layer };
}

/** Stores the attestations as the `.att` manifest of `imageDigest` in `at` (cosign's format, one layer each, in order). */
export async function pushAttestations(client: RegistryClient, at: Pick<ImageReference, 'registry' | 'repository'>, imageDigest: string, attestations: readonly SignedAttestation[]): Promise<void> {
  const ref: ImageReference = { ...at, tag: attestationTag(imageDigest) };
  let existing: ExistingSignatures | undefined;
  let image: SignatureImage | undefined;
  for (const { envelope, layer } of attestations) {
    image = appendSignature(existing, layer, false);
    await client.pushBlob(ref, envelope);
    existing = { mediaType: image.mediaType, manifest: JSON.parse(image.manifest.toString()) as ExistingSignatures['manifest'], config: JSON.parse(image.config.toString()) as Record<string, unknown> };
  }
  if (!image) return;
  await client.pushBlob(ref, image.config);
  await client.putManifest(ref, image.manifest, image.mediaType);
}

function predicateTypeOf(statement: object): string {
  const type = (statement as { predicateType?: unknown }).predicateType;
  return typeof type === 'string' ? type : '';
}

/** FulcioSigner's steps (ephemeral P-256 key, proof of possession of the token's subject), keeping the whole chain as cosign does. */
class FulcioChainSigner implements Signer {
  chain: string[] = [];
  private readonly ca: CAClient;

  constructor(
    fulcioUrl: string,
    private readonly token: string,
  ) {
    this.ca = new CAClient({ fulcioBaseURL: fulcioUrl });
  }

  async sign(data: Buffer): Promise<Signature> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sub = (JSON.parse(Buffer.from(this.token.split('.')[1] ?? '', 'base64url').toString()) as { sub?: string }).sub ?? '';
    const challenge = sign('sha256', Buffer.from(sub), privateKey);
    this.chain = await this.ca.createSigningCertificate(this.token, publicKey.export({ format: 'pem', type: 'spki' }).toString(), challenge);
    const certificate = this.chain[0];
    if (certificate === undefined) throw new Error('the mock Fulcio returned no certificate');
    return { signature: sign('sha256', data, privateKey), key: { $case: 'x509Certificate', certificate } };
  }
}
