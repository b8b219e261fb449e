import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Signer } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { Logger } from '../../src/output/logger.js';
import { decryptCosignKey, KeyProblem, openCosignKey, parsePem } from '../../src/sign/cosign-key.js';
import { prepareSigning } from '../../src/sign/run.js';
import { Secrets } from '../../src/support/secrets.js';
import { cosignEncryptedKey, generateTestKey, pem } from '../support/cosign.js';
import { testContext } from '../support/tools.js';

const key = generateTestKey();
const PASSWORD = 'correct horse battery staple';
const publicOf = (opened: ReturnType<typeof openCosignKey>) => opened.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const open = (text: string, password = PASSWORD) => openCosignKey(text, () => password, new Secrets());
const problemOf = (attempt: () => unknown): string => {
  try {
    attempt();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyProblem);
    return (err as Error).message;
  }
  return expect.unreachable('no problem raised');
};

describe('cosign key formats', () => {
  it.each([
    ['cosign generate-key-pair: ENCRYPTED SIGSTORE PRIVATE KEY', () => cosignEncryptedKey(key, PASSWORD), PASSWORD],
    ['older cosign: ENCRYPTED COSIGN PRIVATE KEY', () => cosignEncryptedKey(key, PASSWORD, { type: 'ENCRYPTED COSIGN PRIVATE KEY' }), PASSWORD],
    ['scrypt N=65536 (go-securesystemslib standard parameters)', () => cosignEncryptedKey(key, PASSWORD, { N: 65536 }), PASSWORD],
    ['an empty password', () => cosignEncryptedKey(key, ''), ''],
    ['a password file ending with a newline', () => cosignEncryptedKey(key, PASSWORD), `${PASSWORD}\n`],
    ['unencrypted PKCS#8 PRIVATE KEY (openssl pkcs8 -topk8 -nocrypt)', () => key.pkcs8, 'ignored'],
    ['SEC1 EC PRIVATE KEY (openssl ecparam -genkey)', () => key.privateKey.export({ type: 'sec1', format: 'pem' }).toString(), 'ignored'],
    ['encrypted PKCS#8 ENCRYPTED PRIVATE KEY', () => key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }).toString(), PASSWORD],
  ])('%s opens to the same key', (_, text, password) => {
    expect(publicOf(open(text(), password))).toBe(key.publicPem);
  });

  it('the password is asked for only by an encrypted key', () => {
    expect(publicOf(openCosignKey(key.pkcs8, () => expect.unreachable('no password needed'), new Secrets()))).toBe(key.publicPem);
  });

  it('decryptCosignKey gives the DER PKCS#8 key; the decrypted key is registered as a secret', () => {
    const body = parsePem(cosignEncryptedKey(key, PASSWORD))?.body ?? Buffer.alloc(0);
    expect(decryptCosignKey(body, PASSWORD).toString('base64')).toBe(key.derBase64);
    const secrets = new Secrets();
    openCosignKey(cosignEncryptedKey(key, PASSWORD), () => PASSWORD, secrets);
    expect([...secrets]).toContain(key.derBase64);
  });

  it.each([
    ['a wrong password', () => open(cosignEncryptedKey(key, PASSWORD), 'Tr0ub4dor&3'), 'wrong password'],
    ['a wrong password for encrypted PKCS#8', () => open(key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD }).toString(), 'nope'), 'wrong password'],
    ['no PEM at all', () => open('just text'), 'is not a PEM private key'],
    ['a public key', () => open(key.publicPem), 'holds a "PUBLIC KEY" PEM block, not a private key'],
    ['a P-384 key', () => open(generateTestKey('secp384r1').pkcs8), 'is an EC secp384r1 key; cosign signing here needs ECDSA P-256 (what cosign generate-key-pair makes)'],
    [
      'an RSA key',
      () => open(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      'is an rsa key; cosign signing here needs ECDSA P-256 (what cosign generate-key-pair makes)',
    ],
    ['tampered scrypt parameters (a DoS)', () => open(cosignEncryptedKey(key, PASSWORD, { params: { N: 1 << 22, r: 8, p: 1 } })), 'unexpected scrypt parameters {"N":4194304,"r":8,"p":1} (expected N 32768, 65536 or 131072, r 8, p 1)'],
    ['an unknown cipher', () => open(cosignEncryptedKey(key, PASSWORD, { cipher: 'aes-gcm' })), 'unknown cipher "aes-gcm" (expected "nacl/secretbox")'],
    ['a body that is not JSON', () => open(pem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from('garbage'))), "its body is not the JSON cosign writes ({kdf, cipher, ciphertext})"],
  ])('%s', (_, attempt, message) => {
    expect(problemOf(attempt)).toBe(message);
  });
});

describe('prepareSigning with cosign signers: every key problem before anything starts (exit 2)', () => {
  const output: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (output.push(chunk.toString()), done()) });
  const io = (env: Record<string, string> = {}) => testContext({ env: { HOME: '/nonexistent', ...env }, log: new Logger(stream, true) });
  const files: Record<string, string> = {
    '/keys/cosign.key': cosignEncryptedKey(key, PASSWORD),
    '/keys/plain.key': key.pkcs8,
    '/keys/password': `${PASSWORD}\n`,
  };
  const readFile = (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };
  const cosign = (name: string, config: Record<string, unknown>): Signer => ({ name, type: 'cosign', config: { 'docker-media-types': false, ...config } }) as Signer;
  const problems = async (signers: Signer[], env: Record<string, string> = {}): Promise<string[]> => {
    try {
      await prepareSigning(signers, io(env), readFile);
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return (err as InputError).problems;
    }
    return [];
  };

  it.each([
    ['password-env', { key: '/keys/cosign.key', 'password-env': 'KEY_PASSWORD' }, { KEY_PASSWORD: PASSWORD }],
    ['COSIGN_PASSWORD when no source is configured, as cosign reads it', { key: '/keys/cosign.key' }, { COSIGN_PASSWORD: PASSWORD }],
    ['password-file (its trailing newline is not part of the password)', { key: '/keys/cosign.key', 'password-file': '/keys/password' }, {}],
    ['an unencrypted key needs no password', { key: '/keys/plain.key', 'password-env': 'UNSET_VARIABLE' }, {}],
  ])('opens the key with %s', async (_, config, env) => {
    expect((await prepareSigning([cosign('kpack', config)], io(env), readFile)).signers.map((s) => s.name)).toEqual(['kpack']);
  });

  it('lists every broken signer: missing key, unset variable, wrong password (naming its source), bad repository', async () => {
    expect(
      await problems(
        [
          cosign('missing', { key: '/keys/none.key' }),
          cosign('unset', { key: '/keys/cosign.key', 'password-env': 'KEY_PASSWORD' }),
          cosign('wrong', { key: '/keys/cosign.key', 'password-env': 'WRONG_PASSWORD' }),
          cosign('no-file', { key: '/keys/cosign.key', 'password-file': '/keys/none' }),
          cosign('nothing', { key: '/keys/cosign.key' }),
          cosign('repo', { key: '/keys/plain.key', repository: '127.0.0.1:5000/sigs:v1' }),
        ],
        { WRONG_PASSWORD: 'hunter2-wrong' },
      ),
    ).toEqual([
      'sign-config signer "missing": key file /keys/none.key does not exist; mount the key or fix config.key',
      'sign-config signer "unset": password-env KEY_PASSWORD is not set; set it to the key\'s password (empty for a key without one)',
      'sign-config signer "wrong": key file /keys/cosign.key cannot be opened: wrong password (from password-env WRONG_PASSWORD); give the password the key was created with',
      'sign-config signer "no-file": password-file /keys/none does not exist; mount it or fix password-file',
      'sign-config signer "nothing": key file /keys/cosign.key cannot be opened: wrong password (from the empty password: neither password-env, password-file nor COSIGN_PASSWORD is set); give the password the key was created with',
      'sign-config signer "repo": repository "127.0.0.1:5000/sigs:v1" is not a repository; write registry/path, without tag or digest',
    ]);
  });

  it('the key file, its lines, the password and the decrypted key are masked in every log line', async () => {
    const signing = io({ P: PASSWORD });
    expect((await prepareSigning([cosign('kpack', { key: '/keys/cosign.key', 'password-env': 'P' })], signing, readFile)).signers).toHaveLength(1);
    const keyLine = (files['/keys/cosign.key'] ?? '').split('\n')[1] ?? '';
    signing.log.info(`leak? ${PASSWORD} ${keyLine} ${key.derBase64} ${files['/keys/cosign.key']}`);
    const printed = output.join('');
    for (const secret of [PASSWORD, keyLine, key.derBase64]) expect(printed).not.toContain(secret);
    expect(printed).toContain('leak? ***');
  });
});
