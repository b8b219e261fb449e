import { backendPlanProblems } from '../../src/backends/index.js';
import { kanikoBackend } from '../../src/backends/kaniko.js';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan-types.js';
import { makePlan } from '../support/plan-factory.js';
import { captureIO, installFakeBuilder, removeTempDirs, tempDir } from '../support/tools.js';

const kaniko = kanikoBackend;
const env = { KANIKO_EXECUTOR: undefined };
const TRICKY_ARGS = { SPACES: 'hello big world', QUOTES: `it's "quoted"`, SUBST: '$(touch /tmp/pwned) `id` ${HOME}', EQUALS: 'a=b=c', EMPTY: '' };
const COMMIT = '--build-arg=COMMIT_SHA=0123456789abcdef0123456789abcdef01234567';
const DEST = 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567';

const cases: { name: string; plan: Plan; env?: Record<string, string>; argv: string[] }[] = [
  {
    name: 'plain build',
    plan: makePlan(),
    argv: ['/kaniko/executor', '--context=/src/app', '--dockerfile=/src/app/Dockerfile', `--destination=${DEST}`, COMMIT, '--digest-file=<private temp dir>/digest'],
  },
  {
    name: 'KANIKO_EXECUTOR, nested Dockerfile, target, cache, reproducible, log format',
    plan: makePlan({
      dockerfile: 'build/Dockerfile.prod',
      target: 'runtime',
      cache: { enabled: true, cacheRepo: 'europe-docker.pkg.dev/kyma-project/cache/cache', cacheRunLayers: true, cacheCopyLayers: false },
      reproducible: true,
      logFormat: 'json',
    }),
    env: { KANIKO_EXECUTOR: '/opt/kaniko/executor' },
    argv: [
      '/opt/kaniko/executor',
      '--context=/src/app',
      '--dockerfile=/src/app/build/Dockerfile.prod',
      `--destination=${DEST}`,
      COMMIT,
      '--target=runtime',
      '--cache=true',
      '--cache-repo=europe-docker.pkg.dev/kyma-project/cache/cache',
      '--cache-run-layers=true',
      '--cache-copy-layers=false',
      '--reproducible',
      '--log-format=json',
      '--digest-file=<private temp dir>/digest',
    ],
  },
  {
    name: 'labels (reuse: the inputs digest), after the build args',
    plan: makePlan({}, { labels: { 'io.image-builder.inputs': `sha256:${'c'.repeat(64)}`, 'org.example/x': 'a b' } }),
    argv: ['/kaniko/executor', '--context=/src/app', '--dockerfile=/src/app/Dockerfile', `--destination=${DEST}`, COMMIT, `--label=io.image-builder.inputs=sha256:${'c'.repeat(64)}`, '--label=org.example/x=a b', '--digest-file=<private temp dir>/digest'],
  },
  {
    name: 'cache without a repo lets kaniko derive it',
    plan: makePlan({ cache: { enabled: true, cacheRunLayers: false, cacheCopyLayers: true } }),
    argv: ['/kaniko/executor', '--context=/src/app', '--dockerfile=/src/app/Dockerfile', `--destination=${DEST}`, COMMIT, '--cache=true', '--cache-run-layers=false', '--cache-copy-layers=true', '--digest-file=<private temp dir>/digest'],
  },
  {
    name: 'two tags × two repositories, a variant, build args verbatim in plan order',
    plan: makePlan(
      { tags: [{ name: 'default_tag', value: 'v1' }, { name: 'latest', value: 'latest' }], repositories: ['reg.example/a', 'reg.example/b'] },
      { variant: 'arm', buildArgs: TRICKY_ARGS },
    ),
    argv: [
      '/kaniko/executor',
      '--context=/src/app',
      '--dockerfile=/src/app/Dockerfile',
      '--destination=reg.example/a/test-infra/app:v1-arm',
      '--destination=reg.example/b/test-infra/app:v1-arm',
      '--destination=reg.example/a/test-infra/app:latest-arm',
      '--destination=reg.example/b/test-infra/app:latest-arm',
      COMMIT,
      '--build-arg=SPACES=hello big world',
      `--build-arg=QUOTES=it's "quoted"`,
      '--build-arg=SUBST=$(touch /tmp/pwned) `id` ${HOME}',
      '--build-arg=EQUALS=a=b=c',
      '--build-arg=EMPTY=',
      '--digest-file=<private temp dir>/digest',
    ],
  },
  {
    name: 'loopback registries are named insecure (plain HTTP), remote ones are not',
    plan: makePlan({ repositories: ['localhost:5000/dev', 'reg.example/prod', '127.0.0.1:5001/x'], tags: [{ name: 't', value: '1' }] }),
    argv: [
      '/kaniko/executor',
      '--context=/src/app',
      '--dockerfile=/src/app/Dockerfile',
      '--destination=localhost:5000/dev/test-infra/app:1',
      '--destination=reg.example/prod/test-infra/app:1',
      '--destination=127.0.0.1:5001/x/test-infra/app:1',
      COMMIT,
      '--insecure-registry=localhost:5000',
      '--insecure-registry=127.0.0.1:5001',
      '--digest-file=<private temp dir>/digest',
    ],
  },
  {
    name: 'labels, each as --label=KEY=VALUE verbatim; annotations have no kaniko flag and are not passed',
    plan: makePlan({}, { labels: { 'org.opencontainers.image.source': 'https://github.com/o/r', note: `a=b, "c" $(id)`, empty: '' }, annotations: { 'org.opencontainers.image.version': 'v1' } }),
    argv: [
      '/kaniko/executor',
      '--context=/src/app',
      '--dockerfile=/src/app/Dockerfile',
      `--destination=${DEST}`,
      COMMIT,
      '--label=org.opencontainers.image.source=https://github.com/o/r',
      `--label=note=a=b, "c" $(id)`,
      '--label=empty=',
      '--digest-file=<private temp dir>/digest',
    ],
  },
];

describe('kaniko commands', () => {
  it.each(cases)('$name', ({ plan, env: extra, argv }) => {
    expect(backendPlanProblems(kaniko, plan)).toEqual([]);
    expect(kaniko.commands(plan, plan.builds[0]!, { ...env, ...extra })).toEqual([argv]);
  });

  it('rejects --platform, pointing at buildah and buildkit', () => {
    const problems = backendPlanProblems(kaniko, makePlan({ platforms: ['linux/arm64'] }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/kaniko cannot build for other platforms.*--backend buildah.*buildkit/);
  });

  it('rejects oci: and oci-archive: destinations', () => {
    const plan = makePlan({}, { destinations: ['oci:/out/layout:v1', 'oci-archive:/out/app.tar:v1'] });
    expect(backendPlanProblems(kaniko, plan).join('\n')).toMatch(/kaniko cannot write to oci:\/out\/layout:v1[^]*oci-archive:\/out\/app.tar:v1/);
  });
});

describe('kaniko build (stand-in executor)', () => {
  afterAll(removeTempDirs);

  function setup(extra: Record<string, string> = {}, silent = false) {
    const fake = installFakeBuilder();
    const logDir = tempDir('kaniko-logs');
    const plan = makePlan({ logDir: path.join(logDir, 'nested'), silent }, { variant: 'arm', buildArgs: TRICKY_ARGS });
    const captured = captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, ...extra });
    return { fake, plan, unit: plan.builds[0]!, captured };
  }

  it('runs exactly the argv of commands(), streams and logs its output, reads the digest', async () => {
    const { fake, plan, unit, captured } = setup();
    const result = await kaniko.build(plan, unit, captured.io);
    const [argv] = kaniko.commands(plan, unit, captured.io.env);
    const calls = fake.calls();
    expect(calls).toHaveLength(1);
    // The digest file lives in a private folder of its own, removed afterwards; nothing is written beside the log.
    const digestFile = calls[0]!.argv.find((arg) => arg.startsWith('--digest-file='))!.slice('--digest-file='.length);
    expect(calls[0]!.argv.map((arg) => arg.replace(path.dirname(digestFile), '<private temp dir>'))).toEqual(argv!.slice(1));
    expect(path.basename(path.dirname(digestFile))).toMatch(/^image-builder-\w{6}$/);
    expect(existsSync(path.dirname(digestFile))).toBe(false);
    expect(readdirSync(path.dirname(unit.logFile))).toEqual([path.basename(unit.logFile)]);
    const log = await readFile(unit.logFile, 'utf8');
    expect(log).toContain('fake-builder: started with');
    expect(log).toContain('fake-builder: a line on stderr');
    expect(captured.stderr()).toContain('[arm] fake-builder: a line on stderr\n');
    const digest = /pushed (sha256:[0-9a-f]{64})/.exec(log)?.[1];
    expect(result).toEqual({ variant: 'arm', ok: true, logFile: unit.logFile, pushed: [{ reference: unit.destinations[0]?.reference, digest }] });
  });

  it('fails when the executor exits non-zero, and keeps output off stderr when silent', async () => {
    const { plan, unit, captured } = setup({ FAKE_BUILDER_EXIT: '3' }, true);
    const result = await kaniko.build(plan, unit, captured.io);
    expect(result).toMatchObject({ ok: false, pushed: [], error: 'fake-builder exited with code 3' });
    expect(await readFile(unit.logFile, 'utf8')).toContain('fake-builder: failing with exit code 3');
    expect(captured.stderr()).toBe('');
  });

  it('names a missing executor and how to get it', async () => {
    const { plan, unit, captured } = setup({ KANIKO_EXECUTOR: '/nonexistent/kaniko/executor' });
    const result = await kaniko.build(plan, unit, captured.io);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^\/nonexistent\/kaniko\/executor: executable not found \(.*KANIKO_EXECUTOR/);
    expect(await readFile(unit.logFile, 'utf8')).toContain('executable not found');
  });
});
