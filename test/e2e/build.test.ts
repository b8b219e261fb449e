import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';
import { getImageConfig, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { installFakeBuilder, isRunning, requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const cacheDir = tempDir();

function project(dockerfile: string, variants?: string): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/Dockerfile'), dockerfile);
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  if (variants) writeFileSync(join(dir, 'app/variants.yaml'), variants);
  return dir;
}

const DOCKERFILE = 'FROM scratch\nARG FLAVOUR=plain\nARG COMMIT_SHA\nLABEL flavour="${FLAVOUR}" revision="${COMMIT_SHA}"\nCOPY hello.txt /hello.txt\n';

describe.skipIf(!haveTools)('build mode through the real CLI, buildah and a real registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  const env = (extra: Record<string, string> = {}) => baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: cacheDir, ...extra });

  it('builds every variant, pushes to two repositories with two tags, writes GitHub outputs, and the registry holds what the Dockerfile says', async () => {
    const dir = project(DOCKERFILE, 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: green}\n');
    const config = writeConfig(`registry: [${registry.host}/one, ${registry.host}/two]\ndefault-commit-tag: {name: default_tag, value: "c-{{ .ShortSHA }}"}\n`);
    const outputs = join(dir, 'github_output');
    const summary = join(dir, 'summary.md');
    writeFileSync(outputs, '');
    const r = await runCli(['--name=team/app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=buildah', '--tag=latest', `--log-dir=${join(dir, 'logs')}`, `--tags-output-file=${join(dir, 'tags.json')}`, `--build-report-path=${join(dir, 'report.json')}`], {
      env: env({ GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary }),
      timeoutMs: 120_000,
    });
    expect(r.stderr).toMatch(/done in/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'tags.json'), 'utf8'))).toEqual([{ name: 'latest', value: 'latest' }, { name: 'default_tag', value: 'c-4f1e2d3c' }]);
    for (const flavour of ['blue', 'green']) {
      for (const repo of ['one', 'two']) {
        for (const tag of [`latest-${flavour}`, `c-4f1e2d3c-${flavour}`]) {
          const manifest = await getManifest(registry, `${repo}/team/app`, tag);
          expect(r.stderr).toContain(`pushed ${registry.host}/${repo}/team/app:${tag} ${manifest.digest}`);
          const image = await getImageConfig(registry, `${repo}/team/app`, tag);
          expect(image.config?.Labels).toMatchObject({ flavour, revision: SHA });
        }
      }
      expect(readFileSync(join(dir, 'logs', `build_${flavour}.log`), 'utf8')).toMatch(/COPY hello.txt/);
    }
    const out = readFileSync(outputs, 'utf8');
    expect(out).toMatch(/^images<<ghadelimiter_/m);
    const images = JSON.parse(out.split('\n')[1] ?? '[]');
    expect(images).toHaveLength(8);
    expect(readFileSync(summary, 'utf8')).toContain(`${registry.host}/one/team/app:latest-blue`);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ status: 'succeeded', pushed: true, signed: false, image_name: 'team/app', images_list: images });
    expect(report.tags).toEqual(['latest-blue', 'c-4f1e2d3c-blue', 'latest-green', 'c-4f1e2d3c-green']);
    expect(out).toContain(`build-report<<`);
  });

  it('fails with exit 1 on a broken Dockerfile, with the builder error in the log file, pushing nothing', async () => {
    const dir = project('FROM scratch\nCOPY does-not-exist.txt /x\n');
    const config = writeConfig(`registry: ${registry.host}/broken\n`);
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=buildah', '--silent', `--log-dir=${join(dir, 'logs')}`], { env: env(), timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 1 build failed/);
    expect(r.stderr).not.toMatch(/does-not-exist/);
    expect(readFileSync(join(dir, 'logs/build_build.log'), 'utf8')).toMatch(/does-not-exist/);
    const res = await fetch(`${registry.url}/v2/broken/app/tags/list`);
    expect(res.status).toBe(404);
  });
});

describe('build mode with stand-in builders', () => {
  it('stops the builder on SIGTERM and exits non-zero, leaving no process behind', async () => {
    const fake = installFakeBuilder();
    const dir = project(DOCKERFILE);
    const config = writeConfig('registry: 127.0.0.1:5999/x\n');
    const child = spawn(BIN, ['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=kaniko', `--log-dir=${join(dir, 'logs')}`], {
      env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '60000', FAKE_BUILDER_HELPER: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    for (let i = 0; i < 100 && fake.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const [call] = fake.calls();
    expect(call).toBeDefined();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stderr).toMatch(/SIGTERM/);
    expect(isRunning(call!.pid)).toBe(false);
    if (call!.helperPid) expect(isRunning(call!.helperPid)).toBe(false);
  });

  it('runs four variants concurrently and reports each failed one', async () => {
    const fake = installFakeBuilder();
    const dir = project(DOCKERFILE, 'a: {V: a}\nb: {V: b}\nc: {V: c}\nd: {V: d}\n');
    const config = writeConfig('registry: 127.0.0.1:5999/x\n');
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--dockerfile=app/Dockerfile', '--backend=kaniko', '--silent', `--log-dir=${join(dir, 'logs')}`], {
      env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, FAKE_BUILDER_SLEEP_MS: '500', FAKE_BUILDER_FAIL_ON: 'V=c' }),
    });
    expect(r.code).toBe(1);
    expect(fake.calls()).toHaveLength(4);
    expect(r.stderr).toMatch(/1 of 4 builds failed/);
    expect(r.stderr).toMatch(/variant c failed/);
    expect(r.stderr).toContain('pushed 127.0.0.1:5999/x/app:');
    for (const v of ['a', 'b', 'c', 'd']) expect(readFileSync(join(dir, 'logs', `build_${v}.log`), 'utf8')).toMatch(/fake-builder: started/);
  });
});
