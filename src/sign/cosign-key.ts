import { createPrivateKey, createPublicKey, scryptSync, type KeyObject } from 'node:crypto';
import { secretbox } from '@noble/ciphers/salsa.js';
import type { Env } from '../ci/gitstate.js';
import type { Signer } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Secrets } from '../support/secrets.js';

export type CosignSignerConfig = Extract<Signer, { type: 'cosign' }>;

/** PEM types of cosign's encrypted keys: `cosign generate-key-pair` writes the first, cosign before 1.x the second. */
export const ENCRYPTED_KEY_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

/** A signing key, checked to be ECDSA P-256 (what cosign signs and verifies with SHA-256). */
export interface CosignKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Why a key could not be opened; the caller adds which signer and file. */
export class KeyProblem extends Error {}

/** What an encrypted key needs: its password, read only when the key turns out to be encrypted. */
export type PasswordSource = () => string;

interface Pem {
  type: string;
  body: Buffer;
}

/** The first PEM block of a file: its type and decoded body. */
export function parsePem(text: string): Pem | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m?.[1] || m[2] === undefined) return undefined;
  // Headers (Proc-Type, DEK-Info) of legacy encrypted PEM are not base64: such keys are refused below.
  if (m[2].includes(':')) return { type: `${m[1]} (with PEM headers)`, body: Buffer.alloc(0) };
  return { type: m[1], body: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') };
}

/** scrypt N go-securesystemslib may write (2^15 by cosign, larger by newer presets); others are refused as tampering (a DoS). */
const SCRYPT_N = [32768, 65536, 131072];

/**
 * Opens cosign's encrypted key body (go-securesystemslib `encrypted`): JSON {kdf: scrypt, cipher: nacl/secretbox,
 * ciphertext}; key = scrypt(password, salt, N, r, p, 32). Returns the DER PKCS#8 private key.
 */
export function decryptCosignKey(body: Buffer, password: string): Buffer {
  let doc: { kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown }; cipher?: { name?: unknown; nonce?: unknown }; ciphertext?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw new KeyProblem('its body is not the JSON cosign writes ({kdf, cipher, ciphertext})');
  }
  const { kdf, cipher, ciphertext } = doc ?? {};
  if (kdf?.name !== 'scrypt') throw new KeyProblem(`unknown key derivation ${JSON.stringify(kdf?.name ?? null)} (expected "scrypt")`);
  if (cipher?.name !== 'nacl/secretbox') throw new KeyProblem(`unknown cipher ${JSON.stringify(cipher?.name ?? null)} (expected "nacl/secretbox")`);
  const { N, r, p } = kdf.params ?? {};
  if (typeof N !== 'number' || !SCRYPT_N.includes(N) || r !== 8 || p !== 1) {
    throw new KeyProblem(`unexpected scrypt parameters ${JSON.stringify(kdf.params ?? null)} (expected N 32768, 65536 or 131072, r 8, p 1)`);
  }
  if (typeof kdf.salt !== 'string' || typeof cipher.nonce !== 'string' || typeof ciphertext !== 'string') {
    throw new KeyProblem('salt, nonce or ciphertext missing');
  }
  const nonce = Buffer.from(cipher.nonce, 'base64');
  if (nonce.length !== 24) throw new KeyProblem(`the nonce has ${nonce.length} bytes, not 24`);
  const key = scryptSync(Buffer.from(password, 'utf8'), Buffer.from(kdf.salt, 'base64'), 32, { N, r, p, maxmem: 256 * N * r });
  try {
    return Buffer.from(secretbox(key, nonce).open(Buffer.from(ciphertext, 'base64')));
  } catch {
    throw new KeyProblem('wrong password');
  } finally {
    key.fill(0);
  }
}

/**
 * Reads a key file: cosign's encrypted format, an unencrypted PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, or an
 * encrypted PKCS#8 `ENCRYPTED PRIVATE KEY`. The password is asked for only by encrypted keys. Throws KeyProblem.
 */
export function openCosignKey(text: string, password: PasswordSource, secrets: Secrets): CosignKey {
  const pem = parsePem(text);
  if (!pem) throw new KeyProblem('is not a PEM private key');
  let privateKey: KeyObject;
  if (ENCRYPTED_KEY_TYPES.includes(pem.type)) {
    const tryOpen = (pass: string) => decryptCosignKey(pem.body, pass);
    const pass = password();
    let der: Buffer;
    try {
      der = tryOpen(pass);
    } catch (err) {
      // A password file usually ends with a newline the password does not have.
      const trimmed = pass.replace(/\r?\n$/, '');
      if (!(err instanceof KeyProblem) || err.message !== 'wrong password' || trimmed === pass) throw err;
      der = tryOpen(trimmed);
    }
    secrets.add(der.toString('base64'));
    privateKey = fromKey(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), 'the decrypted key is not a PKCS#8 private key');
    der.fill(0);
  } else if (pem.type === 'ENCRYPTED PRIVATE KEY') {
    const pass = password();
    privateKey = fromKey(() => createPrivateKey({ key: text, format: 'pem', passphrase: pass }), 'wrong password');
  } else if (pem.type === 'PRIVATE KEY' || pem.type === 'EC PRIVATE KEY') {
    privateKey = fromKey(() => createPrivateKey({ key: text, format: 'pem' }), `its ${pem.type} block is not a valid key`);
  } else {
    throw new KeyProblem(`holds a "${pem.type}" PEM block, not a private key`);
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (privateKey.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const kind = privateKey.asymmetricKeyType === 'ec' ? `an EC ${curve ?? 'unknown-curve'}` : `an ${privateKey.asymmetricKeyType ?? 'unknown'}`;
    throw new KeyProblem(`is ${kind} key; cosign signing here needs ECDSA P-256 (what cosign generate-key-pair makes)`);
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function fromKey(make: () => KeyObject, problem: string): KeyObject {
  try {
    return make();
  } catch {
    throw new KeyProblem(problem);
  }
}

/** Where a cosign signer's password comes from, for messages. */
export function passwordOrigin(config: CosignSignerConfig['config'], env: Env): string {
  if (config['password-file'] !== undefined) return `password-file ${config['password-file']}`;
  if (config['password-env'] !== undefined) return `password-env ${config['password-env']}`;
  return env.COSIGN_PASSWORD === undefined ? 'the empty password: neither password-env, password-file nor COSIGN_PASSWORD is set' : 'COSIGN_PASSWORD';
}

/**
 * The password of an encrypted key: password-file, else the password-env variable (which must be set), else
 * COSIGN_PASSWORD as cosign reads it, else empty (cosign generate-key-pair allows an empty password).
 */
export function readPassword(config: CosignSignerConfig['config'], env: Env, readFile: (path: string) => string, where: string): string {
  const file = config['password-file'];
  if (file !== undefined) {
    try {
      return readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(`${where}: password-file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; mount it or fix password-file`);
    }
  }
  const variable = config['password-env'];
  if (variable !== undefined) {
    const value = env[variable];
    if (value === undefined) throw new InputError(`${where}: password-env ${variable} is not set; set it to the key's password (empty for a key without one)`);
    return value;
  }
  return env.COSIGN_PASSWORD ?? '';
}

/** Reads and opens a cosign signer's key now, so that a bad key or password stops the run before anything is built. */
export function loadSignerKey(signer: CosignSignerConfig, env: Env, readFile: (path: string) => string, secrets: Secrets): CosignKey {
  const { name, config } = signer;
  const where = `sign-config signer "${name}"`;
  const keyFile = config.key;
  if (keyFile === undefined) throw new InputError(`${where}: key: missing; give the path of the cosign private key, or keyless: true`);
  let text: string;
  try {
    text = readFile(keyFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${where}: key file ${keyFile} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; mount the key or fix config.key`);
  }
  secrets.add(text, ...text.split(/\r?\n/).filter((line) => line.length >= 16 && !line.startsWith('-----')));
  const password = (): string => {
    const value = readPassword(config, env, readFile, where);
    secrets.add(value);
    return value;
  };
  try {
    return openCosignKey(text, password, secrets);
  } catch (err) {
    if (!(err instanceof KeyProblem)) throw err;
    const hint = err.message === 'wrong password' ? ` (from ${passwordOrigin(config, env)}); give the password the key was created with` : '';
    const prefix = err.message.startsWith('is ') || err.message.startsWith('holds ') ? '' : 'cannot be opened: ';
    throw new InputError(`${where}: key file ${keyFile} ${prefix}${err.message}${hint}`);
  }
}
