import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { generateTestKey, readStoredSignatures, verifiedBy, verifiedStatement, type TestKey } from '../support/cosign.js';
import { getBlob, getImageConfig, getManifest, MANIFEST_TYPES, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { githubStyleToken, startGithubTokenEndpoint, startMockSigstore, type MockSigstore, type Served } from '../support/sigstore.js';
import { requireTool } from '../support/tools.js';

/**
 * Reuse as an attacker would try it: whoever can push to the dev registry (every pull-request job) or run code in a
 * pull-request job must never get an image of their choosing promoted to prod and signed. Real buildah, two real
 * registries on 127.0.0.1, keys made with node:crypto, sigstore's mock services for keyless.
 */

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const MG_HEAD = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d';
const cacheDir = tempDir('trust-cache');
const BEARER = 'runner-id-token-request-Zx81Pq';
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'repo:org/repo:ref:refs/heads/main';

/** A Prow postsubmit of SHA: it pushes to registry (prod) and looks in dev-registry too. */
const POSTSUBMIT = { CI: 'true', PROW_JOB_ID: 'post-1', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: SHA };
/** A Prow merge-group job: it pushes to dev-registry, with the key that pull-request jobs never see. */
const MERGE_GROUP = { CI: 'true', PROW_JOB_ID: 'mg-1', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'merge_group', PULL_BASE_SHA: SHA, PULL_PULL_SHA: MG_HEAD };
/** A Prow presubmit: the attacker's own pull request, its code running in the job. */
const PRESUBMIT = { CI: 'true', PROW_JOB_ID: 'pr-1', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'presubmit', PULL_NUMBER: '66', PULL_BASE_SHA: SHA, PULL_PULL_SHA: 'e'.repeat(40) };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  built: boolean;
  report?: { reused: boolean; digest: string };
}

/** A file of the key, or of its public half, in a fresh folder. */
function keyFile(key: TestKey, which: 'private' | 'public'): string {
  const file = join(tempDir('trust-key'), which === 'private' ? 'cosign.key' : 'cosign.pub');
  writeFileSync(file, which === 'private' ? key.pkcs8 : key.publicPem);
  return file;
}

const signerConfig = (key: TestKey) =>
  `sign-config:\n  enabled-signers: {"*": [cosign]}\n  signers:\n    - {name: cosign, type: cosign, config: {key: ${keyFile(key, 'private')}}}\n`;

/** Raw manifest bytes under another tag of the same repository (what `crane tag` does). */
async function retag(registry: TestRegistry, repository: string, from: string, to: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${from}`, { headers: { Accept: MANIFEST_TYPES.join(', ') } });
  if (!res.ok) throw new Error(`GET ${repository}:${from}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const put = await fetch(`${registry.url}/v2/${repository}/manifests/${to}`, { method: 'PUT', headers: { 'Content-Type': res.headers.get('content-type') ?? '' }, body: bytes });
  if (!put.ok) throw new Error(`PUT ${repository}:${to}: HTTP ${put.status} ${await put.text()}`);
  return res.headers.get('docker-content-digest') ?? '';
}

/** Every layer of an image, uncompressed, as text: what a `docker run` of it would find in its files. */
async function layersText(registry: TestRegistry, repository: string, reference: string): Promise<string> {
  const manifest = await getManifest(registry, repository, reference);
  const texts = await Promise.all(
    (manifest.body.layers ?? []).map(async (layer) => {
      const blob = await getBlob(registry, repository, layer.digest);
      try {
        return gunzipSync(blob).toString('latin1');
      } catch {
        return blob.toString('latin1');
      }
    }),
  );
  return texts.join('\n');
}

describe.skipIf(!haveTools)('reuse that cannot be poisoned: only what a trusted builder attested is promoted', () => {
  let dev: TestRegistry;
  let prod: TestRegistry;
  /** The base image pinned by digest: the dry-run's inputs digest is then the run's (what an attacker computes). */
  let base: string;
  const mergeKey = generateTestKey();
  const prodKey = generateTestKey();
  const attackerKey = generateTestKey();

  beforeAll(async () => {
    [dev, prod] = await Promise.all([startRegistry(), startRegistry()]);
    const tagged = await pushShellImage(dev, 'fixtures/shell');
    base = `${tagged.replace(/:1$/, '')}@${(await getManifest(dev, 'fixtures/shell', '1')).digest}`;
  }, 120_000);
  afterAll(async () => {
    await Promise.all([dev?.stop(), prod?.stop()]);
  });

  function project(text = 'alpha\n'): string {
    const dir = tempDir('trust-project');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${base}\nARG FLAVOUR=plain\nRUN echo "$FLAVOUR" > /flavour\nCOPY src/ /src/\n`);
    writeFileSync(join(dir, 'src/a.txt'), text);
    return dir;
  }

  /** config.yaml: prod and dev repositories (dev in namespace ns, prod in prodNs), reuse on; `trusted: […]` at the start of extra goes under reuse. */
  const config = (ns: string, extra = '', prodNs = ns) => {
    const [first = '', ...rest] = extra.split('\n');
    const trusted = first.startsWith('trusted:') ? `, ${first}` : '';
    const others = trusted ? rest.join('\n') : extra;
    return writeConfig(`registry: ${prod.host}/${prodNs}\ndev-registry: ${dev.host}/${ns}\nreuse: {enabled: true${trusted}}\n${others}`);
  };

  async function build(dir: string, configFile: string, env: Record<string, string>, args: string[] = []): Promise<Run> {
    const out = tempDir('trust-run');
    const r = await runCli(['--name=app', `--config=${configFile}`, `--context=${dir}`, '--backend=buildah', `--log-dir=${join(out, 'logs')}`, `--build-report-path=${join(out, 'report.json')}`, ...args], {
      env: baseEnv({ IMAGE_BUILDER_CACHE_DIR: cacheDir, TMPDIR: tempDir('tmp'), ...env }),
      timeoutMs: 180_000,
    });
    const report = existsSync(join(out, 'report.json')) ? JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) : undefined;
    return { ...r, built: existsSync(join(out, 'logs', 'build_build.log')), report };
  }

  /** The unit's inputs digest as --dry-run prints it: what anyone can compute from the repository's files. */
  async function inputsDigest(dir: string, configFile: string, env: Record<string, string>): Promise<string> {
    const r = await runCli(['--name=app', `--config=${configFile}`, `--context=${dir}`, '--backend=buildah', '--dry-run'], { env: baseEnv(env) });
    expect(r.code, r.stderr).toBe(0);
    const { inputs } = JSON.parse(r.stdout).builds[0];
    expect(inputs.resolved).toBe(true);
    return inputs.digest as string;
  }
  const tagOf = (digest: string) => `inputs-${digest.slice('sha256:'.length)}`;
  const TAG = `v${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-4f1e2d3c`;

  it('an image planted in dev under the inputs tag, without attestation, is not promoted: the postsubmit builds the real content', async () => {
    const dir = project();
    const cfg = config('planted', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]`);
    const digest = await inputsDigest(dir, cfg, POSTSUBMIT);
    // The attacker: an image with a file saying PWNED, and one plain busybox without our label.
    await pushShellImage(dev, 'planted/app', 'PWNED');
    const poison = await retag(dev, 'planted/app', '1', tagOf(digest));

    const post = await build(dir, config('planted', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`), POSTSUBMIT);

    expect(post.code, post.stderr).toBe(0);
    expect(post.built).toBe(true);
    expect(post.stderr).toContain(`reuse (build): found ${dev.host}/planted/app:${tagOf(digest)} ${poison}, not reused: no attestation`);
    const prodDigest = (await getManifest(prod, 'planted/app', TAG)).digest;
    expect(prodDigest).not.toBe(poison);
    expect(await layersText(prod, 'planted/app', TAG)).not.toContain('PWNED');
    expect(await layersText(prod, 'planted/app', TAG)).toContain('alpha');
    expect((await getImageConfig(prod, 'planted/app', TAG)).config?.Labels?.['io.image-builder.inputs']).toBe(digest);
  });

  it('a candidate attested with a key nobody trusts (a pull-request job signing its own image) is built, not promoted', async () => {
    const dir = project('from the attacker\n');
    // The pull-request job runs with reuse and a cosign signer of its own key: its image carries a valid-looking attestation.
    const pr = await build(dir, config('untrusted', signerConfig(attackerKey)), PRESUBMIT);
    expect(pr.code, pr.stderr).toBe(0);
    const prDigest = pr.report!.digest;
    expect(await readStoredSignatures(dev.url, 'untrusted/app', prDigest, {}, '.att')).toBeDefined();

    const post = await build(dir, config('untrusted', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`), POSTSUBMIT);

    expect(post.code, post.stderr).toBe(0);
    expect(post.built).toBe(true);
    expect(post.stderr).toMatch(/reuse \(build\): found \S+\/untrusted\/app:inputs-[0-9a-f]{64} sha256:[0-9a-f]{64}, not reused: attestation not signed by a trusted key or identity/);
    expect((await getManifest(prod, 'untrusted/app', TAG)).digest).not.toBe(prDigest);
  });

  it('merge group attests with key M, the postsubmit trusts M: promoted byte for byte, signed with the prod key, its provenance names the source', async () => {
    const dir = project();
    const mg = await build(dir, config('promote', signerConfig(mergeKey)), MERGE_GROUP);
    expect(mg.code, mg.stderr).toBe(0);
    expect(mg.built).toBe(true);
    const devDigest = mg.report!.digest;
    const devAtt = await readStoredSignatures(dev.url, 'promote/app', devDigest, {}, '.att');
    const original = verifiedStatement(devAtt!.signatures[0]!.payload, mergeKey.publicKey) as { predicate: { buildDefinition: { internalParameters: Record<string, unknown>; resolvedDependencies: unknown[] }; runDetails: unknown } };
    const digest = await inputsDigest(dir, config('promote'), POSTSUBMIT);
    expect(original.predicate.buildDefinition.internalParameters.inputsDigest).toBe(digest);

    const post = await build(dir, config('promote', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`), POSTSUBMIT);

    expect(post.code, post.stderr).toBe(0);
    expect(post.built).toBe(false);
    expect(post.stderr).toMatch(new RegExp(`reuse \\(build\\): found ${dev.host}/promote/app:${tagOf(digest)} ${devDigest}: its attestation sha256:[0-9a-f]{64} is signed by reuse\\.trusted\\[0\\]`));
    const prodDigest = (await getManifest(prod, 'promote/app', TAG)).digest;
    expect(prodDigest).toBe(devDigest);
    const sigs = await readStoredSignatures(prod.url, 'promote/app', prodDigest);
    expect(sigs?.signatures.map((s) => verifiedBy(s, prodKey.publicKey))).toEqual([true]);
    const att = await readStoredSignatures(prod.url, 'promote/app', prodDigest, {}, '.att');
    const promoted = verifiedStatement(att!.signatures[0]!.payload, prodKey.publicKey) as typeof original & { subject: { name: string; digest: { sha256: string } }[] };
    expect(promoted.subject).toEqual([{ name: `${prod.host}/promote/app`, digest: { sha256: prodDigest.slice(7) } }]);
    const { promotedFrom, ...kept } = promoted.predicate.buildDefinition.internalParameters as { promotedFrom: Record<string, unknown> };
    expect(promotedFrom).toMatchObject({ source: `${dev.host}/promote/app@${devDigest}`, attestation: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), trustedBy: expect.stringContaining('reuse.trusted[0]') });
    // Not a claim that the postsubmit built it: the merge group's build definition, commit and run, unchanged.
    expect(kept).toEqual(original.predicate.buildDefinition.internalParameters);
    expect(promoted.predicate.buildDefinition.resolvedDependencies).toEqual(original.predicate.buildDefinition.resolvedDependencies);
    expect(promoted.predicate.runDetails).toEqual(original.predicate.runDetails);

    // The next postsubmit finds the copy in prod, proven by the prod key's promotion provenance.
    const again = await build(dir, config('promote', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`), POSTSUBMIT, ['--tag=again']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.built).toBe(false);
    expect(again.stderr).toContain(`reuse (build): found ${prod.host}/promote/app:${tagOf(digest)} ${devDigest}: its attestation`);
    expect(again.stderr).toContain('signed by signer "cosign"');
  });

  it('a trusted attestation replayed onto another inputs tag (its recorded inputs digest differs) is built, not promoted', async () => {
    const dir = project();
    const mg = await build(dir, config('replay', signerConfig(mergeKey)), MERGE_GROUP);
    expect(mg.code, mg.stderr).toBe(0);
    // The change that comes next: another inputs digest, for which the attacker re-tags the attested image.
    writeFileSync(join(dir, 'src/a.txt'), 'alpha, changed\n');
    const next = await inputsDigest(dir, config('replay'), POSTSUBMIT);
    await retag(dev, 'replay/app', mg.report!.digest, tagOf(next));

    const post = await build(dir, config('replay', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`), POSTSUBMIT);

    expect(post.code, post.stderr).toBe(0);
    expect(post.built).toBe(true);
    expect(post.stderr).toMatch(new RegExp(`not reused: attestation records inputs digest sha256:[0-9a-f]{64}, not this build's ${next}`));
    expect(await layersText(prod, 'replay/app', TAG)).toContain('alpha, changed');
  });

  it('a poisoned inputs tag in the unit\'s own repository is built over: the tag then names what was built', async () => {
    const dir = project();
    const cfg = config('own', `trusted: [{key: ${keyFile(mergeKey, 'public')}}]\n${signerConfig(prodKey)}`);
    const digest = await inputsDigest(dir, cfg, POSTSUBMIT);
    await pushShellImage(prod, 'own/app', 'PWNED');
    const poison = await retag(prod, 'own/app', '1', tagOf(digest));

    const post = await build(dir, cfg, POSTSUBMIT);

    expect(post.code, post.stderr).toBe(0);
    expect(post.built).toBe(true);
    expect(post.stderr).toContain(`found ${prod.host}/own/app:${tagOf(digest)} ${poison}, not reused: no attestation`);
    const built = (await getManifest(prod, 'own/app', TAG)).digest;
    expect((await getManifest(prod, 'own/app', tagOf(digest))).digest).toBe(built);
  });

  it('with reuse on and nothing trusted: said once at the start, every unit built', async () => {
    const dir = project();
    const r = await build(dir, config('nothing'), POSTSUBMIT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.built).toBe(true);
    expect(r.stderr.match(/reuse needs a trusted attestation: nothing is trusted/g)).toHaveLength(1);
  });

  it('a builder that rewrites a context file while it runs changes neither the image nor its label: it builds the hashed snapshot', async () => {
    const dir = project();
    const cfg = config('race');
    const digest = await inputsDigest(dir, cfg, POSTSUBMIT);
    // A stand-in for buildah: on `build` it rewrites the working tree's file (as a pull request's code could), then runs the real buildah.
    const standIn = join(tempDir('evil-buildah'), 'buildah');
    writeFileSync(standIn, '#!/bin/sh\nfor a in "$@"; do [ "$a" = build ] && printf "EVIL\\n" > "$EVIL_FILE"; done\nexec buildah "$@"\n');
    chmodSync(standIn, 0o755);

    const r = await build(dir, cfg, { ...POSTSUBMIT, BUILDAH: standIn, EVIL_FILE: join(dir, 'src/a.txt') });

    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'src/a.txt'), 'utf8')).toBe('EVIL\n');
    const text = await layersText(prod, 'race/app', TAG);
    expect(text).toContain('alpha');
    expect(text).not.toContain('EVIL');
    expect((await getImageConfig(prod, 'race/app', TAG)).config?.Labels?.['io.image-builder.inputs']).toBe(digest);
    expect((await getManifest(prod, 'race/app', tagOf(digest))).digest).toBe(r.report!.digest);
  });

  describe('keyless: a trusted identity', () => {
    let sigstore: MockSigstore;
    let endpoint: Served;
    let trustedRoot: string;
    beforeAll(async () => {
      sigstore = await startMockSigstore();
      endpoint = await startGithubTokenEndpoint(BEARER, () => githubStyleToken({ sub: IDENTITY, iss: ISSUER }));
      trustedRoot = join(tempDir('trust-root'), 'trusted_root.json');
      writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRootJson));
    }, 60_000);
    afterAll(async () => {
      await Promise.all([sigstore?.stop(), endpoint?.stop()]);
    });

    /** A GitHub Actions merge-group run whose keyless signer attests with the workflow's identity. */
    async function mergeGroupKeyless(ns: string, dir: string): Promise<Run> {
      const signer = `sign-config:\n  enabled-signers: {"*": [keyless]}\n  signers:\n    - {name: keyless, type: cosign, config: {keyless: true, fulcio-url: "${sigstore.fulcio.url}", rekor-url: "${sigstore.rekor.url}", trusted-root: ${trustedRoot}}}\n`;
      return build(dir, config(ns, signer), {
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: 'merge_group',
        GITHUB_EVENT_PATH: join(FIXTURES, 'github', 'merge_group.json'),
        GITHUB_REF: 'refs/heads/gh-readonly-queue/main/pr-1',
        GITHUB_SHA: SHA,
        GITHUB_REPOSITORY: 'org/repo',
        GITHUB_RUN_ID: '77',
        ACTIONS_ID_TOKEN_REQUEST_URL: `${endpoint.url}/idtoken?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: BEARER,
      });
    }
    const keylessTrust = (identity: string, issuer = ISSUER) => `trusted: [{keyless: {issuer: "${issuer}", identity: '${identity}', trusted-root: ${trustedRoot}}}]`;

    it('the identity matches: promoted; another identity or issuer: built', async () => {
      const dir = project();
      const mg = await mergeGroupKeyless('keyless', dir);
      expect(mg.code, mg.stderr).toBe(0);
      const devDigest = mg.report!.digest;
      expect(await readStoredSignatures(dev.url, 'keyless/app', devDigest, {}, '.att')).toBeDefined();

      const attempt = (prodNs: string, trust: string) => build(dir, config('keyless', `${trust}\n${signerConfig(prodKey)}`, prodNs), POSTSUBMIT);
      const other = await attempt('keyless-other', keylessTrust('^repo:org/other:ref:refs/heads/main$'));
      expect(other.code, other.stderr).toBe(0);
      expect(other.built).toBe(true);
      expect(other.stderr).toMatch(/not reused: attestation not signed by a trusted key or identity/);
      // A prefix of the identity is no match: the pattern must match all of it.
      const prefix = await attempt('keyless-prefix', keylessTrust('repo:org/repo'));
      expect(prefix).toMatchObject({ code: 0, built: true });
      const wrongIssuer = await attempt('keyless-issuer', keylessTrust('^repo:org/repo:ref:refs/heads/main$', 'https://accounts.google.com'));
      expect(wrongIssuer).toMatchObject({ code: 0, built: true });

      const good = await attempt('keyless-good', keylessTrust('^repo:org/repo:ref:refs/heads/main$'));
      expect(good.code, good.stderr).toBe(0);
      expect(good.built).toBe(false);
      expect(good.stderr).toMatch(/its attestation sha256:[0-9a-f]{64} is signed by reuse\.trusted\[0\]/);
      expect((await getManifest(prod, 'keyless-good/app', TAG)).digest).toBe(devDigest);
    });
  });
});
