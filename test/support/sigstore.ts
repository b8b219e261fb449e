import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler, type HandlerFn } from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type Signer } from '@sigstore/verify';

/**
 * sigstore's own mock services (@sigstore/mock: a Fulcio CA with a CT log, a Rekor log) served over real HTTP on
 * 127.0.0.1, a GitHub Actions ID-token endpoint, and a verifier of cosign's `.sig` layer annotations with
 * @sigstore/verify against the mock's trust root.
 */

export interface Served {
  url: string;
  /** Every request: method, path with query, Authorization header. */
  requests: Array<{ method: string; path: string; authorization?: string }>;
  stop(): Promise<void>;
}

/** A node:http server answering POST `path` with the mock's handler, 404 otherwise. */
async function serve(handle: (req: http.IncomingMessage, body: string) => Promise<{ status: number; body: string | Uint8Array; type?: string }>): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
      handle(req, Buffer.concat(chunks).toString('utf8')).then(
        ({ status, body, type }) => res.writeHead(status, { 'Content-Type': type ?? 'text/plain' }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Serves POST `path` with a mock handler; `handler` is asked per request (Rekor's is made once its URL is known). */
function serveHandler(path: string, handler: () => HandlerFn | undefined): Promise<Served> {
  return serve(async (req, body) => {
    const fn = handler();
    if (req.method !== 'POST' || req.url !== path || !fn) return { status: 404, body: `no ${req.method} ${req.url}` };
    const { statusCode, response, contentType } = await fn(body);
    const bytes = typeof response === 'string' ? response : Buffer.from(response.buffer, response.byteOffset, response.byteLength);
    return { status: statusCode, body: bytes, type: contentType };
  });
}

export interface MockSigstore {
  fulcio: Served;
  rekor: Served;
  /** The trusted root of these services, as protobuf JSON (what `trusted-root` names). */
  trustedRootJson: object;
  /** Verifies a signature against this trust root; returns the signer's certificate identity. */
  verifier: Verifier;
  stop(): Promise<void>;
}

export async function startMockSigstore(): Promise<MockSigstore> {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(caKeys);
  const ca = await initializeCA(caKeys, ctlog);
  const fulcioMock = fulcioHandler(ca);
  const fulcio = await serveHandler(fulcioMock.path, () => fulcioMock.fn);
  const tlogKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // The mock log is told its URL, known once the server listens: the handler is made after.
  const rekorMock: { fn?: HandlerFn } = {};
  const rekor = await serveHandler('/api/v1/log/entries', () => rekorMock.fn);
  const tlog = await initializeTLog(rekor.url, tlogKeys);
  rekorMock.fn = rekorHandler(tlog).fn;

  const since = new Date(Date.now() - 3600_000);
  const root: TrustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: fulcio.url,
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer) }] },
        validFor: { start: since, end: undefined },
        operator: 'sigstore.mock',
      },
    ],
    tlogs: [
      {
        baseUrl: rekor.url,
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: tlog.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: since, end: undefined } },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest() },
        checkpointKeyId: undefined,
        operator: 'sigstore.mock',
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.sigstore.mock',
        hashAlgorithm: HashAlgorithm.SHA2_256,
        publicKey: { rawBytes: ctlog.publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: since, end: undefined } },
        logId: { keyId: Buffer.from(ctlog.logID.buffer) },
        checkpointKeyId: undefined,
        operator: 'sigstore.mock',
      },
    ],
    timestampAuthorities: [],
  };
  return {
    fulcio,
    rekor,
    trustedRootJson: TrustedRoot.toJSON(root) as object,
    verifier: new Verifier(toTrustMaterial(root)),
    stop: async () => {
      await fulcio.stop();
      await rekor.stop();
    },
  };
}

/** A token shaped like GitHub Actions' (unsigned: neither the mock Fulcio nor the product checks the signature). */
export function githubStyleToken(claims: Record<string, unknown> = {}, expiresInSeconds = 600): string {
  const now = Math.floor(Date.now() / 1000);
  const body = {
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:org/repo:ref:refs/heads/main',
    aud: 'sigstore',
    repository: 'org/repo',
    ref: 'refs/heads/main',
    sha: '0123456789abcdef0123456789abcdef01234567',
    workflow: 'build',
    event_name: 'push',
    iat: now - 10,
    nbf: now - 10,
    exp: now + expiresInSeconds,
    ...claims,
  };
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'test' })}.${part(body)}.${randomBytes(64).toString('base64url')}`;
}

/** The runner's ID-token endpoint: answers `{"value": token}` to the right bearer with audience sigstore, 403 otherwise. */
export async function startGithubTokenEndpoint(bearer: string, token: () => string): Promise<Served> {
  return serve((req) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ok = req.method === 'GET' && url.pathname === '/idtoken' && url.searchParams.get('audience') === 'sigstore' && req.headers.authorization === `bearer ${bearer}`;
    return Promise.resolve(ok ? { status: 200, body: JSON.stringify({ count: 1, value: token() }), type: 'application/json' } : { status: 403, body: 'no' });
  });
}

/** What cosign stores for a keyless signature: the layer annotations of a `.sig` manifest. */
export interface KeylessAnnotations {
  'dev.cosignproject.cosign/signature': string;
  'dev.sigstore.cosign/certificate': string;
  'dev.sigstore.cosign/chain': string;
  'dev.sigstore.cosign/bundle': string;
}

type Bundle = Parameters<typeof toSignedEntity>[0];

/**
 * The sigstore bundle `cosign verify` assembles from a keyless layer's annotations (certificate, the Rekor entry of
 * the bundle annotation with its SignedEntryTimestamp) around what was signed.
 */
function bundleOf(annotations: Record<string, string>, content: Bundle['content']): Bundle {
  const rekor = JSON.parse(annotations['dev.sigstore.cosign/bundle'] ?? '') as {
    SignedEntryTimestamp: string;
    Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
  };
  const certificate = new X509Certificate(annotations['dev.sigstore.cosign/certificate'] ?? '');
  const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString('utf8')) as { kind: string; apiVersion: string };
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      content: { $case: 'x509CertificateChain', x509CertificateChain: { certificates: [{ rawBytes: certificate.raw }] } },
      tlogEntries: [
        {
          logIndex: String(rekor.Payload.logIndex),
          logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex') },
          kindVersion: { kind: body.kind, version: body.apiVersion },
          integratedTime: String(rekor.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: Buffer.from(rekor.SignedEntryTimestamp, 'base64') },
          inclusionProof: undefined,
          canonicalizedBody: Buffer.from(rekor.Payload.body, 'base64'),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    content,
  };
}

/** Verifies a keyless signature from nothing but the payload blob and the layer annotations, as `cosign verify` does. */
export function verifyKeyless(verifier: Verifier, payload: Buffer, annotations: Record<string, string>): Signer {
  const bundle = bundleOf(annotations, {
    $case: 'messageSignature',
    messageSignature: {
      messageDigest: { algorithm: HashAlgorithm.SHA2_256, digest: createHash('sha256').update(payload).digest() },
      signature: Buffer.from(annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64'),
    },
  });
  return verifier.verify(toSignedEntity(bundle, payload));
}

/**
 * Verifies a keyless attestation from nothing but the `.att` layer's blob (the DSSE envelope) and its annotations, as
 * `cosign verify-attestation` does. Returns the certificate's identity and the statement.
 */
export function verifyKeylessAttestation(verifier: Verifier, blob: Buffer, annotations: Record<string, string>): { signer: Signer; statement: Record<string, unknown> } {
  const envelope = JSON.parse(blob.toString('utf8')) as { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
  const payload = Buffer.from(envelope.payload, 'base64');
  const bundle = bundleOf(annotations, {
    $case: 'dsseEnvelope',
    dsseEnvelope: { payloadType: envelope.payloadType, payload, signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sig, 'base64') })) },
  });
  return { signer: verifier.verify(toSignedEntity(bundle)), statement: JSON.parse(payload.toString('utf8')) as Record<string, unknown> };
}
