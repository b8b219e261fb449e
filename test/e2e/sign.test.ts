import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCollecting, writeConfig } from '../support/cli.js';
import { makeCertificates, startFakeSigner, type FakeSigner, type TlsFiles } from '../support/fake-signer.js';
import { MANIFEST_TYPES, startRegistry, type TestRegistry } from '../support/registry.js';
import { startTokenRegistry, type TokenRegistry } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry') && requireTool('openssl', 'apt-get install openssl');

const TOKEN = 'notary-token-Zq81xLm';
const PAYLOAD = '{"client_id":"image-builder","client_secret":"signify-client-secret-Ab12"}';
const BEARER = 'signify-bearer-Xy98-0a1b2c';
const REGISTRY_PASSWORD = 'registry-pw-Qq55-v7';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Everything the CLI printed in this file, and the folders it logged to: grepped for secrets at the end. */
const outputs: string[] = [];
const logDirs: string[] = [];
const cacheDir = tempDir('buildah-cache');
const storage = ['--root', path.join(cacheDir, 'buildah', 'root'), '--runroot', path.join(cacheDir, 'buildah', 'runroot'), '--storage-driver=vfs'];

interface Served {
  digest: string;
  size: number;
  body: { config?: { digest: string; size: number }; manifests?: Array<{ digest: string; platform?: { architecture: string } }> };
}

/** The manifest as the registry serves it (plain fetch, not the client under test). */
async function served(url: string, repository: string, reference: string, headers: Record<string, string> = {}): Promise<Served> {
  const res = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { headers: { Accept: MANIFEST_TYPES.join(', '), ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { digest: res.headers.get('docker-content-digest') ?? '', size: bytes.length, body: JSON.parse(bytes.toString('utf8')) as Served['body'] };
}

const hex = (digest: string) => digest.replace('sha256:', '');

function notarySigner(name: string, endpoint: string, secretType: string, secret: string, extra = ''): string {
  const file = path.join(tempDir('secret'), name);
  writeFileSync(file, secret);
  return `    - {name: ${name}, type: notary, ${extra}config: {endpoint: "${endpoint}", timeout: 2s, retry-timeout: 200ms, secret: {path: ${file}, type: ${secretType}}}}\n`;
}

function signConfig(signers: string[], enabled: Record<string, string[]>, registry = '127.0.0.1:1/unused'): string {
  const list = Object.entries(enabled).map(([repo, names]) => `    "${repo}": [${names.join(', ')}]\n`).join('');
  return writeConfig(`registry: ${registry}\nsign-config:\n  enabled-signers:\n${list}  signers:\n${signers.join('')}`);
}

const cli = (args: string[], env: Record<string, string> = {}) => runCliCollecting(outputs, args, env);

const signOnly = (config: string, images: string[], extra: string[] = []) => ['--sign-only', `--config=${config}`, ...images.map((i) => `--images-to-sign=${i}`), '--repo=org/repo', ...extra];

afterAll(removeTempDirs);

describe.skipIf(!ready)('signing through the real CLI, real registry, real images', () => {
  let registry: TestRegistry;
  let tokenRegistry: TokenRegistry;
  let plain: FakeSigner;
  let mtls: FakeSigner;
  let tls: TlsFiles;
  let app: Served;
  let multi: Served;
  let amd64: Served;

  beforeAll(async () => {
    [registry, tokenRegistry, tls] = await Promise.all([startRegistry(), startTokenRegistry({ ci: REGISTRY_PASSWORD }), makeCertificates(tempDir('certs'))]);
    [plain, mtls] = await Promise.all([startFakeSigner(), startFakeSigner({ tls })]);
    const context = tempDir('context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(path.join(context, 'hello.txt'), 'signed by image-builder\n');
    await execa('buildah', [...storage, 'build', '--isolation=chroot', '-t', 'localhost/sign-e2e:1', context]);
    const push = (target: string, creds: string[] = []) => execa('buildah', [...storage, 'push', '--tls-verify=false', ...creds, 'localhost/sign-e2e:1', `docker://${target}`]);
    await push(`${registry.host}/app:v1`);
    await push(`${registry.host}/tools/other:1.0`);
    await push(`${tokenRegistry.host}/team/app:v1`, ['--creds', `ci:${REGISTRY_PASSWORD}`]);
    await execa('buildah', [...storage, 'build', '--isolation=chroot', '--platform', 'linux/amd64,linux/arm64', '--manifest', 'localhost/sign-e2e-multi:1', context]);
    await execa('buildah', [...storage, 'manifest', 'push', '--all', '--tls-verify=false', 'localhost/sign-e2e-multi:1', `docker://${registry.host}/multi:v1`]);
    app = await served(registry.url, 'app', 'v1');
    multi = await served(registry.url, 'multi', 'v1');
    const amd64Digest = multi.body.manifests?.find((m) => m.platform?.architecture === 'amd64')?.digest ?? '';
    amd64 = await served(registry.url, 'multi', amd64Digest);
  }, 300_000);
  afterAll(async () => Promise.all([registry?.stop(), tokenRegistry?.stop(), plain?.stop(), mtls?.stop()]));

  it('token: one POST for all images, the trimmed token, config digests and sizes; an index by its linux/amd64 config', async () => {
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig([notarySigner('notary-token', `${plain.url}/sign`, 'token', `\n  ${TOKEN}  \n`)], { '*': ['notary-token'] });
    const other = await served(registry.url, 'tools/other', '1.0');
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`, `${registry.host}/tools/other:1.0`, `${registry.host}/multi:v1`]));
    expect(r.stderr).toContain('signing 3 images with notary-token, try 1 of 5');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const [request, ...more] = plain.requestsTo('/sign');
    expect(more).toEqual([]);
    expect(request?.headers.authorization).toBe(`Token ${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual([
      { notaryGun: `${registry.host}/app`, sha256: hex(app.body.config!.digest), byteSize: app.body.config!.size, version: 'v1' },
      { notaryGun: `${registry.host}/tools/other`, sha256: hex(other.body.config!.digest), byteSize: other.body.config!.size, version: '1.0' },
      { notaryGun: `${registry.host}/multi`, sha256: hex(amd64.body.config!.digest), byteSize: amd64.body.config!.size, version: 'v1' },
    ]);
  });

  it('no secret: the token body without an Authorization header (compat: the Go tool signs without authentication)', async () => {
    plain.script('/open', [{ status: 200 }]);
    const signer = `    - {name: open-notary, type: notary, config: {endpoint: "${plain.url}/open", timeout: 2s, retry-timeout: 200ms}}\n`;
    const r = await cli(signOnly(signConfig([signer], { '*': ['open-notary'] }), [`${registry.host}/app:v1`, `${registry.host}/multi:v1`]));
    expect(r.stderr).toContain('signing 2 images with open-notary, try 1 of 5');
    expect(r.code).toBe(0);
    const [request, ...more] = plain.requestsTo('/open');
    expect(more).toEqual([]);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toBe(
      JSON.stringify([
        { notaryGun: `${registry.host}/app`, sha256: hex(app.body.config!.digest), byteSize: app.body.config!.size, version: 'v1' },
        { notaryGun: `${registry.host}/multi`, sha256: hex(amd64.body.config!.digest), byteSize: amd64.body.config!.size, version: 'v1' },
      ]),
    );
    expect(r.stderr).toContain(`open-notary: signed ${registry.host}/app:v1, ${registry.host}/multi:v1`);
  });

  it('signify: POSTs the payload for a token, then signs with it as Bearer', async () => {
    plain.script('/token', [{ status: 200, body: JSON.stringify({ access_token: { token: BEARER, expires_in: 300 } }) }]);
    plain.script('/sign', [{ status: 200 }]);
    const secret = `endpoint: ${plain.url}/token\npayload: '${PAYLOAD}'\n`;
    const r = await cli(signOnly(signConfig([notarySigner('signify-prod', `${plain.url}/sign`, 'signify', secret)], { 'org/repo': ['signify-prod'] }), [`${registry.host}/app:v1`]));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('signing 1 image with signify-prod, try 1 of 5');
    expect(plain.requests.map((q) => q.path)).toEqual(['/token', '/sign']);
    const [token, sign] = plain.requests;
    expect(token?.body).toBe(PAYLOAD);
    expect(token?.headers['content-type']).toBe('application/json');
    expect(sign?.headers.authorization).toBe(`Bearer ${BEARER}`);
    expect(JSON.parse(sign?.body ?? '')).toEqual([{ notaryGun: `${registry.host}/app`, sha256: hex(app.body.config!.digest), byteSize: app.body.config!.size, version: 'v1' }]);
  });

  it('signify-mtls: HTTPS with the client certificate, 202, manifest digests; an index by its own digest and size', async () => {
    mtls.script('/sign', [{ status: 202 }]);
    const secret = JSON.stringify({ certData: b64(tls.clientCert), privateKeyData: b64(tls.clientKey) });
    const config = signConfig([notarySigner('signify-mtls', `${mtls.url}/sign`, 'signify-mtls', secret)], { '*': ['signify-mtls'] });
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`, `${registry.host}/multi:v1`]), { NODE_EXTRA_CA_CERTS: tls.caFile });
    expect(r.stderr).toContain('signing 2 images with signify-mtls, try 1 of 5');
    expect(r.code).toBe(0);
    const [request, ...more] = mtls.requestsTo('/sign');
    expect(more).toEqual([]);
    expect(request?.clientCN).toBe('image-builder-test');
    expect(request?.headers.authorization).toBeUndefined();
    expect(JSON.parse(request?.body ?? '')).toEqual({
      trustedCollections: [
        { gun: `${registry.host}/app`, targets: [{ name: 'v1', byteSize: app.size, digest: hex(app.digest) }] },
        { gun: `${registry.host}/multi`, targets: [{ name: 'v1', byteSize: multi.size, digest: hex(multi.digest) }] },
      ],
    });
  });

  it('retries after 5xx with the identical body, retry-timeout apart; each try bounded by timeout', async () => {
    plain.script('/sign', [{ status: 503, body: '{"error":"busy"}' }, { status: 200, delayMs: 4000 }, { status: 500 }, { status: 200 }]);
    const config = signConfig([notarySigner('notary-token', `${plain.url}/sign`, 'token', TOKEN)], { '*': ['notary-token'] });
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`, `${registry.host}/tools/other:1.0`]));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('notary-token: try 1 of 5 failed: HTTP 503 Service Unavailable: {"error":"busy"}; next try in 200ms');
    expect(r.stderr).toMatch(/notary-token: try 2 of 5 failed: http:\/\/127\.0\.0\.1:\d+: no answer within 2s; next try in 200ms/);
    expect(r.stderr).toContain('signing 2 images with notary-token, try 4 of 5');
    const requests = plain.requestsTo('/sign');
    expect(requests).toHaveLength(4);
    expect(new Set(requests.map((q) => q.body)).size).toBe(1);
    expect(new Set(requests.map((q) => q.headers.authorization)).size).toBe(1);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(180);
  });

  it('gives up after 5 tries: exit 1 naming the signer', async () => {
    plain.script('/sign', [{ status: 502 }]);
    const config = signConfig([notarySigner('notary-token', `${plain.url}/sign`, 'token', TOKEN)], { '*': ['notary-token'] });
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`]));
    expect(r.code).toBe(1);
    expect(plain.requestsTo('/sign')).toHaveLength(5);
    expect(r.stderr).toContain('error: signing failed for 1 of 1 signer:\n  notary-token: signing 1 image failed after 5 tries: HTTP 502 Bad Gateway');
  });

  it('401 is final: one try; the next signer still runs; the run fails naming only the failed one', async () => {
    plain.script('/refused', [{ status: 401, body: 'bad token' }]);
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig(
      [notarySigner('refused', `${plain.url}/refused`, 'token', TOKEN), notarySigner('accepted', `${plain.url}/sign`, 'token', TOKEN)],
      { '*': ['refused', 'accepted'] },
    );
    plain.requests.length = 0;
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`]));
    expect(r.code).toBe(1);
    expect(plain.requests.map((q) => q.path)).toEqual(['/refused', '/sign']);
    expect(r.stderr).toContain('refused: try 1 of 5 failed: HTTP 401 Unauthorized: bad token (final: not retried)');
    expect(r.stderr).toContain('error: signing failed for 1 of 2 signers:\n  refused: signing 1 image failed after 1 try: HTTP 401 Unauthorized: bad token\n');
  });

  it('an image the registry lacks, or that is no tag, fails the signer naming it; nothing is sent', async () => {
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig([notarySigner('notary-token', `${plain.url}/sign`, 'token', TOKEN)], { '*': ['notary-token'] });
    const r = await cli(signOnly(config, [`${registry.host}/app:v1`, `${registry.host}/app:missing`, `${registry.host}/app@${app.digest}`]));
    expect(r.code).toBe(1);
    expect(plain.requests).toEqual([]);
    expect(r.stderr).toContain(`${registry.host}/app:missing: not found in the registry (HTTP 404 MANIFEST_UNKNOWN)`);
    expect(r.stderr).toContain(`${registry.host}/app@${app.digest}: not a tag`);
    expect(r.stderr).toContain('notary-token: cannot sign 2 of 3 images, nothing was sent');
  });

  it.each([
    ['presubmit', 0],
    ['postsubmit', 1],
  ])('job-type [postsubmit] in a Prow %s job: %i requests; a skipped signer is named with the reason', async (jobType, count) => {
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig([notarySigner('post-only', `${plain.url}/sign`, 'token', TOKEN, 'job-type: [postsubmit], ')], { 'org/repo': ['post-only'] });
    const prow = { CI: 'true', PROW_JOB_ID: 'p', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: jobType, PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' };
    const pr: Record<string, string> = jobType === 'presubmit' ? { PULL_NUMBER: '7', PULL_PULL_SHA: 'aaaabbbbccccddddeeeeffff0000111122223333' } : {};
    const r = await cli(['--sign-only', `--config=${config}`, `--images-to-sign=${registry.host}/app:v1`], { ...prow, ...pr });
    expect(r.code).toBe(0);
    expect(plain.requestsTo('/sign')).toHaveLength(count);
    expect(r.stderr).not.toContain('no signers configured');
    if (count === 0) expect(r.stderr).toContain('post-only skipped: runs for postsubmit, this is presubmit\nno signer runs for this run: nothing signed\n');
    else expect(r.stderr).not.toContain('skipped');
  });

  it('sign-only names every configured signer that does not run and why: another repository, a job type, outside CI', async () => {
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig(
      [
        notarySigner('runs', `${plain.url}/sign`, 'token', TOKEN),
        notarySigner('other-repo', `${plain.url}/sign`, 'token', TOKEN),
        notarySigner('dispatch-only', `${plain.url}/sign`, 'token', TOKEN, 'job-type: [workflow_dispatch], '),
      ],
      { '*': ['runs', 'dispatch-only'], 'other/repo': ['other-repo'] },
    );
    const images = [`--images-to-sign=${registry.host}/app:v1`];
    const prow = { CI: 'true', PROW_JOB_ID: 'p', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' };
    const inCi = await cli(['--sign-only', `--config=${config}`, ...images], prow);
    expect(inCi.code).toBe(0);
    expect(plain.requestsTo('/sign')).toHaveLength(1);
    expect(inCi.stderr).toContain('other-repo skipped: enabled for other/repo, this is org/repo\n');
    expect(inCi.stderr).toContain('dispatch-only skipped: runs for workflow_dispatch, this is postsubmit\n');
    expect(inCi.stderr).toContain('signing 1 image with runs, try 1 of 5');

    const local = await cli(['--sign-only', `--config=${config}`, ...images, '--repo=other/repo']);
    expect(local.code).toBe(0);
    expect(local.stderr).toContain('dispatch-only skipped: runs for workflow_dispatch jobs in CI, this run is outside CI\n');
    expect(local.stderr).not.toContain('other-repo skipped');
    expect(local.stderr).toContain('signing 1 image with other-repo, try 1 of 5');
  });

  it('reads from a registry behind a bearer-token challenge with credentials from config.json, a credential helper or auth.json; without them: not authorised', async () => {
    plain.script('/sign', [{ status: 200 }]);
    const config = signConfig([notarySigner('notary-token', `${plain.url}/sign`, 'token', TOKEN)], { '*': ['notary-token'] });
    const dockerConfig = tempDir('docker-login');
    writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [tokenRegistry.host]: { auth: b64(`ci:${REGISTRY_PASSWORD}`) } } }));
    const image = `${tokenRegistry.host}/team/app:v1`;
    tokenRegistry.tokenRequests.length = 0;
    const ok = await cli(signOnly(config, [image]), { DOCKER_CONFIG: dockerConfig });
    expect(ok.code).toBe(0);
    expect(tokenRegistry.tokenRequests).toEqual([{ user: 'ci', authenticated: true, service: 'image-builder-test-registry', scopes: ['repository:team/app:pull'] }]);
    const expected = await served(tokenRegistry.url, 'team/app', 'v1', { Authorization: `Bearer ${tokenRegistry.mint('team/app', ['pull'])}` });
    expect(JSON.parse(plain.requestsTo('/sign')[0]?.body ?? '')).toEqual([{ notaryGun: `${tokenRegistry.host}/team/app`, sha256: hex(expected.body.config!.digest), byteSize: expected.body.config!.size, version: 'v1' }]);

    // A credential helper (as gcloud auth configure-docker sets up), run for real through its protocol.
    const helperBin = tempDir('helper-bin');
    writeFileSync(path.join(helperBin, 'docker-credential-ibtest'), `#!/bin/sh\nread server\nprintf '{"ServerURL":"%s","Username":"ci","Secret":"${REGISTRY_PASSWORD}"}' "$server"\n`, { mode: 0o755 });
    const helperConfig = tempDir('docker-helper');
    writeFileSync(path.join(helperConfig, 'config.json'), JSON.stringify({ credHelpers: { [tokenRegistry.host]: 'ibtest' } }));
    tokenRegistry.tokenRequests.length = 0;
    const viaHelper = await cli(signOnly(config, [image]), { DOCKER_CONFIG: helperConfig, PATH: `${helperBin}:${process.env.PATH ?? ''}` });
    expect(viaHelper.code).toBe(0);
    expect(tokenRegistry.tokenRequests).toEqual([{ user: 'ci', authenticated: true, service: 'image-builder-test-registry', scopes: ['repository:team/app:pull'] }]);

    const authFile = path.join(tempDir('containers-auth'), 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { [tokenRegistry.host]: { username: 'ci', password: REGISTRY_PASSWORD } } }));
    expect((await cli(signOnly(config, [image]), { REGISTRY_AUTH_FILE: authFile })).code).toBe(0);

    plain.script('/sign', [{ status: 200 }]);
    const anonymous = await cli(signOnly(config, [image]));
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain(`${image}: not authorised (HTTP 401 UNAUTHORIZED; no credentials for ${tokenRegistry.host} in`);
    expect(plain.requests).toEqual([]);
  });

  it('build mode signs every pushed registry destination after the build; disk destinations are noted, not signed', async () => {
    plain.script('/sign', [{ status: 200 }]);
    const context = tempDir('build-context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(path.join(context, 'hello.txt'), 'built and signed\n');
    const layout = path.join(tempDir('layout'), 'app');
    const signer = notarySigner('notary-token', `${plain.url}/sign`, 'token', TOKEN);
    const elsewhere = notarySigner('elsewhere', `${plain.url}/never`, 'token', TOKEN);
    const config = signConfig([signer, elsewhere], { '*': ['notary-token'], 'org/other': ['elsewhere'] }, `[${registry.host}/built, "oci:${layout}"]`);
    const logDir = tempDir('logs');
    logDirs.push(logDir);
    const args = ['--name=test-infra/app', `--context=${context}`, '--backend=buildah', `--log-dir=${logDir}`, `--config=${config}`, '--tag=release-1', '--commit-sha=0123456789abcdef0123456789abcdef01234567'];
    const r = await cli(args, { IMAGE_BUILDER_CACHE_DIR: cacheDir });
    expect(r.stderr).toContain('signing 2 images with notary-token, try 1 of 5');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`not signed (on disk, not in a registry): oci:${layout}`);
    // Named after the push, when signing happens; this run outside CI has no --repo.
    expect(r.stderr).toMatch(/images? pushed\n(.*\n)*elsewhere skipped: enabled for org\/other, this run's repository is unknown \(outside CI, pass --repo=org\/repo\)\n/);
    expect(plain.requestsTo('/never')).toEqual([]);
    const body = JSON.parse(plain.requestsTo('/sign')[0]?.body ?? '') as Array<{ notaryGun: string; sha256: string; version: string }>;
    expect(body.map((entry) => [entry.notaryGun, entry.version])).toEqual([
      [`${registry.host}/built/test-infra/app`, 'release-1'],
      [`${registry.host}/built/test-infra/app`, expect.stringMatching(/^v\d{8}-01234567$/)],
    ]);
    expect(r.stderr).toMatch(new RegExp(`notary-token: signed ${registry.host}/built/test-infra/app:release-1, ${registry.host}/built/test-infra/app:v\\d{8}-01234567\\n`));
    const pushed = await served(registry.url, 'built/test-infra/app', 'release-1');
    expect(body[0]?.sha256).toBe(hex(pushed.body.config!.digest));
  });

  it('build mode: a signer that cannot work stops the run before the build (exit 2), a cosign key that is missing too', async () => {
    const missing = `    - {name: broken, type: notary, config: {endpoint: "${plain.url}/sign", secret: {path: /nonexistent/secret, type: token}}}\n`;
    const cosign = '    - {name: kpack, type: cosign, config: {key: /nonexistent/cosign.key}}\n';
    const logDir = tempDir('logs');
    const context = tempDir('context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\n');
    // BUILDAH: a program that exists (planning checks it) and would fail if the run reached it.
    const build = ['--name=test-infra/app', '--backend=buildah', `--log-dir=${logDir}`, '--commit-sha=0123456789abcdef0123456789abcdef01234567', `--context=${context}`];
    const broken = await cli([...build, `--config=${signConfig([missing], { '*': ['broken'] }, `${registry.host}/never`)}`], { BUILDAH: '/bin/false' });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('error: sign-config signer "broken": secret file /nonexistent/secret does not exist');
    const noKey = await cli([...build, `--config=${signConfig([cosign], { '*': ['kpack'] }, `${registry.host}/never`)}`], { BUILDAH: '/bin/false' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('error: sign-config signer "kpack": key file /nonexistent/cosign.key does not exist; mount the key or fix config.key');
    expect(readdirSync(logDir)).toEqual([]);
  });

  it('never prints a secret: tokens, payloads, bearer tokens, keys, registry passwords and tokens (all runs used --debug)', () => {
    const logs = logDirs.flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)));
    const text = [...outputs, ...logs.filter((f) => statSync(f).isFile()).map((f) => readFileSync(f, 'utf8'))].join('\n');
    expect(text).toContain('signing');
    const keyLines = tls.clientKey.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    const secrets = [TOKEN, PAYLOAD, 'signify-client-secret-Ab12', BEARER, REGISTRY_PASSWORD, b64(`ci:${REGISTRY_PASSWORD}`), b64(tls.clientKey), ...keyLines, ...tokenRegistry.issued];
    for (const secret of secrets) expect(text.includes(secret), `secret ${secret.slice(0, 12)}… printed`).toBe(false);
  });
});
