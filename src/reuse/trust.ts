/**
 * Whether an image found under `inputs-<hex>` may be reused: only when its cosign attestation (`sha256-<hex>.att`)
 * holds a DSSE envelope signed by a trusted key or keyless identity, stating SLSA provenance of this very image built
 * from these inputs. A tag proves nothing: anyone who can push can plant one. Never throws: a failure is a verdict.
 */
import { verify, X509Certificate } from 'node:crypto';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';
import { RE2JS } from 're2js';
import type { ImageReference } from '../reference.js';
import { DOCKER_MANIFEST, imageName, OCI_MANIFEST, RegistryError, type Descriptor, type Manifest, type RegistryClient } from '../registry/client.js';
import { attestationTag, DSSE_ENVELOPE_TYPE, INTOTO_PAYLOAD_TYPE, pae } from '../sign/attestation.js';
import { BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION } from '../sign/cosign-format.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from '../sign/provenance.js';
import { sha256 } from '../support/digest.js';
import { isRecord } from '../support/json.js';
import type { Trusted, TrustedIdentity, TrustedKey } from './trusted.js';

/** Bounds of what one candidate makes us read: an envelope's bytes, the layers of one `.att`, the signatures of one envelope. */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;
export const MAX_LAYERS = 64;
const MAX_SIGNATURES = 16;

export type Verdict =
  | { ok: true; /** sha256 digest of the verified DSSE envelope blob. */ attestation: string; /** Source of the key or identity. */ trustedBy: string; statement: Record<string, unknown> }
  | { ok: false; /** One line: the furthest check reached and why it failed. */ check: string };

export interface Candidate {
  registry: string;
  repository: string;
  digest: string;
}

/** How far an attestation got, in the order of the checks; the furthest failure is the one reported. */
const REACHED = { nothing: 0, layer: 1, signature: 2, payloadType: 3, statement: 4, subject: 5, predicateType: 6, inputs: 7 } as const;

type Accepted = Extract<Verdict, { ok: true }>;
type Failure = { reached: number; check: string };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export async function verifyCandidate(registry: RegistryClient, candidate: Candidate, inputsDigest: string, trusted: readonly Trusted[]): Promise<Verdict> {
  if (trusted.length === 0) return { ok: false, check: 'nothing is trusted' };
  if (!DIGEST.test(candidate.digest)) return { ok: false, check: `candidate digest ${JSON.stringify(candidate.digest)} is not sha256:<64 hex>` };
  const tag = attestationTag(candidate.digest);
  const places: ImageReference[] = [{ registry: candidate.registry, repository: candidate.repository, tag }];
  for (const t of trusted) {
    if (t.kind !== 'key' || !t.repository) continue;
    const { registry: host, repository } = t.repository;
    if (!places.some((p) => p.registry === host && p.repository === repository)) places.push({ registry: host, repository, tag });
  }
  const expected = { candidate: candidate.digest, inputsDigest };
  const missing: string[] = [];
  let furthest: Failure | undefined;
  for (const place of places) {
    const outcome = await verifyPlace(registry, place, expected, trusted).catch((err: unknown): Failure => ({ reached: REACHED.nothing, check: messageOf(err) }));
    if ('ok' in outcome) return outcome;
    if (outcome.reached === REACHED.nothing) missing.push(outcome.check);
    else if (!furthest || outcome.reached > furthest.reached) furthest = outcome;
  }
  return { ok: false, check: furthest?.check ?? `no attestation: ${missing.join('; ')}` };
}

type Expected = { candidate: string; inputsDigest: string };

/** The `.att` manifest at one place, its DSSE layers one after the other: the first that passes every check wins. */
async function verifyPlace(registry: RegistryClient, place: ImageReference, expected: Expected, trusted: readonly Trusted[]): Promise<Accepted | Failure> {
  const where = imageName(place);
  let manifest: Manifest;
  try {
    manifest = await registry.getManifest(place);
  } catch (err) {
    if (err instanceof RegistryError && err.reason === 'not-found') return { reached: REACHED.nothing, check: `${where} not found` };
    throw err;
  }
  if (manifest.mediaType !== OCI_MANIFEST && manifest.mediaType !== DOCKER_MANIFEST) return { reached: REACHED.layer, check: `${where} is ${manifest.mediaType}, not a cosign attestation manifest` };
  const all = (manifest.parsed.layers ?? []) as Array<Descriptor & { annotations?: Record<string, string> }>;
  const layers = all.slice(0, MAX_LAYERS);
  const beyond = all.length > MAX_LAYERS ? ` (only the first ${MAX_LAYERS} of its ${all.length} layers were read)` : '';
  let furthest: Failure | undefined;
  for (const [i, layer] of layers.entries()) {
    if (layer.mediaType !== DSSE_ENVELOPE_TYPE) continue;
    const outcome = await verifyLayer(registry, place, layer, expected, trusted).catch((err: unknown): Failure => ({ reached: REACHED.layer, check: messageOf(err) }));
    if ('ok' in outcome) return outcome;
    if (!furthest || outcome.reached > furthest.reached) furthest = { reached: outcome.reached, check: `${outcome.check}; at ${where} layer ${i}` };
  }
  return { reached: furthest?.reached ?? REACHED.layer, check: `${furthest?.check ?? `${where} holds no DSSE envelope layer (${DSSE_ENVELOPE_TYPE})`}${beyond}` };
}

interface Envelope {
  payloadType: string;
  payload: Buffer;
  signatures: Buffer[];
}

async function verifyLayer(
  registry: RegistryClient,
  place: ImageReference,
  layer: Descriptor & { annotations?: Record<string, string> },
  expected: Expected,
  trusted: readonly Trusted[],
): Promise<Accepted | Failure> {
  const bytes = await readEnvelopeBlob(registry, place, layer);
  if (typeof bytes === 'string') return { reached: REACHED.layer, check: bytes };
  const envelope = parseEnvelope(bytes);
  if (!envelope) return { reached: REACHED.layer, check: 'the layer is not a DSSE envelope (JSON with payloadType, payload and signatures)' };
  const signed = signedBy(envelope, layer.annotations ?? {}, trusted);
  if (typeof signed === 'string') return { reached: REACHED.signature, check: signed };
  const by = `attestation signed by ${signed.kind === 'key' ? 'a trusted key' : 'a trusted identity'} (${signed.source}), but`;
  if (envelope.payloadType !== INTOTO_PAYLOAD_TYPE) return { reached: REACHED.payloadType, check: `${by} its payload type is ${JSON.stringify(envelope.payloadType)}, not ${INTOTO_PAYLOAD_TYPE}` };
  let statement: unknown;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8'));
  } catch {
    statement = undefined;
  }
  if (!isRecord(statement) || statement._type !== STATEMENT_TYPE) return { reached: REACHED.statement, check: `${by} its payload is not an in-toto statement (_type ${STATEMENT_TYPE})` };
  const subjects = (Array.isArray(statement.subject) ? statement.subject : []).map((s: unknown) => (isRecord(s) && isRecord(s.digest) && typeof s.digest.sha256 === 'string' ? `sha256:${s.digest.sha256}` : undefined));
  if (!subjects.includes(expected.candidate)) {
    const named = subjects.filter((s) => s !== undefined).join(', ') || 'no sha256 digest';
    return { reached: REACHED.subject, check: `${by} its subject is ${named}, not the candidate ${expected.candidate}` };
  }
  if (statement.predicateType !== SLSA_PROVENANCE_V1) return { reached: REACHED.predicateType, check: `${by} predicate type ${JSON.stringify(statement.predicateType)} is not ${SLSA_PROVENANCE_V1}` };
  const predicate = statement.predicate;
  const buildDefinition = isRecord(predicate) ? predicate.buildDefinition : undefined;
  const internal = isRecord(buildDefinition) ? buildDefinition.internalParameters : undefined;
  const recorded = isRecord(internal) ? internal.inputsDigest : undefined;
  if (recorded !== expected.inputsDigest) {
    const what = typeof recorded === 'string' ? `inputs digest ${recorded}` : 'no inputs digest';
    return { reached: REACHED.inputs, check: `attestation records ${what}, not this build's ${expected.inputsDigest} (signed by ${signed.source})` };
  }
  return { ok: true, attestation: layer.digest, trustedBy: signed.source, statement };
}

/** The layer's blob, at most MAX_ENVELOPE_BYTES, its size and digest checked against the descriptor; a string says why not. */
async function readEnvelopeBlob(registry: RegistryClient, place: ImageReference, layer: Descriptor): Promise<Buffer | string> {
  if (typeof layer.digest !== 'string' || !DIGEST.test(layer.digest)) return `the layer's digest ${JSON.stringify(layer.digest)} is not sha256:<64 hex>`;
  if (typeof layer.size !== 'number' || !Number.isSafeInteger(layer.size) || layer.size < 0) return `the layer's size ${JSON.stringify(layer.size)} is not a byte count`;
  if (layer.size > MAX_ENVELOPE_BYTES) return `the layer has ${layer.size} bytes, more than the ${MAX_ENVELOPE_BYTES} an attestation may have`;
  const res = await registry.request(place, { path: `blobs/${layer.digest}` });
  if (!res.ok) {
    await res.body?.cancel();
    return `reading blob ${layer.digest}: HTTP ${res.status}`;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    total += chunk.value.length;
    if (total > layer.size) {
      await reader?.cancel();
      return `blob ${layer.digest} has more bytes than the ${layer.size} its descriptor says`;
    }
    chunks.push(chunk.value);
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== layer.size) return `blob ${layer.digest} has ${bytes.length} bytes, not the ${layer.size} its descriptor says`;
  if (sha256(bytes) !== layer.digest) return `blob ${layer.digest} as served has digest ${sha256(bytes)}: not the blob its descriptor names`;
  return bytes;
}

function parseEnvelope(bytes: Buffer): Envelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(json) || typeof json.payloadType !== 'string' || typeof json.payload !== 'string' || !Array.isArray(json.signatures)) return undefined;
  const signatures = json.signatures.flatMap((s: unknown) => (isRecord(s) && typeof s.sig === 'string' ? [Buffer.from(s.sig, 'base64')] : []));
  return { payloadType: json.payloadType, payload: Buffer.from(json.payload, 'base64'), signatures };
}

/** The trusted key or identity whose signature over PAE(payloadType, payload) verifies; else a line saying why none. */
function signedBy(envelope: Envelope, annotations: Record<string, string>, trusted: readonly Trusted[]): Trusted | string {
  const message = pae(envelope.payloadType, envelope.payload);
  const keys = trusted.filter((t): t is TrustedKey => t.kind === 'key');
  const identities = trusted.filter((t): t is TrustedIdentity => t.kind === 'keyless');
  for (const signature of envelope.signatures.slice(0, MAX_SIGNATURES)) {
    const key = keys.find((k) => verifies(message, k, signature));
    if (key) return key;
  }
  const keyless = annotations[CERTIFICATE_ANNOTATION] !== undefined && annotations[BUNDLE_ANNOTATION] !== undefined;
  let why: string | undefined;
  if (keyless && identities.length === 0) why = 'it is signed keyless, and no keyless identity is trusted';
  if (keyless && identities.length > 0) {
    const outcome = keylessSigner(envelope, annotations, identities);
    if (typeof outcome !== 'string') return outcome;
    why = outcome;
  }
  const count = [plural(keys.length, 'key', 'keys'), plural(identities.length, 'identity', 'identities')].filter(Boolean).join(', ');
  return `attestation not signed by a trusted key or identity (trusted: ${count})${why ? `: ${why}` : ''}`;
}

function verifies(message: Buffer, key: TrustedKey, signature: Buffer): boolean {
  try {
    return verify('sha256', message, key.publicKey, signature);
  } catch {
    return false;
  }
}

const plural = (n: number, one: string, many: string): string => (n === 0 ? '' : `${n} ${n === 1 ? one : many}`);

type SigstoreBundle = Parameters<typeof toSignedEntity>[0];

/**
 * Keyless, as `cosign verify-attestation` does: a sigstore bundle assembled from the layer (the envelope, the Fulcio
 * certificate, the Rekor entry with its signed entry timestamp) is verified with @sigstore/verify against each trusted
 * root; then the certificate's issuer must equal the trusted one and its identity match the RE2 pattern whole.
 */
function keylessSigner(envelope: Envelope, annotations: Record<string, string>, identities: readonly TrustedIdentity[]): TrustedIdentity | string {
  const bundle = cosignBundle(envelope, annotations);
  if (typeof bundle === 'string') return bundle;
  const reasons: string[] = [];
  const verified = new Map<TrustMaterial, { identity?: string; issuer?: string } | string>();
  for (const trustedIdentity of identities) {
    const material = trustedIdentity.trustMaterial;
    if (!material) {
      reasons.push(`${trustedIdentity.source} has no trusted-root, and sigstore's public-good trusted root is neither built in nor fetched: give trusted-root (sigstore's trusted_root.json)`);
      continue;
    }
    let signer = verified.get(material);
    if (signer === undefined) {
      try {
        const { identity } = new Verifier(material).verify(toSignedEntity(bundle));
        signer = { identity: identity?.subjectAlternativeName, issuer: identity?.extensions?.issuer };
      } catch (err) {
        signer = `its signature does not verify against the trusted root of ${trustedIdentity.source} (${messageOf(err)})`;
      }
      verified.set(material, signer);
    }
    if (typeof signer === 'string') {
      reasons.push(signer);
    } else if (signer.issuer === trustedIdentity.issuer && signer.identity !== undefined && identityMatches(trustedIdentity.identity, signer.identity)) {
      return trustedIdentity;
    } else {
      reasons.push(`its certificate is for ${JSON.stringify(signer.identity ?? '')} from issuer ${JSON.stringify(signer.issuer ?? '')}, not what ${trustedIdentity.source} trusts`);
    }
  }
  return [...new Set(reasons)].join('; ');
}

/** RE2, anchored: the pattern must match the whole identity, never a prefix of it. */
function identityMatches(pattern: string, identity: string): boolean {
  try {
    return RE2JS.compile(`^(?:${pattern})$`).matches(identity);
  } catch {
    return false;
  }
}

/** cosign's keyless layer annotations as a sigstore bundle (v0.1: certificate, tlog entry with its inclusion promise). */
function cosignBundle(envelope: Envelope, annotations: Record<string, string>): SigstoreBundle | string {
  let certificate: X509Certificate;
  let rekor: unknown;
  let body: unknown;
  try {
    certificate = new X509Certificate(annotations[CERTIFICATE_ANNOTATION] ?? '');
    rekor = JSON.parse(annotations[BUNDLE_ANNOTATION] ?? '');
    body = isRecord(rekor) && isRecord(rekor.Payload) && typeof rekor.Payload.body === 'string' ? JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString('utf8')) : undefined;
  } catch {
    return 'its keyless certificate or Rekor bundle annotation cannot be read';
  }
  if (!isRecord(rekor) || !isRecord(rekor.Payload) || typeof rekor.SignedEntryTimestamp !== 'string' || !isRecord(body)) return "its Rekor bundle annotation is not cosign's";
  const { body: entryBody, integratedTime, logIndex, logID } = rekor.Payload;
  if (typeof entryBody !== 'string' || typeof integratedTime !== 'number' || typeof logIndex !== 'number' || typeof logID !== 'string') return "its Rekor bundle annotation is not cosign's";
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      content: { $case: 'x509CertificateChain', x509CertificateChain: { certificates: [{ rawBytes: certificate.raw }] } },
      tlogEntries: [
        {
          logIndex: String(logIndex),
          logId: { keyId: Buffer.from(logID, 'hex') },
          kindVersion: { kind: String(body.kind), version: String(body.apiVersion) },
          integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: Buffer.from(rekor.SignedEntryTimestamp, 'base64') },
          inclusionProof: undefined,
          canonicalizedBody: Buffer.from(entryBody, 'base64'),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    content: {
      $case: 'dsseEnvelope',
      dsseEnvelope: { payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures.slice(0, 1).map((sig) => ({ sig, keyid: '' })) },
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
