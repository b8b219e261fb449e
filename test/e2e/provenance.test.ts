import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCollecting, writeConfig } from '../support/cli.js';
import { cosignEncryptedKey, generateTestKey, readStoredSignatures, verifiedBy, verifiedStatement } from '../support/cosign.js';
import { getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');

const PASSWORD = 'provenance-e2e-password-Hq27';
const NPM_TOKEN = 'npm_provenanceE2eSecret9Zx';
const SHA = '89abcdef0123456789abcdef0123456789abcdef';
const RUN_ID = '8112233445';

const outputs: string[] = [];
const logDirs: string[] = [];
const cacheDir = tempDir('buildah-cache');
const key = generateTestKey();
const keyFile = path.join(tempDir('cosign-keys'), 'cosign.key');

/** A GitHub Actions push of SHA in org/repo, run RUN_ID (a simulated environment: the variables and the event file). */
function github(): Record<string, string> {
  const event = path.join(tempDir('event'), 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { name: 'repo', owner: { login: 'org' } }, head_commit: { id: SHA } }));
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_RUN_ID: RUN_ID,
    GITHUB_RUN_NUMBER: '31',
  };
}

afterAll(removeTempDirs);

describe.skipIf(!ready)('provenance through the real CLI: buildah builds FROM a loopback base image, the cosign signer attests', () => {
  let registry: TestRegistry;
  let base: string;
  let baseDigest: string;
  let context: string;

  beforeAll(async () => {
    registry = await startRegistry();
    base = await pushShellImage(registry, 'fixtures/shell');
    baseDigest = (await getManifest(registry, 'fixtures/shell', '1')).digest;
    writeFileSync(keyFile, cosignEncryptedKey(key, PASSWORD));
    context = tempDir('context');
    writeFileSync(path.join(context, 'Dockerfile'), 'ARG BASE\nARG NPM_TOKEN\nFROM ${BASE}\nRUN echo built > /built.txt\n');
  }, 180_000);
  afterAll(async () => registry?.stop());

  async function build(repository: string, extra: string[] = []) {
    const config = writeConfig(`registry: ${registry.host}/${repository}\nsign-config:\n  enabled-signers:\n    "*": [cosign-main]\n  signers:\n    - {name: cosign-main, type: cosign, config: {key: ${keyFile}}}\n`);
    const logDir = tempDir('logs');
    logDirs.push(logDir);
    const args = ['--name=app', `--context=${context}`, '--backend=buildah', `--log-dir=${logDir}`, `--config=${config}`, '--tag=1.0', `--build-arg=BASE=${base}`, `--build-arg=NPM_TOKEN=${NPM_TOKEN}`, ...extra];
    const r = await runCliCollecting(outputs, args, { ...github(), COSIGN_PASSWORD: PASSWORD, IMAGE_BUILDER_CACHE_DIR: cacheDir });
    const pushed = r.code === 0 && !extra.includes('--dry-run');
    return { ...r, digest: pushed ? (await getManifest(registry, `${repository}/app`, '1.0')).digest : '' };
  }

  it('the .att beside the image holds a DSSE envelope the public key verifies; its statement names the pushed digest, the commit and the base image digest', async () => {
    const r = await build('attested');
    expect(r.stderr).toContain(`cosign-main: attached provenance of ${registry.host}/attested/app@${r.digest} → ${registry.host}/attested/app:sha256-${r.digest.slice(7)}.att (1 attestation)`);
    expect(r.code).toBe(0);

    const stored = await readStoredSignatures(registry.url, 'attested/app', r.digest, {}, '.att');
    expect(stored?.manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.dsse.envelope.v1+json',
        size: expect.any(Number),
        digest: expect.stringMatching(/^sha256:/),
        annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' },
      },
    ]);
    const envelope = stored!.signatures[0]!.payload;
    expect(verifiedStatement(envelope, generateTestKey().publicKey)).toBeUndefined();
    const statement = verifiedStatement(envelope, key.publicPem) as { subject: unknown; predicate: Record<string, Record<string, unknown>> };
    expect(statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1' });
    expect(statement.subject).toEqual([{ name: `${registry.host}/attested/app`, digest: { sha256: r.digest.slice(7) } }]);
    const { buildDefinition, runDetails } = statement.predicate;
    expect(buildDefinition?.resolvedDependencies).toEqual([
      { uri: 'git+https://github.com/org/repo', digest: { gitCommit: SHA } },
      { uri: `docker://${base}`, digest: { sha256: baseDigest.slice(7) } },
    ]);
    expect(buildDefinition?.externalParameters).toMatchObject({ name: 'app', dockerfile: 'Dockerfile', buildArgs: ['BASE', 'COMMIT_SHA', 'NPM_TOKEN'] });
    expect((buildDefinition?.externalParameters as { tags: string[] }).tags).toContain('1.0');
    expect(runDetails).toMatchObject({
      builder: { id: `https://github.com/org/repo/actions/runs/${RUN_ID}` },
      metadata: { invocationId: RUN_ID, startedOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), finishedOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    const { startedOn, finishedOn } = runDetails?.metadata as { startedOn: string; finishedOn: string };
    expect(Date.parse(finishedOn)).toBeGreaterThan(Date.parse(startedOn));
    expect(envelope.toString().includes(NPM_TOKEN) || Buffer.from(JSON.stringify(statement)).includes(NPM_TOKEN)).toBe(false);

    // The image signature is there too, as without provenance.
    const signatures = await readStoredSignatures(registry.url, 'attested/app', r.digest);
    expect(verifiedBy(signatures!.signatures[0]!, key.publicKey)).toBe(true);
  });

  it('--provenance=false: signed, no .att', async () => {
    const r = await build('unattested', ['--provenance=false']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('provenance');
    expect(await readStoredSignatures(registry.url, 'unattested/app', r.digest)).toBeDefined();
    expect(await readStoredSignatures(registry.url, 'unattested/app', r.digest, {}, '.att')).toBeUndefined();
  });

  it('--dry-run prints the statement that would be signed, digests as placeholders, nothing pushed', async () => {
    const r = await build('dry', ['--dry-run']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { provenance: { note: string; statements: Array<{ subject: unknown; predicate: { buildDefinition: { resolvedDependencies: unknown } } }> } };
    expect(plan.provenance.note).toContain('placeholders');
    expect(plan.provenance.statements[0]?.subject).toEqual([{ name: `${registry.host}/dry/app`, digest: { sha256: '<digest of the pushed image, known after the push>' } }]);
    expect(plan.provenance.statements[0]?.predicate.buildDefinition.resolvedDependencies).toContainEqual({
      uri: `docker://${base}`,
      digest: { sha256: '<digest the registry resolves the base image to at run time>' },
    });
    expect((await fetch(`${registry.url}/v2/dry/app/tags/list`)).status).toBe(404);
  });

  it('never prints or signs a secret: password, key lines, build-arg values (all runs used --debug)', () => {
    const logs = logDirs.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)));
    const text = [...outputs, ...logs.filter((f) => statSync(f).isFile()).map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(text).toContain('provenance statement for');
    const keyLines = readFileSync(keyFile, 'utf8').split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    for (const secret of [PASSWORD, NPM_TOKEN, key.derBase64, ...keyLines]) expect(text.includes(secret), `secret ${secret.slice(0, 8)}… printed`).toBe(false);
  });
});
