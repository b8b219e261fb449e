import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';
import { getBlob, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const cacheDir = tempDir();
/** test/fixtures/github/pull_request.json: kyma-project/test-infra, PR 5678, its head commit. */
const PR_HEAD = '5711fd1d5b84eabe8e545d770a4574982070ab8f';
const SOURCE = 'https://github.com/kyma-project/test-infra';
const CREATED = '2023-11-14T22:13:20Z';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A pull_request run in GitHub Actions, as the runner sets it up. */
function githubEnv(): Record<string, string> {
  return baseEnv({
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: join(FIXTURES, 'github/pull_request.json'),
    GITHUB_REF: 'refs/pull/5678/merge',
    GITHUB_SHA: 'c0ffee0000000000000000000000000000000000',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_NUMBER: '12',
    SOURCE_DATE_EPOCH: '1700000000',
    IMAGE_BUILDER_CACHE_DIR: cacheDir,
  });
}

function project(dockerfile: string): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/Dockerfile'), dockerfile);
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  return dir;
}

/** What the Dockerfile says itself: its version label wins over the origin one. */
const DOCKERFILE = 'FROM scratch\nLABEL org.opencontainers.image.version="from-dockerfile"\nCOPY hello.txt /hello.txt\n';

const originAnnotations = {
  'org.opencontainers.image.source': SOURCE,
  'org.opencontainers.image.revision': PR_HEAD,
  'org.opencontainers.image.created': CREATED,
  'org.opencontainers.image.version': 'v1.2.3',
  'org.opencontainers.image.ref.name': 'v1.2.3',
  note: 'set with --annotation',
};
const expectedLabels = {
  'org.opencontainers.image.source': SOURCE,
  'org.opencontainers.image.revision': PR_HEAD,
  'org.opencontainers.image.created': CREATED,
  'org.opencontainers.image.version': 'from-dockerfile',
  'org.opencontainers.image.ref.name': 'v1.2.3',
  team: 'set with --label',
};

describe.skipIf(!haveTools)('origin labels and annotations, read back from a real registry (buildah, GitHub Actions pull request)', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  async function build(repo: string, extra: string[]) {
    const dir = project(DOCKERFILE);
    const config = writeConfig(`registry: ${registry.host}/${repo}\n`);
    const report = join(dir, 'report.json');
    const r = await runCli(
      ['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=buildah', '--tag=v1.2.3', '--label=team=set with --label', '--annotation=note=set with --annotation', '--silent', `--log-dir=${join(dir, 'logs')}`, `--build-report-path=${report}`, ...extra],
      { env: githubEnv(), timeoutMs: 180_000 },
    );
    expect(r.stderr).toMatch(/done in/);
    expect(r.code).toBe(0);
    return { r, report: JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown> };
  }

  async function labelsOf(repository: string, digest: string): Promise<Record<string, string>> {
    const manifest = await getManifest(registry, repository, digest);
    const config = JSON.parse((await getBlob(registry, repository, manifest.body.config!.digest)).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
    return config.config?.Labels ?? {};
  }

  it('a single image: labels on its config, annotations on its manifest', async () => {
    const { r } = await build('single', []);
    for (const tag of ['v1.2.3', 'PR-5678']) {
      const manifest = await getManifest(registry, 'single/app', tag);
      expect(r.stderr).toContain(`pushed ${registry.host}/single/app:${tag} ${manifest.digest}`);
      expect(manifest.body.annotations).toMatchObject(originAnnotations);
      expect(await labelsOf('single/app', manifest.digest)).toMatchObject(expectedLabels);
    }
  });

  it('a multi-platform index: annotated through the registry, its new digest reported; each platform image labelled and annotated', async () => {
    const { r, report } = await build('multi', ['--platform=linux/amd64,linux/arm64']);
    for (const tag of ['v1.2.3', 'PR-5678']) {
      const index = await getManifest(registry, 'multi/app', tag);
      expect(index.mediaType).toBe(OCI_INDEX);
      expect(index.body.annotations).toEqual(originAnnotations);
      expect(r.stderr).toContain(`pushed ${registry.host}/multi/app:${tag} ${index.digest}`);
      // Both tags hold the same annotated index: the report's digest (what signing signs) is it.
      expect(report.digest).toBe(index.digest);
      const platforms = index.body.manifests ?? [];
      expect(platforms.map((m) => m.platform?.architecture).sort()).toEqual(['amd64', 'arm64']);
      for (const { digest } of platforms) {
        expect((await getManifest(registry, 'multi/app', digest)).body.annotations).toMatchObject(originAnnotations);
        expect(await labelsOf('multi/app', digest)).toMatchObject(expectedLabels);
      }
    }
  });
});

describe('--dry-run shows each unit\'s labels and annotations; bad values are exit 2 before anything runs', () => {
  it('a kaniko dry run in GitHub Actions: labels and annotations per unit, and the --label flags it would pass', async () => {
    const dir = project(DOCKERFILE);
    const config = writeConfig('registry: 127.0.0.1:5999/x\n');
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=kaniko', '--tag=v1.2.3', '--label=team=set with --label', '--annotation=note=set with --annotation', '--dry-run', `--log-dir=${join(dir, 'logs')}`], { env: githubEnv() });
    expect(r.code).toBe(0);
    const [unit] = (JSON.parse(r.stdout) as { builds: { labels: Record<string, string>; annotations: Record<string, string>; commands: string[][] }[] }).builds;
    expect(unit?.labels).toEqual(Object.fromEntries(Object.entries(expectedLabels).filter(([key]) => key !== 'org.opencontainers.image.version')));
    expect(unit?.annotations).toEqual(originAnnotations);
    expect(unit?.commands[0]?.filter((arg) => arg.startsWith('--label='))).toEqual(Object.entries(unit?.labels ?? {}).map(([k, v]) => `--label=${k}=${v}`));
  });

  it('every bad --label and --annotation in one round, exit 2', async () => {
    const dir = project(DOCKERFILE);
    const config = writeConfig('registry: 127.0.0.1:5999/x\n');
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--label=team', '--annotation==x', '--dry-run', `--log-dir=${join(dir, 'logs')}`], { env: { ...githubEnv(), SOURCE_DATE_EPOCH: 'now' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --label "team" is not KEY=VALUE');
    expect(r.stderr).toContain('error: --annotation "=x" has no key');
    expect(r.stderr).toContain('error: environment variable SOURCE_DATE_EPOCH="now" is not a Unix time');
  });
});
