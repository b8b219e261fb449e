import { generateKeyPairSync, sign } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness, type Bundle, type BundleBuilderOptions, type Signature, type Signer } from '@sigstore/sign';
// The Fulcio client of @sigstore/sign (pinned): FulcioSigner keeps only the leaf, cosign also stores the chain.
import { CAClient } from '@sigstore/sign/dist/signer/fulcio/ca.js';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
import { InputError } from '../errors.js';
import { jwtClaims, type IdentityToken } from './oidc.js';
import { checkEndpoint } from './notary-secret.js';

/** Bound and retries of each Fulcio and Rekor request (the library retries 5xx, 408 and 429). */
const FETCH = { timeout: 60_000, retry: 2 };

/** Where a keyless signer gets its certificate and logs its signature, and what it verifies the result against. */
export interface KeylessService {
  fulcioUrl: string;
  rekorUrl: string;
  /** From `trusted-root`: every signature is verified against it before it is stored. */
  trustMaterial?: TrustMaterial;
}

/** What cosign stores for a keyless signature, beside the payload: the values of its layer annotations. */
export interface KeylessSignature {
  /** Base64 DER ECDSA signature of the payload. */
  signature: string;
  /** The Fulcio leaf certificate, PEM. */
  certificate: string;
  /** The rest of the chain Fulcio returned, PEM blocks one after the other. */
  chain: string;
  /** The Rekor entry's `SignedEntryTimestamp` and payload as cosign's bundle annotation (JSON). */
  bundle: string;
}

/** Checks the URLs (https, or http on loopback: the token goes to Fulcio) and reads the trusted root now. */
export function keylessService(
  config: { 'fulcio-url': string; 'rekor-url': string; 'trusted-root'?: string },
  readFile: (path: string) => string,
  where: string,
): KeylessService {
  const fulcioUrl = checkEndpoint(config['fulcio-url'], `${where}: fulcio-url`).href.replace(/\/$/, '');
  const rekorUrl = checkEndpoint(config['rekor-url'], `${where}: rekor-url`).href.replace(/\/$/, '');
  const file = config['trusted-root'];
  return { fulcioUrl, rekorUrl, trustMaterial: file === undefined ? undefined : readTrustedRoot(file, readFile, where) };
}

/** A sigstore trusted-root JSON (`cosign trusted-root create`, or a TUF repository's trusted_root.json). */
export function readTrustedRoot(file: string, readFile: (path: string) => string, where: string): TrustMaterial {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${where}: trusted-root ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; mount it or fix trusted-root`);
  }
  try {
    const root = TrustedRoot.fromJSON(JSON.parse(text));
    if (root.certificateAuthorities.length === 0 || root.tlogs.length === 0) throw new Error('it names no certificate authority or no transparency log');
    return toTrustMaterial(root);
  } catch (err) {
    throw new InputError(`${where}: trusted-root ${file} is not a sigstore trusted root (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** What a keyless signature's layer carries besides the signature: certificate, chain and Rekor bundle. */
export type KeylessMaterial = Omit<KeylessSignature, 'signature'>;

/** What a keyless DSSE signature gives: the envelope's parts, and the certificate, chain and bundle as for a signature. */
export interface KeylessEnvelope extends KeylessMaterial {
  payloadType: string;
  payload: Buffer;
  /** The DER ECDSA signature over the envelope's pre-authentication encoding. */
  sig: Buffer;
}

/**
 * Signs the payload as `cosign sign` does without a key: an ephemeral P-256 key, a Fulcio certificate for the
 * identity token, a hashedrekord entry in Rekor; verified against the trusted root when there is one.
 */
export async function signKeyless(payload: Buffer, service: KeylessService, token: IdentityToken): Promise<KeylessSignature> {
  const { bundle, material } = await signWitnessed(service, token, 'signature', (options) => new MessageSignatureBundleBuilder(options).create({ data: payload }), payload);
  if (bundle.content.$case !== 'messageSignature') throw new Error('keyless signing returned no message signature');
  return { signature: bundle.content.messageSignature.signature.toString('base64'), ...material };
}

/**
 * Signs the payload as a DSSE envelope as `cosign attest` does without a key: a Fulcio certificate for the identity
 * token, the envelope in Rekor as an intoto entry; verified against the trusted root when there is one.
 */
export async function signDsseKeyless(payloadType: string, payload: Buffer, service: KeylessService, token: IdentityToken): Promise<KeylessEnvelope> {
  const { bundle, material } = await signWitnessed(service, token, 'attestation', (options) => new DSSEBundleBuilder(options).create({ data: payload, type: payloadType }));
  const envelope = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
  const sig = envelope?.signatures[0]?.sig;
  if (!envelope || !sig) throw new Error('keyless signing returned no DSSE envelope signature');
  return { payloadType: envelope.payloadType, payload: envelope.payload, sig, ...material };
}

/** One certificate, one Rekor entry (its SignedEntryTimestamp required), the bundle verified against trusted-root if any. */
async function signWitnessed(
  service: KeylessService,
  token: IdentityToken,
  what: string,
  create: (options: BundleBuilderOptions) => Promise<Bundle>,
  artifact?: Buffer,
): Promise<{ bundle: Bundle; material: KeylessMaterial }> {
  const signer = new FulcioChainSigner(service.fulcioUrl, token);
  // An envelope is logged as intoto 0.0.2, as `cosign attest` does; the library's dsse kind fails @sigstore/verify against the mock log, which stores entries as proposed.
  const witness = new RekorWitness({ rekorBaseURL: service.rekorUrl, entryType: 'intoto', ...FETCH });
  let bundle: Bundle;
  try {
    bundle = await create({ signer, witnesses: [witness] });
  } catch (err) {
    throw new Error(`keyless signing failed: ${describeError(err)}`);
  }
  if (service.trustMaterial) {
    try {
      new Verifier(service.trustMaterial).verify(toSignedEntity(bundle, artifact));
    } catch (err) {
      throw new Error(`the keyless ${what} does not verify against trusted-root (${describeError(err)}); check fulcio-url and rekor-url`);
    }
  }
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (!entry?.inclusionPromise || !entry.logId) throw new Error(`${service.rekorUrl} returned no signed entry timestamp`);
  const material = {
    certificate: signer.chain[0] ?? '',
    chain: signer.chain.slice(1).join(''),
    bundle: rekorBundle({
      signedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      body: entry.canonicalizedBody,
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logId: entry.logId.keyId,
    }),
  };
  return { bundle, material };
}

/** cosign's `dev.sigstore.cosign/bundle` (pkg/cosign/bundle RekorBundle), in Go's field order. */
export function rekorBundle(entry: { signedEntryTimestamp: Buffer; body: Buffer; integratedTime: string; logIndex: string; logId: Buffer }): string {
  return JSON.stringify({
    SignedEntryTimestamp: entry.signedEntryTimestamp.toString('base64'),
    Payload: { body: entry.body.toString('base64'), integratedTime: Number(entry.integratedTime), logIndex: Number(entry.logIndex), logID: entry.logId.toString('hex') },
  });
}

/** FulcioSigner's steps (ephemeral key, proof of possession over the token's subject), keeping the whole chain. */
class FulcioChainSigner implements Signer {
  chain: string[] = [];
  private readonly ca: CAClient;

  constructor(
    fulcioUrl: string,
    private readonly token: IdentityToken,
  ) {
    this.ca = new CAClient({ fulcioBaseURL: fulcioUrl, ...FETCH });
  }

  async sign(data: Buffer): Promise<Signature> {
    const token = await this.token.current();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const challenge = sign('sha256', Buffer.from(subjectOf(token, this.token.origin)), privateKey);
    this.chain = await this.ca.createSigningCertificate(token, publicKey.export({ format: 'pem', type: 'spki' }).toString(), challenge);
    const certificate = this.chain[0];
    if (certificate === undefined) throw new Error('Fulcio returned no certificate');
    return { signature: sign('sha256', data, privateKey), key: { $case: 'x509Certificate', certificate } };
  }
}

/** The identity Fulcio puts in the certificate: a verified email, else the subject. */
function subjectOf(token: string, origin: string): string {
  const claims = jwtClaims(token) ?? {};
  if (typeof claims.email === 'string' && claims.email_verified === true) return claims.email;
  if (typeof claims.sub === 'string') return claims.sub;
  throw new Error(`the identity token from ${origin} has neither a verified email nor a sub claim`);
}

/** The library's errors wrap the HTTP one as cause: both messages, without stack. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error && err.cause.message !== err.message ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
