import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, runCli, runCliCollecting, tempDir, writeConfig } from '../support/cli.js';
import { getBlob, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { installFakeBuilder, requireTool } from '../support/tools.js';

/** Build secrets (--secret) through the real CLI: they reach RUN --mount=type=secret, and nothing else. */

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry') && requireTool('busybox', 'apt-get install busybox-static');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Every file under dir, recursively (paths relative to it). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.skipIf(!haveTools)('build secrets with buildah and a real registry', () => {
  let registry: TestRegistry;
  let base: string;
  beforeAll(async () => {
    registry = await startRegistry();
    base = await pushShellImage(registry, 'fixtures/shell');
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('a file secret and an environment secret reach RUN --mount=type=secret; their values are in no blob, history, log, output, report or dry-run', async () => {
    const fileValue = `file-secret-${randomBytes(8).toString('hex')}`;
    const envValue = `env-secret-${randomBytes(8).toString('hex')}`;
    const dir = tempDir('secrets-project');
    const secretFile = join(tempDir('secrets-src'), 'token');
    writeFileSync(secretFile, fileValue, { mode: 0o600 });
    // The RUN succeeds only when both values arrived; it compares hashes (a build arg holding a value would be in the
    // history), then echoes both values, which the log must mask.
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        `FROM ${base}`,
        'ARG TOK_SHA256',
        'ARG ENVTOK_SHA256',
        'RUN --mount=type=secret,id=tok,required=true --mount=type=secret,id=envtok,required=true sh -c \'' +
          'test "$(busybox sha256sum < /run/secrets/tok)" = "$TOK_SHA256  -" && test "$(busybox sha256sum < /run/secrets/envtok)" = "$ENVTOK_SHA256  -" && ' +
          'echo ok > /marker && echo "builder says: $(cat /run/secrets/tok) and $(cat /run/secrets/envtok)"\'',
        '',
      ].join('\n'),
    );
    const out = tempDir('secrets-out');
    const tmp = tempDir('secrets-tmp');
    const config = writeConfig(`registry: ${registry.host}/secrets\n`);
    const args = [
      '--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--tag=v1',
      `--secret=id=tok,src=${secretFile}`, '--secret', 'id=envtok,env=ENV_TOK',
      `--build-arg=TOK_SHA256=${sha256(fileValue)}`, `--build-arg=ENVTOK_SHA256=${sha256(envValue)}`,
      `--log-dir=${join(out, 'logs')}`, `--build-report-path=${join(out, 'report.json')}`,
    ];
    const env = { PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: tempDir('secrets-cache'), ENV_TOK: envValue, TMPDIR: tmp };
    const outputs: string[] = [];
    const r = await runCliCollecting(outputs, args, env);
    expect(r.code, r.stderr).toBe(0);
    const log = readFileSync(join(out, 'logs/build_build.log'), 'utf8');
    // buildah echoed both values: masked.
    expect(log).toContain('builder says: *** and ***');

    const manifest = await getManifest(registry, 'secrets/app', 'v1');
    const config_ = await getBlob(registry, 'secrets/app', manifest.body.config!.digest);
    const layers = await Promise.all((manifest.body.layers ?? []).map((layer) => getBlob(registry, 'secrets/app', layer.digest).then(gunzipSync)));
    expect(layers.some((layer) => layer.includes('marker'))).toBe(true);
    const history = JSON.stringify((JSON.parse(config_.toString('utf8')) as { history?: unknown }).history);
    expect(history).toContain('--mount=type=secret,id=tok');

    const dry = await runCliCollecting(outputs, [...args, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { secrets: unknown; builds: { commands: string[][] }[] };
    expect(plan.secrets).toEqual([{ id: 'tok', src: secretFile }, { id: 'envtok', env: 'ENV_TOK' }]);
    expect(plan.builds[0]!.commands[0]).toEqual(expect.arrayContaining(['--secret', `type=file,id=tok,src=${secretFile}`, 'type=file,id=envtok,src=<private temp dir>/secret-2']));

    const places: [string, Buffer | string][] = [
      ['config and history', config_],
      ...layers.map((layer, i): [string, Buffer] => [`layer ${i + 1}`, layer]),
      ['build log', log],
      ['build report', readFileSync(join(out, 'report.json'), 'utf8')],
      ...outputs.map((text, i): [string, string] => [`${i % 2 === 0 ? 'stdout' : 'stderr'} of run ${Math.floor(i / 2) + 1}`, text]),
    ];
    for (const [where, content] of places) {
      for (const value of [fileValue, envValue]) expect(content.includes(value), `${value} in ${where}`).toBe(false);
    }
    // The environment secret's private file is gone with its folder.
    expect(filesUnder(tmp).filter((file) => /secret-\d+$/.test(file))).toEqual([]);
  }, 240_000);
});

describe('build secrets: refusals and planning through the real CLI', () => {
  const config = writeConfig('registry: 127.0.0.1:9/prod\n');
  const project = (): string => {
    const dir = tempDir('secrets-plan');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
    return dir;
  };
  const secretFile = join(tempDir('secrets-src'), 'npmrc');
  writeFileSync(secretFile, 'npm-file-secret-value\n');

  it.each(['kaniko', 'ado'])('%s refuses --secret: exit 2 in the planning round, naming buildah and buildkit; nothing starts', async (backend) => {
    const fake = installFakeBuilder();
    const adoConfig = writeConfig('ado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n');
    const r = await runCli(['--name=app', `--config=${backend === 'ado' ? adoConfig : config}`, `--context=${project()}`, `--backend=${backend}`, `--secret=id=npm,src=${secretFile}`], {
      env: baseEnv({ PULL_BASE_SHA: SHA, KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, ADO_PAT: 'pat-value-123' }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${backend} cannot mount build secrets (--secret npm): use --backend buildah (or --backend buildkit) for RUN --mount=type=secret, or drop --secret`);
    expect(fake.calls()).toEqual([]);
    expect(r.stdout).toBe('');
  });

  it('a missing file and an unset variable: exit 2, both reported together, nothing started', async () => {
    const fake = installFakeBuilder();
    const logs = join(tempDir('secrets-logs'), 'logs');
    const r = await runCli(
      ['--name=app', `--config=${config}`, `--context=${project()}`, '--backend=buildah', '--secret=id=a,src=/nonexistent/secret', '--secret=id=b,env=UNSET_TOKEN', `--log-dir=${logs}`],
      { env: baseEnv({ PULL_BASE_SHA: SHA, BUILDAH: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir }) },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --secret id=a: /nonexistent/secret does not exist; give src=PATH of a readable file (relative to the working directory)');
    expect(r.stderr).toContain('error: --secret id=b: the environment variable UNSET_TOKEN is not set; set it, or give the secret from a file with src=PATH');
    expect(fake.calls()).toEqual([]);
    expect(existsSync(logs)).toBe(false);
  });

  it.each([
    ['foo', '--secret "foo": "foo" is not KEY=VALUE'],
    ['id=a,file=x', '--secret "id=a,file=x": unknown key "file" (known: type, id, src, source, env)'],
    ['src=x', '--secret "src=x": no id (the name the Dockerfile mounts it by)'],
  ])('bad syntax %s: exit 2 showing the right syntax', async (raw, problem) => {
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${project()}`, '--backend=buildah', '--dry-run', `--secret=${raw}`], { env: baseEnv({ PULL_BASE_SHA: SHA }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${problem}; write --secret id=ID,src=PATH (a file) or --secret id=ID,env=VARIABLE (an environment variable)`);
    expect(r.stdout).toBe('');
  });

  it('with --reuse, a changed value keeps the dry-run inputs digest; another id changes it; the values show nowhere', async () => {
    const dir = project();
    const dryRun = async (envValue: string, fileValue: string, ids = ['npm', 'gh']) => {
      writeFileSync(secretFile, fileValue);
      const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--reuse', '--dry-run', '--debug', `--secret=id=${ids[0]},src=${secretFile}`, `--secret=id=${ids[1]},env=GH_TOKEN`], {
        env: baseEnv({ PULL_BASE_SHA: SHA, GH_TOKEN: envValue }),
      });
      expect(r.code, r.stderr).toBe(0);
      for (const value of [envValue, fileValue]) expect(r.stdout.includes(value) || r.stderr.includes(value), value).toBe(false);
      const inputs = (JSON.parse(r.stdout) as { builds: { inputs: { digest: string; secrets: string[] } }[] }).builds[0]!.inputs;
      return inputs;
    };
    const first = await dryRun('ghp_first_value_1', 'npm-first-value');
    expect(first.secrets).toEqual(['gh', 'npm']);
    expect((await dryRun('ghp_second_value_2', 'npm-second-value')).digest).toBe(first.digest);
    expect((await dryRun('ghp_first_value_1', 'npm-first-value', ['npmrc', 'gh'])).digest).not.toBe(first.digest);
  });

  it('--help lists --secret', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toMatch(/--secret\s+build secret for RUN --mount=type=secret/);
  });
});
