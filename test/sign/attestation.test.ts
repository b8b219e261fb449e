import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationLayer, attestationTag, dsseEnvelope, pae } from '../../src/sign/attestation.js';
import { sha256 } from '../../src/support/digest.js';
import { generateTestKey, verifiedStatement } from '../support/cosign.js';

describe("cosign's attestation format (DSSE v1 envelope, cosign attest's layer and tag)", () => {
  it('PAE as the DSSE spec writes its example; lengths are bytes, not characters', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('the envelope carries the statement in base64 and a signature over its PAE that the public key verifies', () => {
    const key = generateTestKey();
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1', note: 'ünïcode' }));
    const envelope = dsseEnvelope(statement, (bytes) => sign('sha256', bytes, key.privateKey));
    const parsed = JSON.parse(envelope.toString()) as { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
    expect(parsed.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(parsed.payload, 'base64')).toEqual(statement);
    expect(parsed.signatures).toEqual([{ keyid: '', sig: expect.any(String) }]);
    expect(verifiedStatement(envelope, key.publicKey)).toEqual(JSON.parse(statement.toString()));
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
});
