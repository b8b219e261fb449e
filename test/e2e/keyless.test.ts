import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCliCollecting, writeConfig } from '../support/cli.js';
import { generateTestKey, readStoredSignatures, verifiedBy, verifiedStatement, type StoredSignatures } from '../support/cosign.js';
import { getImageConfig, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { githubStyleToken, startGithubTokenEndpoint, startMockSigstore, verifyKeyless, verifyKeylessAttestation, type MockSigstore, type Served } from '../support/sigstore.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');

const SHA = '616082eb6857dd9086463486a12564e3b9afbbf0';
const BEARER = 'runner-id-token-request-Vt61Qa';
/** What the mock Fulcio puts in the certificate: the token's sub and iss. */
const IDENTITY = 'repo:org/repo:ref:refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

/** Everything the CLI printed, the tokens it was given, and the folders it logged to: grepped for secrets at the end. */
const outputs: string[] = [];
const tokens: string[] = [];
const logDirs: string[] = [];
const cacheDir = tempDir('buildah-cache');
const storage = ['--root', path.join(cacheDir, 'buildah', 'root'), '--runroot', path.join(cacheDir, 'buildah', 'runroot'), '--storage-driver=vfs'];
const key = generateTestKey();
const keyDir = tempDir('keyless-keys');

afterAll(removeTempDirs);


describe.skipIf(!ready)('keyless cosign signing through the real CLI in a simulated GitHub Actions job, against @sigstore/mock Fulcio and Rekor', () => {
  let registry: TestRegistry;
  let sigstore: MockSigstore;
  let endpoint: Served;
  let trustedRoot: string;
  let digest: string;

  /** A push to main in GitHub Actions, the job allowed an identity token (permissions: id-token: write). */
  const github = (extra: Record<string, string> = {}) => ({
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: path.join(FIXTURES, 'github', 'push.json'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_RUN_ID: '4242',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: BEARER,
    IMAGE_BUILDER_CACHE_DIR: cacheDir,
    ...extra,
  });
  const keyless = (extra = '') => `keyless: true, fulcio-url: "${sigstore.fulcio.url}", rekor-url: "${sigstore.rekor.url}", trusted-root: ${trustedRoot}${extra}`;
  const config = (registryName: string, signers: Array<{ name: string; config: string }>) =>
    writeConfig(
      `registry: ${registryName}\nsign-config:\n  enabled-signers:\n    "*": [${signers.map((s) => s.name).join(', ')}]\n  signers:\n` +
        signers.map((s) => `    - {name: ${s.name}, type: cosign, config: {${s.config}}}\n`).join(''),
    );
  const cli = (args: string[], env: Record<string, string>) => runCliCollecting(outputs, args, env);
  const stored = async (repository: string, imageDigest: string): Promise<StoredSignatures> =>
    (await readStoredSignatures(registry.url, repository, imageDigest)) ?? expect.unreachable(`no signatures for ${repository}@${imageDigest}`);
  /** What `cosign verify --certificate-identity … --certificate-oidc-issuer …` checks, from the `.sig` alone. */
  const verifyStored = (signature: StoredSignatures['signatures'][number]) => verifyKeyless(sigstore.verifier, signature.payload, signature.layer.annotations);
  const buildArgs = (context: string, logDir: string, configFile: string, extra: string[] = []) => [
    '--name=team/app',
    `--context=${context}`,
    '--backend=buildah',
    `--log-dir=${logDir}`,
    `--config=${configFile}`,
    ...extra,
  ];
  const project = (text: string) => {
    const context = tempDir('keyless-context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(path.join(context, 'hello.txt'), text);
    return context;
  };
  const logDir = () => {
    const dir = tempDir('keyless-logs');
    logDirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    [registry, sigstore] = await Promise.all([startRegistry(), startMockSigstore()]);
    endpoint = await startGithubTokenEndpoint(BEARER, () => {
      const token = githubStyleToken({ sub: IDENTITY, iss: ISSUER });
      tokens.push(token);
      return token;
    });
    trustedRoot = path.join(keyDir, 'trusted_root.json');
    writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRootJson));
    writeFileSync(path.join(keyDir, 'cosign.key'), key.pkcs8);
    const context = project('signed keylessly by image-builder\n');
    await execa('buildah', [...storage, 'build', '--isolation=chroot', '-t', 'localhost/keyless-e2e:1', context]);
    await execa('buildah', [...storage, 'push', '--tls-verify=false', 'localhost/keyless-e2e:1', `docker://${registry.host}/app:v1`]);
    digest = (await getManifest(registry, 'app', 'v1')).digest;
  }, 300_000);
  afterAll(async () => {
    await Promise.all([registry?.stop(), sigstore?.stop(), endpoint?.stop()]);
  });

  it('--sign-only: the token from the runner endpoint (audience sigstore), a Fulcio certificate, a Rekor entry; the .sig verifies for the workflow identity', async () => {
    const file = config(`${registry.host}/unused`, [{ name: 'keyless', config: keyless() }]);
    const r = await cli(['--sign-only', `--config=${file}`, `--images-to-sign=${registry.host}/app:v1`], github());
    expect(r.stderr).toContain(`keyless: signed ${registry.host}/app:v1 (${digest}) → ${registry.host}/app:sha256-${digest.slice(7)}.sig (1 signature)`);
    expect(r.code).toBe(0);
    expect(endpoint.requests.at(-1)).toMatchObject({ method: 'GET', path: '/idtoken?api-version=2.0&audience=sigstore', authorization: `bearer ${BEARER}` });
    expect(sigstore.fulcio.requests.length).toBeGreaterThan(0);
    expect(sigstore.rekor.requests.length).toBeGreaterThan(0);
    const { signatures } = await stored('app', digest);
    expect(signatures).toHaveLength(1);
    const [signature] = signatures;
    expect(signature?.parsed.critical).toEqual({ identity: { 'docker-reference': `${registry.host}/app` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' });
    expect(Object.keys(signature?.layer.annotations ?? {}).sort()).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/chain',
    ]);
    expect(verifyStored(signature!).identity).toMatchObject({ subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } });
  });

  it('SIGSTORE_ID_TOKEN outside GitHub Actions; a second signature is added beside the first', async () => {
    const token = githubStyleToken({ sub: 'ci@example.org-pipeline', iss: 'https://ci.example.org' });
    tokens.push(token);
    const file = config(`${registry.host}/unused`, [{ name: 'keyless', config: keyless() }]);
    const r = await cli(['--sign-only', `--config=${file}`, `--images-to-sign=${registry.host}/app:v1`, '--repo=org/repo'], { SIGSTORE_ID_TOKEN: token });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('(2 signatures)');
    const { signatures } = await stored('app', digest);
    expect(signatures.map((s) => verifyStored(s).identity?.subjectAlternativeName)).toEqual([IDENTITY, 'ci@example.org-pipeline']);
  });

  it.each([
    ['no token anywhere (a job without id-token: write)', { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }, "keyless signing needs the CI's OIDC identity token, and there is none"],
    ['an expired SIGSTORE_ID_TOKEN', { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', SIGSTORE_ID_TOKEN: githubStyleToken({}, -60) }, 'the identity token from SIGSTORE_ID_TOKEN expired at'],
  ])('%s: exit 2 before anything is built', async (_, env, message) => {
    const logs = logDir();
    const file = config(`${registry.host}/never`, [{ name: 'keyless', config: keyless() }]);
    const r = await cli(buildArgs(project('never built\n'), logs, file), github(env));
    expect(r.stderr).toContain(`error: sign-config signer "keyless": ${message}`);
    expect(r.code).toBe(2);
    expect(readdirSync(logs)).toEqual([]);
    expect((await fetch(`${registry.url}/v2/never/team/app/tags/list`)).status).toBe(404);
  });

  it('build mode with only a keyless signer: the image gets provenance, stored as cosign attest stores it without a key, verified with @sigstore/verify for the workflow identity', async () => {
    const file = config(`${registry.host}/solo`, [{ name: 'keyless', config: keyless() }]);
    const fulcioCalls = sigstore.fulcio.requests.length;
    const tokenCalls = endpoint.requests.length;
    const r = await cli(buildArgs(project('attested keylessly\n'), logDir(), file, ['--tag=solo-1']), github());
    expect(r.code).toBe(0);
    const pushed = (await getManifest(registry, 'solo/team/app', 'solo-1')).digest;
    expect(r.stderr).toContain(`keyless: attached provenance of ${registry.host}/solo/team/app@${pushed} → ${registry.host}/solo/team/app:sha256-${pushed.slice(7)}.att (1 attestation)`);
    // One identity token for the run (read before the build); one certificate for the signature, one for the envelope.
    expect(endpoint.requests.length - tokenCalls).toBe(1);
    expect(sigstore.fulcio.requests.length - fulcioCalls).toBe(2);
    const attestations = await readStoredSignatures(registry.url, 'solo/team/app', pushed, {}, '.att');
    const [attestation, ...more] = attestations?.signatures ?? [];
    expect(more).toEqual([]);
    expect(attestation?.layer).toMatchObject({ mediaType: 'application/vnd.dsse.envelope.v1+json', annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' } });
    expect(Object.keys(attestation?.layer.annotations ?? {}).sort()).toEqual([
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/chain',
      'predicateType',
    ]);
    expect(attestation?.parsed).toMatchObject({ payloadType: 'application/vnd.in-toto+json', signatures: [{ keyid: '', sig: expect.any(String) }] });
    const { signer, statement } = verifyKeylessAttestation(sigstore.verifier, attestation!.payload, attestation!.layer.annotations);
    expect(signer.identity).toMatchObject({ subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } });
    expect(statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1' });
    expect(statement.subject).toEqual([{ name: `${registry.host}/solo/team/app`, digest: { sha256: pushed.slice(7) } }]);
    // Anything else fails: another trust root, or a statement swapped in the envelope.
    const other = await startMockSigstore();
    try {
      expect(() => verifyKeylessAttestation(other.verifier, attestation!.payload, attestation!.layer.annotations)).toThrow();
    } finally {
      await other.stop();
    }
    const swapped = Buffer.from(JSON.stringify({ ...JSON.parse(attestation!.payload.toString()), payload: Buffer.from('{"subject":[]}').toString('base64') }));
    expect(() => verifyKeylessAttestation(sigstore.verifier, swapped, attestation!.layer.annotations)).toThrow();
  }, 300_000);

  it('build mode, two platforms, recursive: buildah pushes an index; a keyless and a key signer each sign the index and both platform manifests; the images name their commit and both attest provenance that verifies', async () => {
    const file = config(`${registry.host}/multi`, [
      { name: 'keyless', config: keyless(', recursive: true') },
      { name: 'with-key', config: `key: ${path.join(keyDir, 'cosign.key')}, recursive: true` },
    ]);
    const r = await cli(buildArgs(project('two platforms, every one signed\n'), logDir(), file, ['--platform=linux/amd64,linux/arm64', '--tag=multi-1']), github());
    expect(r.code).toBe(0);
    const index = await getManifest(registry, 'multi/team/app', 'multi-1');
    const children = (index.body as { manifests?: Array<{ digest: string; platform?: { architecture: string } }> }).manifests ?? [];
    expect(children.map((m) => m.platform?.architecture).sort()).toEqual(['amd64', 'arm64']);
    for (const manifest of [index.digest, ...children.map((m) => m.digest)]) {
      const { signatures } = await stored('multi/team/app', manifest);
      expect(signatures.map((s) => s.parsed.critical.image['docker-manifest-digest'])).toEqual([manifest, manifest]);
      expect(verifyStored(signatures[0]!).identity?.subjectAlternativeName).toBe(IDENTITY);
      expect(verifiedBy(signatures[1]!, key.publicKey)).toBe(true);
    }
    // Issue 13's whole promise in one build: labels that name the commit, provenance the key verifies, keyless signatures (above).
    // The repository is the event payload's (kyma-project/test-infra in the push fixture), in the labels and the provenance alike.
    const source = 'https://github.com/kyma-project/test-infra';
    for (const child of children) {
      const labels = (await getImageConfig(registry, 'multi/team/app', child.digest)).config?.Labels;
      expect(labels).toMatchObject({ 'org.opencontainers.image.revision': SHA, 'org.opencontainers.image.source': source });
    }
    // Both signers attest, in their order: the keyless one's envelope verifies for the workflow identity, the other's with the key.
    const attestations = await readStoredSignatures(registry.url, 'multi/team/app', index.digest, {}, '.att');
    const [keylessLayer, keyLayer, ...moreLayers] = attestations?.signatures ?? [];
    expect(moreLayers).toEqual([]);
    const statement = verifiedStatement(keyLayer!.payload, key.publicPem) as { subject: unknown; predicate: { buildDefinition: { resolvedDependencies: unknown[] } } } | undefined;
    expect(statement?.subject).toEqual([{ name: `${registry.host}/multi/team/app`, digest: { sha256: index.digest.slice(7) } }]);
    expect(statement?.predicate.buildDefinition.resolvedDependencies).toContainEqual({ uri: `git+${source}`, digest: { gitCommit: SHA } });
    expect(keyLayer?.layer.annotations['dev.sigstore.cosign/certificate']).toBeUndefined();
    const keylessAttestation = verifyKeylessAttestation(sigstore.verifier, keylessLayer!.payload, keylessLayer!.layer.annotations);
    expect(keylessAttestation.signer.identity?.subjectAlternativeName).toBe(IDENTITY);
    expect(keylessAttestation.statement).toMatchObject({ subject: statement?.subject, predicate: { buildDefinition: { resolvedDependencies: statement?.predicate.buildDefinition.resolvedDependencies } } });
    expect(r.stderr).toContain(`keyless: attached provenance of ${registry.host}/multi/team/app@${index.digest} → ${registry.host}/multi/team/app:sha256-${index.digest.slice(7)}.att (1 attestation)`);
    expect(r.stderr).toContain(`with-key: attached provenance of ${registry.host}/multi/team/app@${index.digest} → ${registry.host}/multi/team/app:sha256-${index.digest.slice(7)}.att (2 attestations)`);
    // The default tag names the same index: nothing signed twice.
    expect(r.stderr).toMatch(new RegExp(`keyless: \\S+/multi/team/app:v\\d{8}-616082eb@${index.digest} already has this signature`));
    for (const child of children) {
      expect(r.stderr).toContain(`keyless: signed ${registry.host}/multi/team/app@${child.digest} (linux/${child.platform?.architecture})`);
      expect(r.stderr).toContain(`with-key: signed ${registry.host}/multi/team/app@${child.digest} (linux/${child.platform?.architecture})`);
    }
  }, 300_000);

  it('never prints or writes the identity token or the runner request token (all runs used --debug)', () => {
    const logs = logDirs.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)));
    const text = [...outputs, ...logs.filter((f) => statSync(f).isFile()).map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(text).toContain('cosign payload for');
    expect(tokens.length).toBeGreaterThan(2);
    for (const secret of [BEARER, ...tokens, ...tokens.map((t) => t.split('.')[1] ?? '')]) expect(text.includes(secret), `secret ${secret.slice(0, 12)}… printed`).toBe(false);
  });
});
