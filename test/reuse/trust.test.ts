import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { RegistryClient } from '../../src/registry/client.js';
import { MAX_ENVELOPE_BYTES, verifyCandidate, type Candidate } from '../../src/reuse/trust.js';
import { loadTrusted, trustedKeyFromPublicKey, type Trusted } from '../../src/reuse/trusted.js';
import { keyAttestation, keylessAttestation, provenance, pushAttestations, type SignedAttestation } from '../support/attest.js';
import { generateTestKey } from '../support/cosign.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { githubStyleToken, startMockSigstore, type MockSigstore } from '../support/sigstore.js';
import { pushTestImage } from '../support/token-registry.js';
import { requireTool } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');

const GITHUB = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/my-org/my-repo/.github/workflows/build.yml@refs/heads/main';
const WORKFLOW_RE2 = '^https://github\\.com/my-org/my-repo/\\.github/workflows/build\\.yml@refs/heads/main$';
const INPUTS = `sha256:${'1a'.repeat(32)}`;
const OTHER_INPUTS = `sha256:${'2b'.repeat(32)}`;

const trustedKey = generateTestKey();
const untrustedKey = generateTestKey();

describe.skipIf(!ready)('verifyCandidate: a found image is reused only with a trusted attestation of its inputs (real registry, mock sigstore)', () => {
  let registry: TestRegistry;
  let sigstore: MockSigstore;
  let otherSigstore: MockSigstore;
  const proxies: FaultProxy[] = [];
  /** Reads registries without waiting between tries. */
  const client = (): RegistryClient => new RegistryClient({ timeoutMs: 10_000, sleep: () => Promise.resolve() });
  let pusher: RegistryClient;
  /** reuse.trusted: the key (0) and the workflow's keyless identity (1), as config.yaml would say. */
  let trusted: Trusted[];
  let repositories = 0;

  beforeAll(async () => {
    [registry, sigstore, otherSigstore] = await Promise.all([startRegistry(), startMockSigstore(), startMockSigstore()]);
    pusher = client();
    trusted = trust(`    - key: keys/trusted.pub\n    - keyless: {issuer: "${GITHUB}", identity: "${WORKFLOW_RE2.replaceAll('\\', '\\\\')}", trusted-root: sigstore/root.json}\n`);
  });
  afterAll(async () => {
    await Promise.all([...proxies.map((p) => p.close()), registry?.stop(), sigstore?.stop(), otherSigstore?.stop()]);
  });

  /** reuse.trusted parsed and loaded, with the test key and the mock sigstore roots as its files. */
  function trust(yaml: string): Trusted[] {
    const files: Record<string, string> = {
      'keys/trusted.pub': trustedKey.publicPem,
      'sigstore/root.json': JSON.stringify(sigstore.trustedRootJson),
      'sigstore/other.json': JSON.stringify(otherSigstore.trustedRootJson),
    };
    return loadTrusted(parseConfig(`reuse:\n  trusted:\n${yaml}`, 'config.yaml').config.reuse.trusted, (path) => files[path] ?? '');
  }

  /** A fresh image (its own repository) tagged inputs-…, as a lookup finds it. */
  async function candidate(architecture = 'amd64'): Promise<Candidate> {
    const repository = `trust/app${++repositories}`;
    const image = await pushTestImage(registry.url, repository, `inputs-${INPUTS.slice(7)}`, { architecture });
    return { registry: registry.host, repository, digest: image.digest };
  }

  async function attach(at: Candidate, attestations: SignedAttestation[], where: { registry: string; repository: string } = at): Promise<void> {
    await pushAttestations(pusher, where, at.digest, attestations);
  }

  async function proxy(rules: FaultRule[]): Promise<FaultProxy> {
    const started = await startFaultProxy(registry.host, rules);
    proxies.push(started);
    return started;
  }

  const keylessToken = (claims: Record<string, unknown> = {}) => githubStyleToken({ sub: WORKFLOW, ...claims });
  const attTag = (c: Candidate) => `${c.registry}/${c.repository}:sha256-${c.digest.slice(7)}.att`;

  it('no .att: not reused, the tag looked for is named', async () => {
    const c = await candidate();
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({ ok: false, check: `no attestation: ${attTag(c)} not found` });
  });

  it('nothing trusted: not reused, nothing read', async () => {
    const c = await candidate();
    expect(await verifyCandidate(client(), c, INPUTS, [])).toEqual({ ok: false, check: 'nothing is trusted' });
  });

  it('signed by a key that is not trusted: not reused', async () => {
    const c = await candidate();
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS), untrustedKey.privateKey)]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation not signed by a trusted key or identity (trusted: 1 key, 1 identity); at ${attTag(c)} layer 0`,
    });
  });

  it('signed by the trusted key, of this image and these inputs: reused, with the envelope digest and who signed', async () => {
    const c = await candidate();
    const attestation = keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey);
    await attach(c, [attestation]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: true,
      attestation: attestation.layer.digest,
      trustedBy: 'reuse.trusted[0] keys/trusted.pub',
      statement: provenance(c.digest, INPUTS),
    });
  });

  it("an attestation of another image replayed onto this one's .att: not reused", async () => {
    const [c, other] = await Promise.all([candidate('amd64'), candidate('arm64')]);
    await attach(c, [keyAttestation(provenance(other.digest, INPUTS), trustedKey.privateKey)]);
    const verdict = await verifyCandidate(client(), c, INPUTS, trusted);
    expect(verdict).toEqual({
      ok: false,
      check: `attestation signed by a trusted key (reuse.trusted[0] keys/trusted.pub), but its subject is ${other.digest}, not the candidate ${c.digest}; at ${attTag(c)} layer 0`,
    });
  });

  it('another predicate type: not reused', async () => {
    const c = await candidate();
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS, { predicateType: 'https://slsa.dev/provenance/v0.2' }), trustedKey.privateKey)]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation signed by a trusted key (reuse.trusted[0] keys/trusted.pub), but predicate type "https://slsa.dev/provenance/v0.2" is not https://slsa.dev/provenance/v1; at ${attTag(c)} layer 0`,
    });
  });

  it('another inputs digest (an image replayed under an inputs tag it was not built from): not reused', async () => {
    const c = await candidate();
    await attach(c, [keyAttestation(provenance(c.digest, OTHER_INPUTS), trustedKey.privateKey)]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation records inputs digest ${OTHER_INPUTS}, not this build's ${INPUTS} (signed by reuse.trusted[0] keys/trusted.pub); at ${attTag(c)} layer 0`,
    });
  });

  it('a payload type other than in-toto, though signed: not reused', async () => {
    const c = await candidate();
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey, { payloadType: 'application/json' })]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation signed by a trusted key (reuse.trusted[0] keys/trusted.pub), but its payload type is "application/json", not application/vnd.in-toto+json; at ${attTag(c)} layer 0`,
    });
  });

  it('a tampered payload (the signature is over other bytes): not reused', async () => {
    const c = await candidate();
    const signed = Buffer.from(JSON.stringify(provenance(c.digest, OTHER_INPUTS)));
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey, { signedPayload: signed })]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation not signed by a trusted key or identity (trusted: 1 key, 1 identity); at ${attTag(c)} layer 0`,
    });
  });

  it('a blob served with other bytes than its descriptor names: not reused', async () => {
    const c = await candidate();
    const attestation = keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey);
    await attach(c, [attestation]);
    // Same length, one byte changed: only the digest tells.
    const text = attestation.envelope.toString();
    const tampered = `${text.slice(0, -2)}${text.at(-2) === 'x' ? 'y' : 'x'}}`;
    const faulty = await proxy([{ match: (r) => r.url.endsWith(`/blobs/${attestation.layer.digest}`), fault: { status: 200, body: tampered } }]);
    const verdict = await verifyCandidate(client(), { ...c, registry: faulty.host }, INPUTS, trusted);
    expect(verdict).toEqual({
      ok: false,
      check: expect.stringMatching(new RegExp(`^blob ${attestation.layer.digest} as served has digest sha256:[0-9a-f]{64}: not the blob its descriptor names; at ${faulty.host}/`)) as unknown,
    });
  });

  it('a blob served longer than its descriptor says: reading stops at its size, not reused', async () => {
    const c = await candidate();
    const attestation = keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey);
    await attach(c, [attestation]);
    const faulty = await proxy([{ match: (r) => r.url.endsWith(`/blobs/${attestation.layer.digest}`), fault: { status: 200, body: 'x'.repeat(MAX_ENVELOPE_BYTES * 2) } }]);
    expect(await verifyCandidate(client(), { ...c, registry: faulty.host }, INPUTS, trusted)).toEqual({
      ok: false,
      check: `blob ${attestation.layer.digest} has more bytes than the ${attestation.layer.size} its descriptor says; at ${faulty.host}/${c.repository}:sha256-${c.digest.slice(7)}.att layer 0`,
    });
  });

  it('the registry answering 500: not reused, the reason said, nothing thrown', async () => {
    const c = await candidate();
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey)]);
    const faulty = await proxy([{ match: (r) => r.url.includes('.att'), fault: { status: 500 } }]);
    const at = { ...c, registry: faulty.host };
    expect(await verifyCandidate(client(), at, INPUTS, trusted)).toEqual({
      ok: false,
      check: `no attestation: ${attTag(at)}: registry unreachable (HTTP 500: the registry failed; try again later)`,
    });
  });

  it('two layers, the first by an untrusted key, the second good: reused by the second', async () => {
    const c = await candidate();
    const good = keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey);
    await attach(c, [keyAttestation(provenance(c.digest, INPUTS), untrustedKey.privateKey), good]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toMatchObject({ ok: true, attestation: good.layer.digest, trustedBy: 'reuse.trusted[0] keys/trusted.pub' });
  });

  it("the .att in the trusted key's own repository (the signer's repository), none beside the image: reused", async () => {
    const c = await candidate();
    const signatures = { registry: registry.host, repository: `trust/signatures${repositories}` };
    const attestation = keyAttestation(provenance(c.digest, INPUTS), trustedKey.privateKey);
    await attach(c, [attestation], signatures);
    const own = trustedKeyFromPublicKey(trustedKey.publicKey, 'signer "cosign-main"', signatures);
    expect(await verifyCandidate(client(), c, INPUTS, [own])).toEqual({ ok: true, attestation: attestation.layer.digest, trustedBy: 'signer "cosign-main"', statement: provenance(c.digest, INPUTS) });
    // Without the repository the key's attestations are not found.
    expect(await verifyCandidate(client(), c, INPUTS, [{ ...own, repository: undefined }])).toEqual({ ok: false, check: `no attestation: ${attTag(c)} not found` });
  });

  it('keyless, by the trusted workflow identity of the trusted issuer, chained to the trusted root: reused', async () => {
    const c = await candidate();
    const attestation = await keylessAttestation(sigstore, provenance(c.digest, INPUTS), keylessToken());
    await attach(c, [attestation]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: true,
      attestation: attestation.layer.digest,
      trustedBy: 'reuse.trusted[1] keyless',
      statement: provenance(c.digest, INPUTS),
    });
  });

  it('keyless by another identity: the pattern must match the whole identity, a prefix match is refused', async () => {
    const c = await candidate();
    const evil = `${WORKFLOW}-evil`;
    await attach(c, [await keylessAttestation(sigstore, provenance(c.digest, INPUTS), keylessToken({ sub: evil }))]);
    // Unanchored on purpose: it matches the start of the evil identity.
    const unanchored = trust(`    - keyless: {issuer: "${GITHUB}", identity: "${WORKFLOW_RE2.slice(1, -1).replaceAll('\\', '\\\\')}", trusted-root: sigstore/root.json}\n`);
    for (const t of [trusted, unanchored]) {
      const verdict = await verifyCandidate(client(), c, INPUTS, t);
      expect(verdict.ok).toBe(false);
      expect(verdict.ok ? '' : verdict.check).toContain(`its certificate is for ${JSON.stringify(evil)} from issuer "${GITHUB}", not what reuse.trusted[`);
    }
  });

  it('keyless by the trusted identity from another issuer: not reused', async () => {
    const c = await candidate();
    await attach(c, [await keylessAttestation(sigstore, provenance(c.digest, INPUTS), keylessToken({ iss: 'https://accounts.example.com' }))]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation not signed by a trusted key or identity (trusted: 1 key, 1 identity): its certificate is for ${JSON.stringify(WORKFLOW)} from issuer "https://accounts.example.com", not what reuse.trusted[1] keyless trusts; at ${attTag(c)} layer 0`,
    });
  });

  it('keyless, verified against another trusted root (another Fulcio and Rekor): not reused', async () => {
    const c = await candidate();
    await attach(c, [await keylessAttestation(otherSigstore, provenance(c.digest, INPUTS), keylessToken())]);
    expect(await verifyCandidate(client(), c, INPUTS, trusted)).toEqual({
      ok: false,
      check: `attestation not signed by a trusted key or identity (trusted: 1 key, 1 identity): its signature does not verify against the trusted root of reuse.trusted[1] keyless (Failed to verify certificate chain); at ${attTag(c)} layer 0`,
    });
  });

  it('keyless with no trusted-root: the public-good root is not built in, which the check says', async () => {
    const c = await candidate();
    await attach(c, [await keylessAttestation(sigstore, provenance(c.digest, INPUTS), keylessToken())]);
    const publicGood = trust(`    - keyless: {issuer: "${GITHUB}", identity: "${WORKFLOW_RE2.replaceAll('\\', '\\\\')}"}\n`);
    expect(await verifyCandidate(client(), c, INPUTS, publicGood)).toEqual({
      ok: false,
      check: `attestation not signed by a trusted key or identity (trusted: 1 identity): reuse.trusted[0] keyless has no trusted-root, and sigstore's public-good trusted root is neither built in nor fetched: give trusted-root (sigstore's trusted_root.json); at ${attTag(c)} layer 0`,
    });
  });
});
