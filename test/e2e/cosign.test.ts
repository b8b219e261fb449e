import { createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCollecting, writeConfig } from '../support/cli.js';
import { cosignEncryptedKey, generateTestKey, readStoredSignatures, verifiedBy, type StoredSignatures } from '../support/cosign.js';
import { MANIFEST_TYPES, startRegistry, type TestRegistry } from '../support/registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry') && requireTool('openssl', 'apt-get install openssl');

const PASSWORD = 'cosign-e2e-password-Zr41x';
const WRONG_PASSWORD = 'not-the-password-Kq83';
const SHA = '0123456789abcdef0123456789abcdef01234567';
/** A Prow postsubmit: BUILD_ID is the build number cosign signatures record. */
const prow = (buildId: string) => ({ CI: 'true', PROW_JOB_ID: 'job-1', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: SHA, BUILD_ID: buildId });

/** Everything the CLI printed in this file, and the folders it logged to: grepped for secrets at the end. */
const outputs: string[] = [];
const logDirs: string[] = [];
const cacheDir = tempDir('buildah-cache');
const storage = ['--root', path.join(cacheDir, 'buildah', 'root'), '--runroot', path.join(cacheDir, 'buildah', 'runroot'), '--storage-driver=vfs'];

const key = generateTestKey();
const keyDir = tempDir('cosign-keys');
const encryptedKey = path.join(keyDir, 'cosign.key');
const publicKey = path.join(keyDir, 'cosign.pub');
const opensslKey = path.join(keyDir, 'openssl.key');

function cosignConfig(registry: string, signers: Array<{ name: string; config: string }>): string {
  const list = signers.map((s) => `    - {name: ${s.name}, type: cosign, config: {${s.config}}}\n`).join('');
  return writeConfig(`registry: ${registry}\nsign-config:\n  enabled-signers:\n    "*": [${signers.map((s) => s.name).join(', ')}]\n  signers:\n${list}`);
}

const cli = (args: string[], env: Record<string, string> = {}) => runCliCollecting(outputs, args, env);

const signOnly = (config: string, images: string[]) => ['--sign-only', `--config=${config}`, ...images.map((i) => `--images-to-sign=${i}`), '--repo=org/repo'];

afterAll(removeTempDirs);

describe.skipIf(!ready)('cosign signing through the real CLI, real registry, real images, verified with node:crypto', () => {
  let registry: TestRegistry;
  let digest: string;
  const digestOf = async (repository: string, tag: string) =>
    (await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES.join(', ') } })).headers.get('docker-content-digest') ?? '';
  const tagsOf = async (repository: string) => ((await (await fetch(`${registry.url}/v2/${repository}/tags/list`)).json()) as { tags: string[] }).tags.sort();
  const stored = async (repository: string, imageDigest = digest): Promise<StoredSignatures> =>
    (await readStoredSignatures(registry.url, repository, imageDigest)) ?? expect.unreachable(`no signatures for ${repository}@${imageDigest}`);

  beforeAll(async () => {
    registry = await startRegistry();
    writeFileSync(encryptedKey, cosignEncryptedKey(key, PASSWORD));
    writeFileSync(publicKey, key.publicPem);
    // The README's recipe for an unencrypted key.
    await execa('sh', ['-c', `openssl ecparam -genkey -name prime256v1 | openssl pkcs8 -topk8 -nocrypt -out ${opensslKey}`]);
    const context = tempDir('context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(path.join(context, 'hello.txt'), 'signed with cosign by image-builder\n');
    await execa('buildah', [...storage, 'build', '--isolation=chroot', '-t', 'localhost/cosign-e2e:1', context]);
    for (const target of ['app:v1', 'app:latest', 'twice/app:1', 'tools/relocated:1', 'fresh/app:1']) {
      await execa('buildah', [...storage, 'push', '--tls-verify=false', 'localhost/cosign-e2e:1', `docker://${registry.host}/${target}`]);
    }
    digest = await digestOf('app', 'v1');
  }, 300_000);
  afterAll(async () => registry?.stop());

  it('--sign-only, encrypted cosign key: one signature per digest beside the image, with build number and time', async () => {
    const config = cosignConfig(`${registry.host}/unused`, [{ name: 'cosign-main', config: `key: ${encryptedKey}, password-env: COSIGN_PASSWORD, annotations: {team: build-infra}` }]);
    const started = Date.now();
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`, `${registry.host}/app:latest`]), { ...prow('4711'), COSIGN_PASSWORD: PASSWORD });
    expect(r.stderr).toContain(`cosign-main: signed ${registry.host}/app:v1 (${digest}) → ${registry.host}/app:sha256-${digest.slice(7)}.sig (1 signature)`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    // app:latest is the same digest with the same payload: nothing added.
    expect(r.stderr).toContain(`cosign-main: ${registry.host}/app:latest (${digest}) already has this signature in ${registry.host}/app:sha256-`);
    const { signatures, config: sigConfig, manifest } = await stored('app');
    expect(signatures).toHaveLength(1);
    const [signature] = signatures;
    expect(signature?.parsed.critical).toEqual({ identity: { 'docker-reference': `${registry.host}/app` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' });
    expect(signature?.parsed.optional).toEqual({ buildNumber: '4711', buildTimestamp: expect.stringMatching(/^\d{8}\.\d{6}$/), team: 'build-infra' });
    const [date, time] = (signature?.parsed.optional?.buildTimestamp ?? '').split('.');
    const signedAt = Date.parse(`${date?.slice(0, 4)}-${date?.slice(4, 6)}-${date?.slice(6)}T${time?.slice(0, 2)}:${time?.slice(2, 4)}:${time?.slice(4)}Z`);
    expect(Math.abs(signedAt - started)).toBeLessThan(60_000);
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(sigConfig.rootfs.diff_ids).toEqual([signature?.layer.digest]);
    expect(verifiedBy(signature!, createPublicKey(readFileSync(publicKey, 'utf8')))).toBe(true);
  });

  it('signing twice with the same key and payload adds nothing; a second key (openssl PKCS#8) adds a layer, the first kept', async () => {
    // buildTimestamp pinned (configured annotations win, as in kpack) so that both runs sign the same payload.
    const pinned = `key: ${encryptedKey}, password-file: ${path.join(keyDir, 'password')}, annotations: {buildTimestamp: "20240101.000000"}`;
    writeFileSync(path.join(keyDir, 'password'), `${PASSWORD}\n`);
    const config = cosignConfig(`${registry.host}/unused`, [{ name: 'cosign-main', config: pinned }]);
    expect((await cli(signOnly(config, [`${registry.host}/twice/app:1`]), prow('9'))).code).toBe(0);
    const first = await stored('twice/app');
    const again = await cli(signOnly(config, [`${registry.host}/twice/app:1`]), prow('9'));
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already has this signature');
    const second = await stored('twice/app');
    expect([second.digest, second.signatures.length]).toEqual([first.digest, 1]);

    const other = cosignConfig(`${registry.host}/unused`, [{ name: 'cosign-openssl', config: `key: ${opensslKey}` }]);
    const r = await cli(signOnly(other, [`${registry.host}/twice/app:1`]), prow('10'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('(2 signatures)');
    const both = await stored('twice/app');
    expect(both.signatures[0]?.layer).toEqual(first.signatures[0]?.layer);
    const opensslPublic = createPublicKey(readFileSync(opensslKey, 'utf8'));
    expect(both.signatures.map((s) => [verifiedBy(s, key.publicKey), verifiedBy(s, opensslPublic)])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(both.signatures[1]?.parsed.optional?.buildNumber).toBe('10');
  });

  it('repository: the signature is stored in another repository, none beside the image', async () => {
    const relocated = await digestOf('tools/relocated', '1');
    const config = cosignConfig(`${registry.host}/unused`, [{ name: 'cosign-main', config: `key: ${encryptedKey}, repository: ${registry.host}/signatures/store` }]);
    const r = await cli(signOnly(config, [`${registry.host}/tools/relocated:1`]), { COSIGN_PASSWORD: PASSWORD });
    expect(r.code).toBe(0);
    expect(await readStoredSignatures(registry.url, 'tools/relocated', relocated)).toBeUndefined();
    const { signatures } = await stored('signatures/store', relocated);
    expect(signatures[0]?.parsed.critical.identity['docker-reference']).toBe(`${registry.host}/tools/relocated`);
    expect(verifiedBy(signatures[0]!, key.publicKey)).toBe(true);
  });

  it('a wrong password: exit 2 before anything is pushed or built; the password is never printed', async () => {
    const config = cosignConfig(`${registry.host}/built`, [{ name: 'cosign-main', config: `key: ${encryptedKey}, password-env: KEY_PASSWORD` }]);
    const r = await cli(signOnly(config, [`${registry.host}/fresh/app:1`]), { KEY_PASSWORD: WRONG_PASSWORD });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: sign-config signer "cosign-main": key file ${encryptedKey} cannot be opened: wrong password (from password-env KEY_PASSWORD); give the password the key was created with`,
    );
    expect(await tagsOf('fresh/app')).toEqual(['1']);
    const logDir = tempDir('logs');
    logDirs.push(logDir);
    const build = ['--name=test-infra/app', '--backend=buildah', `--log-dir=${logDir}`, `--commit-sha=${SHA}`, `--context=${tempDir('unused-context')}`, `--config=${config}`];
    const b = await cli(build, { KEY_PASSWORD: WRONG_PASSWORD, IMAGE_BUILDER_CACHE_DIR: cacheDir });
    expect(b.code).toBe(2);
    expect(readdirSync(logDir)).toEqual([]);
  });

  it('build mode: builds with buildah, pushes, then signs every pushed tag with the CI build number', async () => {
    const context = tempDir('build-context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(path.join(context, 'hello.txt'), 'built, pushed and signed with cosign\n');
    const config = cosignConfig(`${registry.host}/built`, [{ name: 'cosign-main', config: `key: ${encryptedKey}` }]);
    const logDir = tempDir('logs');
    logDirs.push(logDir);
    const args = ['--name=test-infra/app', `--context=${context}`, '--backend=buildah', `--log-dir=${logDir}`, `--config=${config}`, '--tag=release-1'];
    const r = await cli(args, { ...prow('777'), COSIGN_PASSWORD: PASSWORD, IMAGE_BUILDER_CACHE_DIR: cacheDir });
    expect(r.stderr).toContain(`cosign-main: signed ${registry.host}/built/test-infra/app:release-1@`);
    expect(r.code).toBe(0);
    // Besides the .sig, the build attached its provenance (.att, test/e2e/provenance.test.ts): on by default.
    const tags = (await tagsOf('built/test-infra/app')).filter((tag) => !tag.endsWith('.sig') && !tag.endsWith('.att'));
    expect(tags).toEqual(['release-1', expect.stringMatching(/^v\d{8}-01234567$/)]);
    const built = await digestOf('built/test-infra/app', 'release-1');
    expect(await digestOf('built/test-infra/app', tags[1] ?? '')).toBe(built);
    const { signatures } = await stored('built/test-infra/app', built);
    expect(signatures).toHaveLength(1);
    expect(signatures[0]?.parsed.critical).toMatchObject({ identity: { 'docker-reference': `${registry.host}/built/test-infra/app` }, image: { 'docker-manifest-digest': built } });
    expect(signatures[0]?.parsed.optional?.buildNumber).toBe('777');
    expect(verifiedBy(signatures[0]!, key.publicKey)).toBe(true);
  });

  it('never prints a secret: password, key file lines, the decrypted key (all runs used --debug)', () => {
    const logs = logDirs.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)));
    const text = [...outputs, ...logs.filter((f) => statSync(f).isFile()).map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(text).toContain('cosign payload for');
    const keyLines = [readFileSync(encryptedKey, 'utf8'), readFileSync(opensslKey, 'utf8'), key.pkcs8].flatMap((pemText) => pemText.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')));
    const secrets = [PASSWORD, WRONG_PASSWORD, key.derBase64, ...keyLines];
    for (const secret of secrets) expect(text.includes(secret), `secret ${secret.slice(0, 8)}… printed`).toBe(false);
  });
});
