import { backendPlanProblems } from '../../src/backends/index.js';
import { buildkitBackend } from '../../src/backends/buildkit.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan-types.js';
import { makePlan } from '../support/plan-factory.js';
import { captureIO, installFakeBuilder, removeTempDirs, tempDir } from '../support/tools.js';

const buildkit = buildkitBackend;
const TRICKY_ARGS = { SPACES: 'hello big world', QUOTES: `it's "quoted"`, SUBST: '$(touch /tmp/pwned) `id` ${HOME}', EQUALS: 'a=b=c', EMPTY: '' };
const COMMIT = 'build-arg:COMMIT_SHA=0123456789abcdef0123456789abcdef01234567';
const DEST = 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567';
const START = ['build', '--frontend=dockerfile.v0', '--local', 'context=/src/app'];
/** buildctl up to the build args of a plain build. */
const PLAIN = ['buildctl-daemonless.sh', ...START, '--local', 'dockerfile=/src/app', '--opt', 'filename=Dockerfile', '--opt', COMMIT];

const cases: { name: string; plan: Plan; env?: Record<string, string>; argv: string[] }[] = [
  {
    name: 'plain build',
    plan: makePlan(),
    argv: [
      'buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app',
      '--opt',
      'filename=Dockerfile',
      '--opt',
      COMMIT,
      '--output',
      `type=image,"name=${DEST}",push=true`,
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'labels (reuse: the inputs digest), after the build args',
    plan: makePlan({}, { labels: { 'io.image-builder.inputs': `sha256:${'c'.repeat(64)}`, 'org.example/x': 'a b' } }),
    argv: [
      ...PLAIN,
      '--opt',
      `label:io.image-builder.inputs=sha256:${'c'.repeat(64)}`,
      '--opt',
      'label:org.example/x=a b',
      '--output',
      `type=image,"name=${DEST}",push=true`,
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'BUILDCTL, nested Dockerfile, platforms, target, registry cache',
    plan: makePlan({
      dockerfile: 'build/Dockerfile.prod',
      platforms: ['linux/amd64', 'linux/arm64'],
      target: 'runtime',
      cache: { enabled: true, cacheRepo: 'reg.example/cache/app', cacheRunLayers: true, cacheCopyLayers: true },
    }),
    env: { BUILDCTL: '/usr/local/bin/buildctl-daemonless.sh' },
    argv: [
      '/usr/local/bin/buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app/build',
      '--opt',
      'filename=Dockerfile.prod',
      '--opt',
      COMMIT,
      '--opt',
      'platform=linux/amd64,linux/arm64',
      '--opt',
      'target=runtime',
      '--output',
      `type=image,"name=${DEST}",push=true`,
      '--export-cache',
      'type=registry,ref=reg.example/cache/app,mode=max',
      '--import-cache',
      'type=registry,ref=reg.example/cache/app',
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'two tags × two repositories in one output, a variant, build args verbatim in plan order',
    plan: makePlan(
      { tags: [{ name: 'default_tag', value: 'v1' }, { name: 'latest', value: 'latest' }], repositories: ['reg.example/a', 'reg.example/b'] },
      { variant: 'arm', buildArgs: TRICKY_ARGS },
    ),
    argv: [
      'buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app',
      '--opt',
      'filename=Dockerfile',
      '--opt',
      COMMIT,
      '--opt',
      'build-arg:SPACES=hello big world',
      '--opt',
      `build-arg:QUOTES=it's "quoted"`,
      '--opt',
      'build-arg:SUBST=$(touch /tmp/pwned) `id` ${HOME}',
      '--opt',
      'build-arg:EQUALS=a=b=c',
      '--opt',
      'build-arg:EMPTY=',
      '--output',
      'type=image,"name=reg.example/a/test-infra/app:v1-arm,reg.example/b/test-infra/app:v1-arm,reg.example/a/test-infra/app:latest-arm,reg.example/b/test-infra/app:latest-arm",push=true',
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'loopback registries only: plain HTTP for the image and the cache',
    plan: makePlan({
      repositories: ['localhost:5000/dev'],
      tags: [{ name: 't', value: '1' }],
      cache: { enabled: true, cacheRepo: '127.0.0.1:5000/cache', cacheRunLayers: false, cacheCopyLayers: false },
    }),
    argv: [
      'buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app',
      '--opt',
      'filename=Dockerfile',
      '--opt',
      COMMIT,
      '--output',
      'type=image,"name=localhost:5000/dev/test-infra/app:1",push=true,registry.insecure=true',
      '--export-cache',
      'type=registry,ref=127.0.0.1:5000/cache,mode=max,registry.insecure=true',
      '--import-cache',
      'type=registry,ref=127.0.0.1:5000/cache,registry.insecure=true',
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'labels as frontend options; annotations as image exporter attributes, CSV-quoted where a value needs it',
    plan: makePlan({}, { labels: { 'org.opencontainers.image.revision': 'abc', note: 'a=b' }, annotations: { 'org.opencontainers.image.version': 'v1', note: 'x,"y"' } }),
    argv: [
      'buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app',
      '--opt',
      'filename=Dockerfile',
      '--opt',
      COMMIT,
      '--opt',
      'label:org.opencontainers.image.revision=abc',
      '--opt',
      'label:note=a=b',
      '--output',
      `type=image,"name=${DEST}",push=true,annotation.org.opencontainers.image.version=v1,"annotation.note=x,""y"""`,
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'several platforms: annotations on each manifest and on the index',
    plan: makePlan({ platforms: ['linux/amd64', 'linux/arm64'] }, { labels: { a: '1' }, annotations: { b: '2' } }),
    argv: [
      'buildctl-daemonless.sh',
      ...START,
      '--local',
      'dockerfile=/src/app',
      '--opt',
      'filename=Dockerfile',
      '--opt',
      COMMIT,
      '--opt',
      'label:a=1',
      '--opt',
      'platform=linux/amd64,linux/arm64',
      '--output',
      `type=image,"name=${DEST}",push=true,annotation.b=2,annotation-index.b=2`,
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
  {
    name: 'build secrets: a file secret from its file, an environment secret from a private file, CSV-quoted where needed',
    plan: makePlan({ secrets: [{ id: 'npm', src: '/run/secrets/npm' }, { id: 'gh', env: 'GH_TOKEN' }, { id: 'a,b', src: '/s/x,"y"' }] }),
    argv: [
      ...PLAIN,
      '--secret',
      'id=npm,src=/run/secrets/npm',
      '--secret',
      'id=gh,src=<private temp dir>/secret-2',
      '--secret',
      '"id=a,b","src=/s/x,""y"""',
      '--output',
      `type=image,"name=${DEST}",push=true`,
      '--metadata-file',
      '<private temp dir>/metadata.json',
    ],
  },
];

describe('buildkit commands', () => {
  it.each(cases)('$name', ({ plan, env, argv }) => {
    expect(backendPlanProblems(buildkit, plan)).toEqual([]);
    expect(buildkit.commands(plan, plan.builds[0]!, { BUILDCTL: undefined, ...env })).toEqual([argv]);
  });

  it.each([
    { name: 'cache without a repository', plan: makePlan({ cache: { enabled: true, cacheRunLayers: false, cacheCopyLayers: false } }), error: /cache\.cache-repo is empty/ },
    { name: 'an oci-archive: destination', plan: makePlan({}, { destinations: ['oci-archive:/out/app.tar:v1'] }), error: /buildkit cannot write to oci-archive:\/out\/app.tar:v1.*buildah/ },
    {
      name: 'loopback and remote registries in one build',
      plan: makePlan({ repositories: ['localhost:5000/dev', 'reg.example/prod'] }),
      error: /buildkit cannot push to a loopback registry \(plain HTTP\) and a remote one/,
    },
  ])('rejects $name', ({ plan, error }) => {
    expect(backendPlanProblems(buildkit, plan).join('\n')).toMatch(error);
  });
});

describe('buildkit build (stand-in buildctl)', () => {
  afterAll(removeTempDirs);

  function setup(extra: Record<string, string> = {}) {
    const fake = installFakeBuilder();
    const plan = makePlan({ logDir: path.join(tempDir('buildkit-logs'), 'nested'), repositories: ['reg.example/a', 'reg.example/b'], silent: false }, { buildArgs: TRICKY_ARGS });
    const captured = captureIO({ BUILDCTL: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, ...extra });
    return { fake, plan, unit: plan.builds[0]!, captured };
  }

  it('runs exactly the argv of commands(), logs its output, reads the digest from the metadata file', async () => {
    const { fake, plan, unit, captured } = setup();
    const result = await buildkit.build(plan, unit, captured.io);
    const [argv] = buildkit.commands(plan, unit, captured.io.env);
    const [call] = fake.calls();
    const metadata = call!.argv[call!.argv.indexOf('--metadata-file') + 1]!;
    expect(fake.calls().map((c) => c.argv.map((arg) => arg.replace(path.dirname(metadata), '<private temp dir>')))).toEqual([argv!.slice(1)]);
    expect(path.dirname(metadata)).toMatch(/\/image-builder-\w{6}$/);
    const log = await readFile(unit.logFile, 'utf8');
    expect(log).toContain('fake-builder: a line on stderr');
    // No variant: lines reach stderr unprefixed.
    expect(captured.stderr()).toContain('\nfake-builder: a line on stderr\n');
    const digest = /pushed (sha256:[0-9a-f]{64})/.exec(log)?.[1];
    expect(digest).toBeDefined();
    expect(result).toEqual({ ok: true, logFile: unit.logFile, pushed: unit.destinations.map(({ reference }) => ({ reference, digest })) });
  });

  it('fails when buildctl exits non-zero', async () => {
    const { plan, unit, captured } = setup({ FAKE_BUILDER_EXIT: '1' });
    const result = await buildkit.build(plan, unit, captured.io);
    expect(result).toMatchObject({ ok: false, pushed: [], error: 'fake-builder exited with code 1' });
    expect(await readFile(unit.logFile, 'utf8')).toContain('image-builder: fake-builder exited with code 1');
  });
});

describe('buildkit build secrets (stand-in buildctl)', () => {
  afterAll(removeTempDirs);

  /** A buildctl that notes, for each --secret, its file, that file's mode and content while it runs, then is the fake builder. */
  function recordingBuildctl(): { path: string; record: string; fake: ReturnType<typeof installFakeBuilder> } {
    const fake = installFakeBuilder();
    const dir = tempDir('buildkit-secrets');
    const record = path.join(dir, 'record');
    const script = path.join(dir, 'buildctl');
    writeFileSync(
      script,
      ['#!/bin/sh', 'prev=', 'for a in "$@"; do', `  if [ "$prev" = --secret ]; then f=\${a#*src=}; echo "$f $(stat -c %a "$f") $(cat "$f")" >> '${record}'; fi`, '  prev=$a', 'done', `exec '${fake.path}' "$@"`, ''].join('\n'),
      { mode: 0o755 },
    );
    return { path: script, record, fake };
  }

  it('an environment secret reaches buildctl in a 0600 file of the private folder, removed when it is done; a file secret as it is', async () => {
    const buildctl = recordingBuildctl();
    const npmrc = path.join(tempDir('buildkit-npmrc'), '.npmrc');
    writeFileSync(npmrc, 'npm-file-value', { mode: 0o640 });
    const plan = makePlan({ logDir: tempDir('buildkit-logs'), secrets: [{ id: 'npm', src: npmrc }, { id: 'gh', env: 'GH_TOKEN' }] });
    const captured = captureIO({ BUILDCTL: buildctl.path, FAKE_BUILDER_RECORD_DIR: buildctl.fake.recordDir, GH_TOKEN: 'ghp_from_the_environment' });
    const result = await buildkit.build(plan, plan.builds[0]!, captured.io);
    expect(result.ok).toBe(true);
    const [npm, gh] = readFileSync(buildctl.record, 'utf8').trim().split('\n');
    expect(npm).toBe(`${npmrc} 640 npm-file-value`);
    const [ghFile, mode, value] = gh!.split(' ');
    expect(ghFile).toMatch(/\/image-builder-\w{6}\/secret-2$/);
    expect([mode, value]).toEqual(['600', 'ghp_from_the_environment']);
    expect(existsSync(ghFile!)).toBe(false);
    const [call] = buildctl.fake.calls();
    expect(call!.argv).toEqual(expect.arrayContaining(['--secret', `id=npm,src=${npmrc}`, `id=gh,src=${ghFile}`]));
    expect(call!.argv.join(' ')).not.toContain('ghp_from_the_environment');
  });

  it('without a private folder an environment secret fails the build before buildctl starts', async () => {
    const buildctl = recordingBuildctl();
    const plan = makePlan({ logDir: tempDir('buildkit-logs'), secrets: [{ id: 'gh', env: 'GH_TOKEN' }] });
    const captured = captureIO({ BUILDCTL: buildctl.path, FAKE_BUILDER_RECORD_DIR: buildctl.fake.recordDir, GH_TOKEN: 'ghp_x', TMPDIR: '/nonexistent/tmp' });
    const result = await buildkit.build(plan, plan.builds[0]!, captured.io);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^the build secret gh \(from GH_TOKEN\) could not be written for the builder: cannot use a private folder in \/nonexistent\/tmp/) });
    expect(buildctl.fake.calls()).toEqual([]);
    expect(await readFile(plan.builds[0]!.logFile, 'utf8')).toContain('image-builder: the build secret gh (from GH_TOKEN) could not be written');
  });
});
