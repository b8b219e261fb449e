import { sign } from 'node:crypto';
import { parseReference, type ImageReference } from '../reference.js';
import { imageName, type RegistryClient } from '../registry/client.js';
import type { RunContext } from '../support/context.js';
import { sha256 } from '../support/digest.js';
import { appendSignature, SIGNATURE_ANNOTATION, type ExistingSignatures, type SignatureLayer } from './cosign-format.js';
import type { CosignKey } from './cosign-key.js';
import type { Attestation, SignResult } from './signer.js';

/** cosign's attestation format (`cosign attest`: DSSE envelope, static.NewAttestation, `.att` tag), as data and one effect. */

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const DSSE_ENVELOPE_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** DSSE's pre-authentication encoding: what is signed, so that the payload type cannot be swapped. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** The DSSE envelope of an in-toto statement, signed by `signPae` (ECDSA-SHA256 DER with a cosign key). */
export function dsseEnvelope(statement: Buffer, signPae: (bytes: Buffer) => Buffer): Buffer {
  const signature = signPae(pae(INTOTO_PAYLOAD_TYPE, statement));
  const envelope = { payloadType: INTOTO_PAYLOAD_TYPE, payload: statement.toString('base64'), signatures: [{ keyid: '', sig: signature.toString('base64') }] };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

/** The layer of one attestation, as cosign writes it: an empty signature annotation and the predicate type. */
export function attestationLayer(envelope: Buffer, predicateType: string): SignatureLayer {
  return { mediaType: DSSE_ENVELOPE_TYPE, size: envelope.length, digest: sha256(envelope), annotations: { [SIGNATURE_ANNOTATION]: '', predicateType } };
}

/** `sha256-<hex>.att`: the tag cosign stores an image's attestations under. */
export function attestationTag(digest: string): string {
  return `${digest.replace(':', '-')}.att`;
}

export interface AttestOptions {
  key: CosignKey;
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
  const statement = Buffer.from(JSON.stringify(attestation.statement), 'utf8');
  const envelope = dsseEnvelope(statement, (bytes) => sign('sha256', bytes, options.key.privateKey));
  const attRef: ImageReference = { ...(options.target ?? { registry: ref.registry, repository: ref.repository }), tag: attestationTag(ref.digest) };
  const next = appendSignature(await readExisting(registry, attRef), attestationLayer(envelope, attestation.statement.predicateType), options.dockerMediaTypes);
  await registry.pushBlob(attRef, envelope);
  await registry.pushBlob(attRef, next.config);
  await registry.putManifest(attRef, next.manifest, next.mediaType);
  return `attached provenance of ${attestation.image} → ${imageName(attRef)} (${next.count} ${next.count === 1 ? 'attestation' : 'attestations'})`;
}
