import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';

afterAll(removeTempDirs);

const SHA = 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f';
const HEAD = 'aaaabbbbccccddddeeeeffff0000111122223333';

const CONFIG = writeConfig(`
registry: [europe-docker.pkg.dev/kyma-project/prod, 127.0.0.1:5999/mirror]
dev-registry: europe-docker.pkg.dev/kyma-project/dev
cache: {enabled: true, cache-repo: europe-docker.pkg.dev/kyma-project/cache/cache, cache-run-layers: true}
reproducible: true
log-format: json
sign-config:
  enabled-signers:
    "*": [signify-prod]
    kyma-project/test-infra: [repo-notary]
  signers:
    - name: signify-prod
      type: notary
      job-type: [postsubmit]
      config: {endpoint: "https://signing.example/sign", secret: {path: /secret/signify.yaml, type: signify}}
    - name: repo-notary
      type: notary
      config: {endpoint: "https://repo-notary.example/sign", secret: {path: /secret/token, type: token}}
`);

/** A context with a Dockerfile, variants.yaml and an env file. */
function context(withVariants: boolean): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'images/app'), { recursive: true });
  writeFileSync(join(dir, 'images/app/Dockerfile'), 'FROM scratch\nARG KUBECTL_VERSION\n');
  writeFileSync(join(dir, 'images/app/envs'), '# comment\n\nFROM_ENV_FILE=1\nKUBECTL_VERSION=overridden-by-variant\n');
  if (withVariants) writeFileSync(join(dir, 'images/app/variants.yaml'), "main:\n  KUBECTL_VERSION: '1.31.2'\n'1.30':\n  KUBECTL_VERSION: '1.30.6'\n");
  return dir;
}

const prowPR = baseEnv({ CI: 'true', PROW_JOB_ID: 'p', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'presubmit', PULL_NUMBER: '42', PULL_BASE_SHA: SHA, PULL_PULL_SHA: HEAD });
const prowPush = baseEnv({ CI: 'true', PROW_JOB_ID: 'p', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: SHA });

async function dryRun(args: string[], env: Record<string, string>) {
  const r = await runCli(['--dry-run', `--config=${CONFIG}`, ...args], { env });
  return { ...r, plan: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

describe('--dry-run through the real CLI', () => {
  it('plans a pull request build: dev registry, PR tags, PR head as COMMIT_SHA, buildah argv, no signer for presubmit', async () => {
    const dir = context(false);
    const r = await dryRun(['--name=test-infra/app', `--context=${dir}`, '--dockerfile=images/app/Dockerfile', '--backend=buildah', '--build-arg', 'GREETING=hello world $(id) `x`', `--log-dir=${join(dir, 'logs')}`], { ...prowPR, BUILDAH: '/nonexistent/buildah' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { plan } = r;
    expect(plan.mode).toBe('build');
    expect(plan.backend).toBe('buildah');
    expect(plan.tags).toEqual([{ name: 'default_tag', value: 'PR-42', origin: 'default' }]);
    expect(plan.repositories).toEqual(['europe-docker.pkg.dev/kyma-project/dev']);
    expect(plan.builds).toHaveLength(1);
    const [build] = plan.builds;
    expect(build.destinations).toEqual(['europe-docker.pkg.dev/kyma-project/dev/test-infra/app:PR-42']);
    expect(build.buildArgs).toEqual({ COMMIT_SHA: HEAD, GREETING: 'hello world $(id) `x`' });
    expect(build.logFile).toBe(join(dir, 'logs', 'build_build.log'));
    const argv = build.commands.flat();
    expect(argv[0]).toBe('/nonexistent/buildah');
    expect(argv).toContain('GREETING=hello world $(id) `x`');
    expect(argv).toContain('docker://europe-docker.pkg.dev/kyma-project/dev/test-infra/app:PR-42');
    expect(plan.signers.map((s: { name: string }) => s.name)).toEqual(['repo-notary']);
  });

  it('plans every variant of a postsubmit with kaniko: suffixed tags, exported tags, env file, both registries, cache flags', async () => {
    const dir = context(true);
    const r = await dryRun(['-name=app', `-context=${dir}`, '-dockerfile', 'images/app/Dockerfile', '-tag', 'latest', '--export-tags', '--env-file=envs', '--build-arg', 'NPM_TOKEN=npm_supersecret1'], prowPush);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--env-file is deprecated/);
    const { plan } = r;
    expect(plan.backend).toBe('kaniko');
    expect(plan.signers.map((s: { name: string }) => s.name)).toEqual(['signify-prod', 'repo-notary']);
    expect(plan.builds.map((b: { variant: string }) => b.variant)).toEqual(['main', '1.30']);
    const main = plan.builds[0];
    const date = plan.tags[1].value.slice(1, 9);
    expect(main.tags).toEqual([{ name: 'latest', value: 'latest-main', origin: 'user' }, { name: 'default_tag', value: `v${date}-d9e0b24a-main`, origin: 'default' }]);
    expect(main.destinations).toEqual([
      'europe-docker.pkg.dev/kyma-project/prod/app:latest-main',
      '127.0.0.1:5999/mirror/app:latest-main',
      `europe-docker.pkg.dev/kyma-project/prod/app:v${date}-d9e0b24a-main`,
      `127.0.0.1:5999/mirror/app:v${date}-d9e0b24a-main`,
    ]);
    expect(main.buildArgs).toEqual({
      FROM_ENV_FILE: '1',
      KUBECTL_VERSION: '1.31.2',
      TAG_latest: 'latest-main',
      TAG_default_tag: `v${date}-d9e0b24a-main`,
      COMMIT_SHA: SHA,
      NPM_TOKEN: '***',
    });
    const argv: string[] = main.commands[0];
    expect(argv[0]).toBe('/kaniko/executor');
    expect(argv).toEqual(expect.arrayContaining(['--cache=true', '--reproducible', '--log-format=json', '--build-arg=NPM_TOKEN=***']));
    expect(r.stdout + r.stderr).not.toMatch(/npm_supersecret1/);
  });

  it.each([
    { env: { USE_BUILDKIT: 'true' }, args: [], backend: 'buildkit', executable: 'buildctl-daemonless.sh' },
    { env: { USE_BUILDKIT: 'true', BUILDCTL: '/opt/buildctl' }, args: [], backend: 'buildkit', executable: '/opt/buildctl' },
    { env: { KANIKO_EXECUTOR: '/opt/kaniko' }, args: [], backend: 'kaniko', executable: '/opt/kaniko' },
    { env: {}, args: ['--build-in-ado=true'], backend: 'ado', executable: undefined },
  ] as Array<{ env: Record<string, string>; args: string[]; backend: string; executable?: string }>)('chooses the $backend backend', async ({ env, args, backend, executable }) => {
    const dir = context(false);
    const config = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\nado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n');
    const r = await dryRun(['--name=app', `--context=${dir}`, '--dockerfile=images/app/Dockerfile', `--config=${config}`, ...args], { ...prowPush, ...env });
    expect(r.code).toBe(0);
    expect(r.plan.backend).toBe(backend);
    expect(r.plan.builds[0].commands?.[0]?.[0]).toBe(executable);
  });

  it('plans sign-only with the signers of a GitHub push, and never prints tokens', async () => {
    const env = baseEnv({ CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(FIXTURES, 'github/push.json'), GITHUB_REF: 'refs/heads/main', ADO_PAT: 'pat-supersecret-value' });
    const r = await dryRun(['--sign-only', '--images-to-sign=europe-docker.pkg.dev/kyma-project/prod/a:v1,europe-docker.pkg.dev/kyma-project/prod/b:v2', '--oidc-token', 'oidc-supersecret-value', '--debug'], env);
    expect(r.code).toBe(0);
    expect(r.plan.mode).toBe('sign-only');
    expect(r.plan.imagesToSign).toEqual(['europe-docker.pkg.dev/kyma-project/prod/a:v1', 'europe-docker.pkg.dev/kyma-project/prod/b:v2']);
    expect(r.plan.signers).toEqual([
      { name: 'signify-prod', type: 'notary', endpoint: 'https://signing.example/sign', secretType: 'signify' },
      { name: 'repo-notary', type: 'notary', endpoint: 'https://repo-notary.example/sign', secretType: 'token' },
    ]);
    expect(r.plan.builds).toEqual([]);
    expect(r.stdout + r.stderr).not.toMatch(/supersecret/);
  });

  it('a keyless cosign signer: where it would sign, and no identity token needed (nothing is signed)', async () => {
    const config = writeConfig(
      'registry: 127.0.0.1:5999/prod\nsign-config:\n  enabled-signers: {"*": [keyless]}\n  signers:\n' +
        '    - {name: keyless, type: cosign, config: {keyless: true, recursive: true, rekor-url: "https://rekor.internal.example"}}\n',
    );
    const r = await runCli(['--dry-run', `--config=${config}`, '--sign-only', '--images-to-sign=127.0.0.1:5999/prod/a:v1', '--repo=org/repo'], { env: baseEnv() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).signers).toEqual([
      { name: 'keyless', type: 'cosign', keyless: true, fulcioUrl: 'https://fulcio.sigstore.dev', rekorUrl: 'https://rekor.internal.example', recursive: true },
    ]);
  });

  it.each([
    { what: 'kaniko with --platform', args: ['--platform=linux/arm64'], env: {}, message: /kaniko/ },
    { what: 'an unknown variant', args: ['--variant=nope'], env: {}, message: /--variant "nope"/ },
    { what: 'an uppercase image name (the last --name wins, as with Go flags)', args: ['--name=App'], env: {}, message: /--name "App"/ },
    { what: '--variant with the ADO backend', args: ['--variant=main', '--build-in-ado'], env: {}, message: /--variant is not supported with the ado backend/ },
    { what: 'the ADO backend without ado-config', args: ['--build-in-ado'], env: {}, message: /ado-config is not set/ },
    { what: 'preview without its YAML path', args: ['--ado-preview-run', '--build-in-ado'], env: {}, message: /--ado-preview-run-yaml-path/ },
    { what: 'sign-only without images', args: ['--sign-only'], env: {}, message: /--images-to-sign/ },
  ])('exits 2 on $what, naming the problem', async ({ args, env, message }) => {
    const dir = context(true);
    const r = await runCli(['--dry-run', `--config=${CONFIG}`, '--name=app', `--context=${dir}`, '--dockerfile=images/app/Dockerfile', ...args], { env: { ...prowPush, ...env } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('checks before anything starts, in one round: context, Dockerfile, log dir, report and tags paths, platforms, the builder\'s refusals', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli([
      '--dry-run', `--config=${CONFIG}`, '--name=app', `--context=${join(dir, 'missing')}`, `--log-dir=${file}/logs`,
      `--build-report-path=${dir}`, `--tags-output-file=${file}/tags.json`, '--platform=../../x', '--platform=linux/arm64', '--tgs=x',
    ], { env: prowPush });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      'error: unknown flag --tgs; did you mean --tag? (run with --help to list the flags)',
      'error: --platform "../../x" is not a platform; write os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7',
      `error: --context ${join(dir, 'missing')}: ${join(dir, 'missing')} is not a folder; give the build context directory`,
      `error: --log-dir ${file}/logs: ${file} is not a folder`,
      `error: --build-report-path ${dir}: is a folder; give a file path`,
      `error: --tags-output-file ${file}/tags.json: ${file} is not a folder`,
      'error: kaniko cannot build for other platforms (--platform ../../x,linux/arm64): use --backend buildah (or --backend buildkit) to build for several platforms',
    ]);
  });

  it('a Dockerfile given relative to the working directory is found, as kaniko finds it (2024 job files)', async () => {
    const dir = context(false);
    const r = await runCli(['--dry-run', `--config=${CONFIG}`, '--name=app', '--context=images/app', '--dockerfile=images/app/Dockerfile'], { env: prowPush, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).dockerfile).toBe(join(dir, 'images/app/Dockerfile'));
  });

  it('reports every flag problem at once', async () => {
    const r = await runCli(['--context=', '--dockerfile=', '--sign-only', '--ado-preview-run'], { env: prowPush });
    expect(r.code).toBe(2);
    expect(r.stderr.match(/^error:/gm)?.length).toBeGreaterThanOrEqual(4);
    expect(r.stderr).toMatch(/--context is empty/);
    expect(r.stderr).toMatch(/--dockerfile is empty/);
    expect(r.stderr).toMatch(/--images-to-sign/);
    expect(r.stderr).toMatch(/--ado-preview-run needs the ADO backend/);
  });
});

describe('--help and --version', () => {
  it('lists every flag with its default', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--name', '--tag-base64', '--build-in-ado', '--ado-preview-run-yaml-path', '--images-to-sign', '--commit-sha', '--dry-run']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('/config/image-builder-config.yaml');
    expect(r.stdout).toContain('/logs/artifacts');
  });

  it('prints the version', async () => {
    const r = await runCli(['-version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
