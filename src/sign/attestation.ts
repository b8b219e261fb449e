import { sign } from 'node:crypto';
import { parseReference, type ImageReference } from '../reference.js';
import { imageName, type RegistryClient } from '../registry/client.js';
import type { RunContext } from '../support/context.js';
import { sha256 } from '../support/digest.js';
import { appendSignature, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION, type ExistingSignatures, type SignatureLayer } from './cosign-format.js';
import type { CosignKey } from './cosign-key.js';
import { signDsseKeyless, type KeylessMaterial, type KeylessService } from './keyless.js';
import type { IdentityToken } from './oidc.js';
import type { Attestation, SignResult } from './signer.js';

/** cosign's attestation format (`cosign attest`: DSSE envelope, static.NewAttestation, `.att` tag), as data and one effect. */

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const DSSE_ENVELOPE_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** DSSE's pre-authentication encoding: what is signed, so that the payload type cannot be swapped. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A DSSE envelope's JSON, one signature without key id, as cosign stores it. */
export function envelopeJson(payloadType: string, payload: Buffer, signature: Buffer): Buffer {
  const envelope = { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: signature.toString('base64') }] };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/** The DSSE envelope of an in-toto statement, signed by `signPae` (ECDSA-SHA256 DER with a cosign key). */
export function dsseEnvelope(statement: Buffer, signPae: (bytes: Buffer) => Buffer): Buffer {
  return envelopeJson(INTOTO_PAYLOAD_TYPE, statement, signPae(pae(INTOTO_PAYLOAD_TYPE, statement)));
}

/**
 * The layer of one attestation, as cosign writes it: an empty signature annotation and the predicate type; a keyless
 * one's certificate, chain and Rekor bundle as on a keyless signature.
 */
export function attestationLayer(envelope: Buffer, predicateType: string, keyless?: KeylessMaterial): SignatureLayer {
  const annotations = { [SIGNATURE_ANNOTATION]: '', predicateType };
  if (keyless) Object.assign(annotations, { [CERTIFICATE_ANNOTATION]: keyless.certificate, [CHAIN_ANNOTATION]: keyless.chain, [BUNDLE_ANNOTATION]: keyless.bundle });
  return { mediaType: DSSE_ENVELOPE_TYPE, size: envelope.length, digest: sha256(envelope), annotations };
}

/** One statement signed: the envelope (the layer's blob) and its layer. */
export interface SignedStatement {
  envelope: Buffer;
  layer: SignatureLayer;
}

/** How a signer signs a statement (its JSON text) of a predicate type. */
export type SignStatement = (statement: Buffer, predicateType: string) => Promise<SignedStatement>;

/** With a cosign key: ECDSA-SHA256 over the envelope's PAE, as `cosign attest --key`. */
export function keyAttesting(key: CosignKey): SignStatement {
  return (statement, predicateType) => {
    const envelope = dsseEnvelope(statement, (bytes) => sign('sha256', bytes, key.privateKey));
    return Promise.resolve({ envelope, layer: attestationLayer(envelope, predicateType) });
  };
}

/** Keyless, as `cosign attest` without a key: a Fulcio certificate and a Rekor entry for each envelope. */
export function keylessAttesting(service: KeylessService, token: IdentityToken): SignStatement {
  return async (statement, predicateType) => {
    const signed = await signDsseKeyless(INTOTO_PAYLOAD_TYPE, statement, service, token);
    const envelope = envelopeJson(signed.payloadType, signed.payload, signed.sig);
    return { envelope, layer: attestationLayer(envelope, predicateType, signed) };
  };
}

/** `sha256-<hex>.att`: the tag cosign stores an image's attestations under. */
export function attestationTag(digest: string): string {
  return `${digest.replace(':', '-')}.att`;
}

export interface AttestOptions {
  signStatement: SignStatement;
  /** Another repository for signatures and attestations (the signer's `repository`, COSIGN_REPOSITORY). */
  target?: Pick<ImageReference, 'registry' | 'repository'>;
  dockerMediaTypes: boolean;
}

/** Reads what the `.att` tag holds (undefined when nothing): cosign.ts's reader of `.sig` manifests, same format. */
export type ReadExisting = (registry: RegistryClient, ref: ImageReference) => Promise<ExistingSignatures | undefined>;

/** Signs each statement and appends it to its image's `.att` manifest; one image after the other (they may share one). */
export async function attestImages(
  signer: string,
  attestations: readonly Attestation[],
  options: AttestOptions,
  registry: RegistryClient,
  readExisting: ReadExisting,
  ctx: Pick<RunContext, 'log' | 'signal'>,
): Promise<SignResult> {
  const done: string[] = [];
  const failed: string[] = [];
  for (const attestation of attestations) {
    const outcome = await attachOne(attestation, options, registry, readExisting).catch((err: unknown) => {
      if (ctx.signal.aborted) throw err;
      return new Error(err instanceof Error ? err.message : String(err));
    });
    if (outcome instanceof Error) {
      failed.push(outcome.message);
    } else {
      ctx.log.info(`${signer}: ${outcome}`);
      done.push(attestation.image);
    }
  }
  if (failed.length === 0) return { signer, ok: true, signed: done };
  return { signer, ok: false, signed: done, error: `provenance not attached for ${failed.length} of ${attestations.length}:\n    ${failed.join('\n    ')}` };
}

async function attachOne(attestation: Attestation, options: AttestOptions, registry: RegistryClient, readExisting: ReadExisting): Promise<string> {
  const ref = parseReference(attestation.image);
  if (!ref?.digest) throw new Error(`${attestation.image}: not an image reference with a digest`);
  const attRef: ImageReference = { ...(options.target ?? { registry: ref.registry, repository: ref.repository }), tag: attestationTag(ref.digest) };
  const existing = await readExisting(registry, attRef);
  const { envelope, layer } = await options.signStatement(Buffer.from(JSON.stringify(attestation.statement), 'utf8'), attestation.statement.predicateType);
  const next = appendSignature(existing, layer, options.dockerMediaTypes);
  await registry.pushBlob(attRef, envelope);
  await registry.pushBlob(attRef, next.config);
  await registry.putManifest(attRef, next.manifest, next.mediaType);
  return `attached provenance of ${attestation.image} → ${imageName(attRef)} (${next.count} ${next.count === 1 ? 'attestation' : 'attestations'})`;
}
