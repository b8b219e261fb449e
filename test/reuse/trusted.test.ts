import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { describeTrusted, loadTrusted, trustedKeyFromPublicKey, type Trusted } from '../../src/reuse/trusted.js';
import { cosignEncryptedKey, generateTestKey } from '../support/cosign.js';
import { startMockSigstore } from '../support/sigstore.js';
import { inputProblems } from '../support/errors.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = '^https://github\\.com/my-org/my-repo/\\.github/workflows/build\\.yml@refs/heads/main$';
const key = generateTestKey();
const fingerprint = `sha256:${createHash('sha256').update(key.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const p384 = generateTestKey('secp384r1').publicPem;

/** A sigstore trusted root (the mock's), made once. */
const root = startMockSigstore().then(async (sigstore) => {
  await sigstore.stop();
  return JSON.stringify(sigstore.trustedRootJson);
});

/** Files as readFile sees them; a missing one fails as fs does. */
function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
}

/** reuse.trusted as config.yaml writes it, parsed by the schema, then loaded. */
function load(yaml: string, contents: Record<string, string>): Trusted[] {
  return loadTrusted(parseConfig(`reuse:\n  trusted:\n${yaml}`, 'config.yaml').config.reuse.trusted, files(contents));
}


describe('loadTrusted: reuse.trusted read, keys and trusted roots checked now', () => {
  it('a cosign public key: its SPKI fingerprint, named by its entry and path', () => {
    const [trusted] = load('    - key: keys/merge-queue.pub\n', { 'keys/merge-queue.pub': key.publicPem });
    expect(trusted).toMatchObject({ kind: 'key', source: 'reuse.trusted[0] keys/merge-queue.pub', fingerprint });
    expect(trusted?.kind === 'key' && trusted.publicKey.equals(key.publicKey)).toBe(true);
    expect(describeTrusted(trusted as Trusted)).toEqual({ trusted: 'reuse.trusted[0] keys/merge-queue.pub', fingerprint });
  });

  it('a keyless identity with its trusted root read; without one, no trust material (the public-good root is not built in)', async () => {
    const yaml = `    - keyless: {issuer: "${GITHUB}", identity: "${WORKFLOW.replaceAll('\\', '\\\\')}", trusted-root: sigstore/root.json}\n    - keyless: {issuer: "${GITHUB}", identity: "x"}\n`;
    const [withRoot, without] = load(yaml, { 'sigstore/root.json': await root });
    expect(withRoot).toMatchObject({ kind: 'keyless', source: 'reuse.trusted[0] keyless', issuer: GITHUB, identity: WORKFLOW, trustedRoot: 'sigstore/root.json' });
    expect(withRoot?.kind === 'keyless' && withRoot.trustMaterial?.certificateAuthorities.length).toBe(1);
    expect(without).toEqual({ kind: 'keyless', source: 'reuse.trusted[1] keyless', issuer: GITHUB, identity: 'x' });
    expect(describeTrusted(withRoot as Trusted)).toEqual({ trusted: 'reuse.trusted[0] keyless', issuer: GITHUB, identity: WORKFLOW, trustedRoot: 'sigstore/root.json' });
    expect(describeTrusted(without as Trusted)).toEqual({ trusted: 'reuse.trusted[1] keyless', issuer: GITHUB, identity: 'x' });
  });

  it("trustedKeyFromPublicKey: a run's own signer key, with the repository its attestations go to", () => {
    const trusted = trustedKeyFromPublicKey(key.publicKey, 'signer "cosign-main"', { registry: 'r.example', repository: 'sigs' });
    expect(trusted).toEqual({ kind: 'key', source: 'signer "cosign-main"', publicKey: key.publicKey, fingerprint, repository: { registry: 'r.example', repository: 'sigs' } });
    expect(describeTrusted(trusted)).toEqual({ trusted: 'signer "cosign-main"', fingerprint, attestations: 'r.example/sigs' });
  });

  it.each<[string, string, Record<string, string>, string]>([
    ['a missing key file', '    - key: keys/x.pub\n', {}, 'reuse.trusted[0].key keys/x.pub does not exist; mount it or fix the path'],
    [
      'a private key instead of the public one',
      '    - key: cosign.key\n',
      { 'cosign.key': key.pkcs8 },
      'reuse.trusted[0].key cosign.key is a private key; give the public key instead (the .pub file cosign generate-key-pair wrote beside it, or `cosign public-key --key cosign.key`)',
    ],
    [
      "cosign's encrypted private key",
      '    - key: cosign.key\n',
      { 'cosign.key': cosignEncryptedKey(key, 'pw', { N: 1024 }) },
      'reuse.trusted[0].key cosign.key is a private key; give the public key instead (the .pub file cosign generate-key-pair wrote beside it, or `cosign public-key --key cosign.key`)',
    ],
    ['an RSA key', '    - key: rsa.pub\n', { 'rsa.pub': rsa }, 'reuse.trusted[0].key rsa.pub is an RSA key; a trusted key must be ECDSA P-256, as cosign generate-key-pair makes'],
    ['an EC key on P-384', '    - key: p384.pub\n', { 'p384.pub': p384 }, 'reuse.trusted[0].key p384.pub is an EC key on secp384r1; a trusted key must be ECDSA P-256, as cosign generate-key-pair makes'],
    [
      'a file that is no PEM public key',
      '    - key: cert.pem\n',
      { 'cert.pem': 'hello\n' },
      'reuse.trusted[0].key cert.pem is not a PEM public key (-----BEGIN PUBLIC KEY-----); give a cosign public key such as cosign.pub',
    ],
    [
      'a missing trusted-root',
      `    - keyless: {issuer: "${GITHUB}", identity: x, trusted-root: sigstore/root.json}\n`,
      {},
      'reuse.trusted[0].keyless: trusted-root sigstore/root.json does not exist; mount it or fix trusted-root',
    ],
  ])('%s', (_, yaml, contents, problem) => {
    expect(inputProblems(() => load(yaml, contents))).toEqual([problem]);
  });

  it('a keyless identity that is not RE2 is refused by the schema, naming its key path', () => {
    expect(inputProblems(() => load(`    - keyless: {issuer: "${GITHUB}", identity: "(?<=a)b"}\n`, {}))).toEqual([
      expect.stringMatching(/^config\.yaml: reuse\.trusted\[0\]\.keyless\.identity: not a valid RE2 regular expression \(the syntax of Go's regexp\): /),
    ]);
  });

  it('every problem in one InputError, each naming its entry', () => {
    const yaml = `    - key: keys/ok.pub\n    - key: keys/gone.pub\n    - key: rsa.pub\n    - keyless: {issuer: "${GITHUB}", identity: x, trusted-root: bad.json}\n`;
    expect(inputProblems(() => load(yaml, { 'keys/ok.pub': key.publicPem, 'rsa.pub': rsa, 'bad.json': '{"mediaType": 1' }))).toEqual([
      'reuse.trusted[1].key keys/gone.pub does not exist; mount it or fix the path',
      'reuse.trusted[2].key rsa.pub is an RSA key; a trusted key must be ECDSA P-256, as cosign generate-key-pair makes',
      expect.stringMatching(/^reuse\.trusted\[3\]\.keyless: trusted-root bad\.json is not a sigstore trusted root \(/),
    ]);
  });
});
