import { sign, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationLayer, attestationTag, dsseEnvelope, keyAttesting, keylessAttesting, pae } from '../../src/sign/attestation.js';
import { keylessService } from '../../src/sign/keyless.js';
import { sha256 } from '../../src/support/digest.js';
import { generateTestKey, verifiedStatement } from '../support/cosign.js';
import { githubStyleToken, startMockSigstore, type MockSigstore } from '../support/sigstore.js';

const STATEMENT = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1', note: 'ünïcode' }));

describe("cosign's attestation format (DSSE v1 envelope, cosign attest's layer and tag)", () => {
  it('PAE as the DSSE spec writes its example; lengths are bytes, not characters', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('the envelope carries the statement in base64 and a signature over its PAE that the public key verifies', () => {
    const key = generateTestKey();
    const envelope = dsseEnvelope(STATEMENT, (bytes) => sign('sha256', bytes, key.privateKey));
    const parsed = JSON.parse(envelope.toString()) as { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
    expect(parsed.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(parsed.payload, 'base64')).toEqual(STATEMENT);
    expect(parsed.signatures).toEqual([{ keyid: '', sig: expect.any(String) }]);
    expect(verifiedStatement(envelope, key.publicKey)).toEqual(JSON.parse(STATEMENT.toString()));
    expect(verifiedStatement(envelope, generateTestKey().publicKey)).toBeUndefined();
  });

  it('layer: DSSE media type, the empty signature annotation and predicateType; tag sha256-<hex>.att', () => {
    const envelope = Buffer.from('{"payloadType":"x"}');
    expect(attestationLayer(envelope, 'https://slsa.dev/provenance/v1')).toEqual({
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      size: envelope.length,
      digest: sha256(envelope),
      annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' },
    });
    expect(attestationTag(`sha256:${'ab'.repeat(32)}`)).toBe(`sha256-${'ab'.repeat(32)}.att`);
  });

  it("a keyless layer also carries the certificate, the chain and Rekor's bundle, as a keyless signature's", () => {
    const envelope = Buffer.from('{"payloadType":"x"}');
    const layer = attestationLayer(envelope, 'https://slsa.dev/provenance/v1', { certificate: 'LEAF PEM', chain: 'CHAIN PEM', bundle: '{"SignedEntryTimestamp":"c2V0"}' });
    expect(layer.annotations).toEqual({
      'dev.cosignproject.cosign/signature': '',
      predicateType: 'https://slsa.dev/provenance/v1',
      'dev.sigstore.cosign/certificate': 'LEAF PEM',
      'dev.sigstore.cosign/chain': 'CHAIN PEM',
      'dev.sigstore.cosign/bundle': '{"SignedEntryTimestamp":"c2V0"}',
    });
  });

  it('with a key: the envelope is the layer blob, verified by the public key; no certificate annotations', async () => {
    const key = generateTestKey();
    const { envelope, layer } = await keyAttesting(key)(STATEMENT, 'https://slsa.dev/provenance/v1');
    expect(verifiedStatement(envelope, key.publicKey)).toEqual(JSON.parse(STATEMENT.toString()));
    expect(layer).toEqual(attestationLayer(envelope, 'https://slsa.dev/provenance/v1'));
  });
});

describe('keyless attestation against @sigstore/mock Fulcio and Rekor on 127.0.0.1', () => {
  let sigstore: MockSigstore;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
  });
  afterAll(async () => sigstore?.stop());

  it("the layer: cosign's DSSE envelope (empty keyid) signed by the leaf certificate's key, and its certificate, chain and bundle annotations", async () => {
    const service = keylessService({ 'fulcio-url': sigstore.fulcio.url, 'rekor-url': sigstore.rekor.url }, () => '', 'signer "k"');
    const token = { origin: 'SIGSTORE_ID_TOKEN', current: () => Promise.resolve(githubStyleToken()) };
    const { envelope, layer } = await keylessAttesting(service, token)(STATEMENT, 'https://slsa.dev/provenance/v1');
    const parsed = JSON.parse(envelope.toString()) as { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
    expect(Object.keys(parsed)).toEqual(['payloadType', 'payload', 'signatures']);
    expect(parsed.signatures).toEqual([{ keyid: '', sig: expect.any(String) }]);
    const annotations = layer.annotations ?? {};
    const leaf = new X509Certificate(annotations['dev.sigstore.cosign/certificate'] ?? '');
    expect(verifiedStatement(envelope, leaf.publicKey)).toEqual(JSON.parse(STATEMENT.toString()));
    expect(leaf.checkIssued(new X509Certificate(annotations['dev.sigstore.cosign/chain'] ?? ''))).toBe(true);
    expect(layer).toMatchObject({ mediaType: 'application/vnd.dsse.envelope.v1+json', size: envelope.length, digest: sha256(envelope) });
    expect(Object.keys(annotations)).toEqual([
      'dev.cosignproject.cosign/signature',
      'predicateType',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/chain',
      'dev.sigstore.cosign/bundle',
    ]);
    expect(annotations['dev.cosignproject.cosign/signature']).toBe('');
    expect(annotations.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(Object.keys(JSON.parse(annotations['dev.sigstore.cosign/bundle'] ?? '') as object)).toEqual(['SignedEntryTimestamp', 'Payload']);
  });
});
