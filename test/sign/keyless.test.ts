import { createHash, verify, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keylessService, readTrustedRoot, rekorBundle, signDsseKeyless, signKeyless } from '../../src/sign/keyless.js';
import type { IdentityToken } from '../../src/sign/oidc.js';
import { githubStyleToken, startMockSigstore, verifyKeyless, type MockSigstore } from '../support/sigstore.js';
import { removeTempDirs, tempDir } from '../support/tools.js';

const PAYLOAD = Buffer.from('{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/app"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}');
const given = (token: string): IdentityToken => ({ origin: 'SIGSTORE_ID_TOKEN', current: () => Promise.resolve(token) });
const readFile = (file: string) => {
  throw Object.assign(new Error(`no ${file}`), { code: 'ENOENT' });
};

describe('signKeyless against @sigstore/mock Fulcio and Rekor on 127.0.0.1', () => {
  let sigstore: MockSigstore;
  let other: MockSigstore;
  const dir = tempDir('keyless-unit');
  beforeAll(async () => {
    [sigstore, other] = await Promise.all([startMockSigstore(), startMockSigstore()]);
  });
  afterAll(async () => {
    await Promise.all([sigstore?.stop(), other?.stop()]);
    removeTempDirs();
  });

  const service = (root?: object) => {
    const file = path.join(dir, `root-${Math.random()}.json`);
    if (root) writeFileSync(file, JSON.stringify(root));
    return keylessService({ 'fulcio-url': sigstore.fulcio.url, 'rekor-url': sigstore.rekor.url, ...(root ? { 'trusted-root': file } : {}) }, (f) => readFileSync(f, 'utf8'), 'signer "k"');
  };

  it('signs: the stored annotations alone verify with @sigstore/verify, for the identity of the token', async () => {
    const signature = await signKeyless(PAYLOAD, service(sigstore.trustedRootJson), given(githubStyleToken()));
    const annotations = {
      'dev.cosignproject.cosign/signature': signature.signature,
      'dev.sigstore.cosign/certificate': signature.certificate,
      'dev.sigstore.cosign/chain': signature.chain,
      'dev.sigstore.cosign/bundle': signature.bundle,
    };
    const signer = verifyKeyless(sigstore.verifier, PAYLOAD, annotations);
    expect(signer.identity).toMatchObject({ subjectAlternativeName: 'repo:org/repo:ref:refs/heads/main', extensions: { issuer: 'https://token.actions.githubusercontent.com' } });
    expect(signature.certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(signature.chain).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(Object.keys(JSON.parse(signature.bundle) as object)).toEqual(['SignedEntryTimestamp', 'Payload']);
    expect(sigstore.fulcio.requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /api/v2/signingCert');
    expect(sigstore.rekor.requests.map((r) => `${r.method} ${r.path}`)).toContain('POST /api/v1/log/entries');
    expect(() => verifyKeyless(sigstore.verifier, Buffer.from('{}'), annotations)).toThrow();
    expect(() => verifyKeyless(other.verifier, PAYLOAD, annotations)).toThrow();
  });

  it('a signature that does not verify against trusted-root (another instance) is refused, naming the URLs to check', async () => {
    await expect(signKeyless(PAYLOAD, service(other.trustedRootJson), given(githubStyleToken()))).rejects.toThrow(
      /^the keyless signature does not verify against trusted-root \(.+\); check fulcio-url and rekor-url$/,
    );
  });

  it('signs a DSSE envelope: verified against trusted-root, the certificate key signs its PAE, an intoto entry names its payload and signature', async () => {
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1' }));
    const signed = await signDsseKeyless('application/vnd.in-toto+json', statement, service(sigstore.trustedRootJson), given(githubStyleToken()));
    expect(signed.payloadType).toBe('application/vnd.in-toto+json');
    expect(signed.payload).toEqual(statement);
    const pae = Buffer.concat([Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${statement.length} `), statement]);
    expect(verify('sha256', pae, new X509Certificate(signed.certificate).publicKey, signed.sig)).toBe(true);
    expect(new X509Certificate(signed.certificate).subjectAltName).toContain('repo:org/repo:ref:refs/heads/main');
    expect(signed.chain).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    const rekor = JSON.parse(signed.bundle) as { SignedEntryTimestamp: string; Payload: { body: string } };
    const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString()) as { kind: string; apiVersion: string; spec: { content: { payloadHash: { value: string }; envelope: { signatures: Array<{ sig: string }> } } } };
    expect([body.kind, body.apiVersion]).toEqual(['intoto', '0.0.2']);
    expect(body.spec.content.payloadHash.value).toBe(createHash('sha256').update(statement).digest('hex'));
    expect(Buffer.from(Buffer.from(body.spec.content.envelope.signatures[0]?.sig ?? '', 'base64').toString(), 'base64')).toEqual(signed.sig);
    await expect(signDsseKeyless('application/vnd.in-toto+json', statement, service(other.trustedRootJson), given(githubStyleToken()))).rejects.toThrow(
      /^the keyless attestation does not verify against trusted-root \(.+\); check fulcio-url and rekor-url$/,
    );
  });

  it("Fulcio's refusal is the error, prefixed", async () => {
    await expect(signKeyless(PAYLOAD, service(), given('not.a-jwt.x'))).rejects.toThrow(/^keyless signing failed: /);
  });

  it("cosign's bundle annotation: Go field order, base64 SET and body, numbers, hex log id", () => {
    const text = rekorBundle({ signedEntryTimestamp: Buffer.from('set'), body: Buffer.from('body'), integratedTime: '12345', logIndex: '7', logId: Buffer.from([0xab, 0x01]) });
    expect(text).toBe('{"SignedEntryTimestamp":"c2V0","Payload":{"body":"Ym9keQ==","integratedTime":12345,"logIndex":7,"logID":"ab01"}}');
  });

  it.each([
    ['http on a remote host (the token would travel in clear)', { 'fulcio-url': 'http://fulcio.example', 'rekor-url': 'https://rekor.example' }, 'signer "k": fulcio-url: http://fulcio.example is not https'],
    ['a trusted root that does not exist', { 'fulcio-url': 'https://f.example', 'rekor-url': 'https://r.example', 'trusted-root': '/none.json' }, 'signer "k": trusted-root /none.json does not exist; mount it or fix trusted-root'],
  ])('refuses before anything starts: %s', (_, config, message) => {
    expect(() => keylessService(config, readFile, 'signer "k"')).toThrow(message);
  });

  it.each([
    ['not JSON', 'nope'],
    ['no certificate authority', JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [] })],
  ])('a trusted root file that is %s', (_, text) => {
    expect(() => readTrustedRoot('/root.json', () => text, 'signer "k"')).toThrow(/^signer "k": trusted-root \/root.json is not a sigstore trusted root \(/);
  });
});
