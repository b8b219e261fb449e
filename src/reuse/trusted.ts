/** Who may prove a reused image's origin: reuse.trusted of config.yaml, its key files and trusted roots read once. */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import type { Config } from '../config/schema.js';
import { InputError, Problems } from '../errors.js';
import type { ImageReference } from '../reference.js';
import { readTrustedRoot } from '../sign/keyless.js';

type TrustedEntry = Config['reuse']['trusted'][number];

/** A cosign public key whose attestations are trusted. */
export interface TrustedKey {
  kind: 'key';
  /** Where it comes from, for messages: `reuse.trusted[0] keys/x.pub` or `signer "cosign-main"`. */
  source: string;
  publicKey: KeyObject;
  /** `sha256:<hex>` of the key's SPKI DER. */
  fingerprint: string;
  /** Where its attestations are stored when not beside the image (the signer's `repository`). */
  repository?: Pick<ImageReference, 'registry' | 'repository'>;
}

/** A keyless identity: Fulcio certificates of this issuer whose identity the RE2 pattern matches whole. */
export interface TrustedIdentity {
  kind: 'keyless';
  source: string;
  issuer: string;
  /** RE2 source, matched against the whole certificate identity (SAN URI or email). */
  identity: string;
  /** Path of the trusted-root JSON; without it, sigstore's public-good instance. */
  trustedRoot?: string;
  /** The trusted root read; undefined for the public-good instance, which is not built in. */
  trustMaterial?: TrustMaterial;
}

export type Trusted = TrustedKey | TrustedIdentity;

/**
 * reuse.trusted read: every key file (a PEM public key, ECDSA P-256) and every trusted-root. All problems are
 * thrown together as one InputError, each naming its entry.
 */
export function loadTrusted(entries: readonly TrustedEntry[], readFile: (path: string) => string): Trusted[] {
  const problems = new Problems();
  const trusted = entries.map((entry, i) => problems.collect(() => loadEntry(entry, `reuse.trusted[${i}]`, readFile)));
  problems.throwIfAny();
  return trusted.filter((t): t is Trusted => t !== undefined);
}

function loadEntry(entry: TrustedEntry, where: string, readFile: (path: string) => string): Trusted {
  if (entry.key !== undefined) return trustedKeyFromPublicKey(readPublicKey(entry.key, `${where}.key`, readFile), `${where} ${entry.key}`);
  const { issuer, identity, 'trusted-root': file } = entry.keyless;
  return {
    kind: 'keyless',
    source: `${where} keyless`,
    issuer,
    identity,
    ...(file === undefined ? {} : { trustedRoot: file, trustMaterial: readTrustedRoot(file, readFile, `${where}.keyless`) }),
  };
}

/** A key this run already holds (a cosign signer's), trusted as it is. */
export function trustedKeyFromPublicKey(publicKey: KeyObject, source: string, repository?: Pick<ImageReference, 'registry' | 'repository'>): TrustedKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { kind: 'key', source, publicKey, fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`, ...(repository ? { repository } : {}) };
}

/** What --dry-run shows of one: the key and its fingerprint, or the keyless issuer, identity and trusted root. */
export function describeTrusted(t: Trusted): Record<string, string> {
  if (t.kind === 'key') return { trusted: t.source, fingerprint: t.fingerprint, ...(t.repository ? { attestations: `${t.repository.registry}/${t.repository.repository}` } : {}) };
  return { trusted: t.source, issuer: t.issuer, identity: t.identity, ...(t.trustedRoot === undefined ? {} : { trustedRoot: t.trustedRoot }) };
}

/** A cosign public key file: PEM `PUBLIC KEY`, ECDSA on P-256 (what `cosign generate-key-pair` writes as cosign.pub). */
function readPublicKey(file: string, where: string, readFile: (path: string) => string): KeyObject {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${where} ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}; mount it or fix the path`);
  }
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new InputError(`${where} ${file} is a private key; give the public key instead (the .pub file cosign generate-key-pair wrote beside it, or \`cosign public-key --key ${file}\`)`);
  }
  const block = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(text);
  let key: KeyObject | undefined;
  try {
    key = block ? createPublicKey({ key: block[0], format: 'pem' }) : undefined;
  } catch {
    key = undefined;
  }
  if (!key) throw new InputError(`${where} ${file} is not a PEM public key (-----BEGIN PUBLIC KEY-----); give a cosign public key such as cosign.pub`);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
    const what = type === 'EC' ? `an EC key on ${curve ?? 'an unknown curve'}` : `${/^[AEFHILMNORSX]/.test(type) ? 'an' : 'a'} ${type} key`;
    throw new InputError(`${where} ${file} is ${what}; a trusted key must be ECDSA P-256, as cosign generate-key-pair makes`);
  }
  return key;
}
