import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { generateTestKey, readStoredSignatures, verifiedBy } from '../support/cosign.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { getBlob, getImageConfig, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const PR_HEAD = '9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d';
/** The tag a postsubmit of SHA gets by default. */
const TAG = (date = new Date()) => `v${date.toISOString().slice(0, 10).replaceAll('-', '')}-4f1e2d3c`;
const cacheDir = tempDir('reuse-cache');

/** A Prow presubmit (pull request 7): it pushes to dev-registry. */
const PRESUBMIT = { CI: 'true', PROW_JOB_ID: 'job-1', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'presubmit', PULL_NUMBER: '7', PULL_BASE_SHA: SHA, PULL_PULL_SHA: PR_HEAD };
const MG_HEAD = '1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e';
/** A Prow merge-group job: it pushes to dev-registry. */
const MERGE_GROUP = { CI: 'true', PROW_JOB_ID: 'job-2', REPO_OWNER: 'org', REPO_NAME: 'repo', JOB_TYPE: 'merge_group', PULL_BASE_SHA: SHA, PULL_PULL_SHA: MG_HEAD };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether buildah built: its log file exists only then. */
  built: boolean;
  report: { reused: boolean; reusedFrom?: string; digest: string; images_list: string[]; builds: { variant?: string; reused: boolean; reusedFrom?: string; digest: string }[] };
}

describe.skipIf(!haveTools)('reuse of unchanged images, through the real CLI, buildah and two real registries', () => {
  /** Holds the busybox base image and is the dev registry; prod is the other. */
  let dev: TestRegistry;
  let prod: TestRegistry;
  let base: string;
  beforeAll(async () => {
    [dev, prod] = await Promise.all([startRegistry(), startRegistry()]);
    base = await pushShellImage(dev, 'fixtures/shell');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([dev?.stop(), prod?.stop()]);
  });

  /** A context: a Dockerfile that RUNs on the base image and copies src/, a .dockerignore'd file, optional variants.yaml. */
  function project(options: { from?: string; variants?: string } = {}): string {
    const dir = tempDir('reuse-project');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${options.from ?? base}\nARG FLAVOUR=plain\nRUN echo "$FLAVOUR" > /flavour\nCOPY src/ /src/\n`);
    writeFileSync(join(dir, 'src/a.txt'), 'alpha\n');
    writeFileSync(join(dir, 'notes.md'), 'not sent\n');
    writeFileSync(join(dir, '.dockerignore'), 'notes.md\n');
    if (options.variants) writeFileSync(join(dir, 'variants.yaml'), options.variants);
    return dir;
  }

  /** The key every run here signs and attests with: what a run attested, the next one trusts (a run trusts its own cosign keys). */
  const runKey = generateTestKey();
  const runKeyFile = join(tempDir('run-key'), 'cosign.key');
  writeFileSync(runKeyFile, runKey.pkcs8);
  const SIGNING = `sign-config:\n  enabled-signers: {"*": [cosign-main]}\n  signers:\n    - {name: cosign-main, type: cosign, config: {key: ${runKeyFile}}}\n`;

  /** One CLI run with --reuse into <prod>/<ns>/app (dev: <dev>/<ns>/app), signing with runKey; every run logs and reports into fresh files. */
  async function build(dir: string, ns: string, args: string[] = [], env: Record<string, string> = {}, registry = prod.host, extraConfig = SIGNING): Promise<Run> {
    const out = tempDir('reuse-run');
    const config = writeConfig(`registry: ${registry}/${ns}\ndev-registry: ${dev.host}/${ns}\n${extraConfig}`);
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--reuse', `--log-dir=${join(out, 'logs')}`, `--build-report-path=${join(out, 'report.json')}`, ...args], {
      env: baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: cacheDir, TMPDIR: tempDir('tmp'), ...env }),
      timeoutMs: 180_000,
    });
    const report = existsSync(join(out, 'report.json')) ? JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) : undefined;
    const built = ['build', 'blue', 'green'].some((unit) => existsSync(join(out, 'logs', `build_${unit}.log`)));
    return { ...r, built, report };
  }

  const digestOf = async (registry: TestRegistry, repository: string, tag: string) => (await getManifest(registry, repository, tag)).digest;

  it('unchanged inputs: the second run copies the first image to its destinations and does not run buildah build', async () => {
    const dir = project();
    const first = await build(dir, 'same');
    expect(first.stderr).toContain('STEP 1/');
    expect(first).toMatchObject({ code: 0, built: true, report: { reused: false } });
    const digest = await digestOf(prod, 'same/app', TAG());
    const inputsTag = /tagged \S+\/same\/app:(inputs-[0-9a-f]{64}) sha256:/.exec(first.stderr)?.[1];
    expect(inputsTag).toBeDefined();
    expect(await digestOf(prod, 'same/app', inputsTag!)).toBe(digest);
    const label = (await getImageConfig(prod, 'same/app', TAG())).config?.Labels?.['io.image-builder.inputs'];
    expect(label).toBe(`sha256:${inputsTag!.slice('inputs-'.length)}`);

    const outputs = join(tempDir('gh'), 'output');
    const summary = join(tempDir('gh'), 'summary.md');
    const second = await build(dir, 'same', ['--tag=again'], { GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary });

    expect(second.code).toBe(0);
    expect(second.built).toBe(false);
    expect(second.stderr).not.toContain('STEP 1/');
    expect(second.stderr).toContain(`reuse (build): found ${prod.host}/same/app:${inputsTag} ${digest}`);
    expect(second.stderr).toMatch(new RegExp(`reuse \\(build\\): it matches: its tag names the inputs digest of this build, ${label}, over Dockerfile sha256:[0-9a-f]{64}; 3 context files \\(\\d+ bytes, \\.dockerignore applied\\); declared build args FLAVOUR; platforms linux/[a-z0-9]+; base ${base}@sha256:`));
    expect(second.stderr).toContain(`reuse (build): not built: copied to ${prod.host}/same/app:again, ${prod.host}/same/app:${TAG()}`);
    expect(second.stderr).toMatch(/done in [\d.]+s: 2 images pushed \(1 of 1 build reused, not built\)/);
    expect(await digestOf(prod, 'same/app', 'again')).toBe(digest);
    expect(second.report).toMatchObject({ reused: true, reusedFrom: `${prod.host}/same/app:${inputsTag}`, digest, builds: [{ reused: true, digest }] });
    expect(readFileSync(outputs, 'utf8')).toMatch(/^reused<<(ghadelimiter_\w+)\ntrue\n\1$/m);
    expect(readFileSync(summary, 'utf8')).toContain(`| - | \`${prod.host}/same/app:again\` | \`${digest}\` | reused: copied from \`${prod.host}/same/app:${inputsTag}\` |`);
  });

  it('one changed byte in a context file rebuilds; a changed .dockerignored file reuses', async () => {
    const dir = project();
    const first = await build(dir, 'bytes');
    expect(first).toMatchObject({ code: 0, built: true });

    writeFileSync(join(dir, 'notes.md'), 'changed, but not sent\n');
    const ignored = await build(dir, 'bytes');
    expect(ignored).toMatchObject({ code: 0, built: false, report: { reused: true } });

    writeFileSync(join(dir, 'src/a.txt'), 'alphA\n');
    const changed = await build(dir, 'bytes', ['--debug']);
    // --debug lists every input with its hash: what a user compares to see why a rebuild happened.
    expect(changed.stderr).toContain(`debug: inputs (build): file "src/a.txt" 0644 sha256:${createHash('sha256').update('alphA\n').digest('hex')}`);
    expect(changed.stderr).toMatch(/debug: inputs \(build\): arg "FLAVOUR" "plain"\n/);
    expect(changed.stderr).not.toContain('notes.md');
    expect(changed).toMatchObject({ code: 0, built: true, report: { reused: false } });
    expect(changed.stderr).toMatch(/reuse \(build\): no image tagged inputs-[0-9a-f]{64} in \S+\/bytes\/app, \S+\/bytes\/app: building \(label io\.image-builder\.inputs=sha256:/);
    expect(await digestOf(prod, 'bytes/app', TAG())).not.toBe(first.report.digest);
  });

  it('a new base image pushed under the same tag rebuilds, on the new base', async () => {
    const from = await pushShellImage(dev, 'fixtures/moving', 'one');
    const dir = project({ from });
    expect(await build(dir, 'moving')).toMatchObject({ code: 0, built: true });
    expect(await build(dir, 'moving')).toMatchObject({ code: 0, built: false });

    await pushShellImage(dev, 'fixtures/moving', 'two');
    const rebuilt = await build(dir, 'moving');

    expect(rebuilt).toMatchObject({ code: 0, built: true, report: { reused: false } });
    const newBase = await getManifest(dev, 'fixtures/moving', '1');
    const image = await getManifest(prod, 'moving/app', TAG());
    expect(image.body.layers?.[0]?.digest).toBe(newBase.body.layers?.[0]?.digest);
  });

  it('an undeclared build arg changing reuses; a declared one rebuilds', async () => {
    const dir = project();
    expect(await build(dir, 'args', ['--build-arg=UNUSED=1', '--build-arg=FLAVOUR=sweet'])).toMatchObject({ code: 0, built: true });
    expect(await build(dir, 'args', ['--build-arg=UNUSED=2', '--build-arg=FLAVOUR=sweet'])).toMatchObject({ code: 0, built: false, report: { reused: true } });
    expect(await build(dir, 'args', ['--build-arg=UNUSED=2', '--build-arg=FLAVOUR=sour'])).toMatchObject({ code: 0, built: true, report: { reused: false } });
  });

  it('dev → prod: a merge group builds into dev and attests, the postsubmit with the same inputs and a trusted key copies across registries, signed', async () => {
    const dir = project();
    const mg = await build(dir, 'promote', [], MERGE_GROUP);
    expect(mg).toMatchObject({ code: 0, built: true });
    const devDigest = mg.report.digest;

    const key = generateTestKey();
    const keyFile = join(tempDir('key'), 'cosign.key');
    writeFileSync(keyFile, key.pkcs8);
    const publicFile = join(tempDir('key'), 'merge.pub');
    writeFileSync(publicFile, runKey.publicPem);
    const signing = `reuse: {trusted: [{key: ${publicFile}}]}\nsign-config:\n  enabled-signers: {"*": [cosign-main]}\n  signers:\n    - {name: cosign-main, type: cosign, config: {key: ${keyFile}}}\n`;
    const post = await build(dir, 'promote', [], {}, prod.host, signing);

    expect(post.code).toBe(0);
    expect(post.built).toBe(false);
    expect(post.stderr).toMatch(new RegExp(`reuse \\(build\\): found ${dev.host}/promote/app:inputs-[0-9a-f]{64} ${devDigest}: its attestation`));
    const prodDigest = await digestOf(prod, 'promote/app', TAG());
    expect(prodDigest).toBe(devDigest);
    expect(post.report).toMatchObject({ reused: true, reusedFrom: expect.stringMatching(new RegExp(`^${dev.host}/promote/app:inputs-`)) });
    // The blobs crossed: prod serves every layer itself.
    const manifest = await getManifest(prod, 'promote/app', TAG());
    for (const layer of manifest.body.layers ?? []) expect((await getBlob(prod, 'promote/app', layer.digest)).length).toBeGreaterThan(0);
    // The next postsubmit finds it in prod itself.
    expect(await digestOf(prod, 'promote/app', post.report.reusedFrom!.split(':').pop()!)).toBe(devDigest);
    // Signed as after a build: the signature of the copied digest is in prod.
    const stored = await readStoredSignatures(prod.url, 'promote/app', prodDigest);
    expect(stored?.signatures.map((s) => verifiedBy(s, key.publicKey))).toEqual([true]);
  });

  it('a copy that fails midway (the manifest PUT answers 500) falls back to building', async () => {
    const dir = project();
    expect(await build(dir, 'halfway', [], PRESUBMIT)).toMatchObject({ code: 0, built: true });
    const putTag = (req: { method: string; url: string }) => req.method === 'PUT' && /\/manifests\/v\d/.test(req.url);
    // Three answers: the copy's PUT and its two retries; buildah's push after the fallback build goes through.
    const proxy: FaultProxy = await startFaultProxy(prod.host, [{ match: putTag, times: 3, fault: { status: 500, body: 'store failed' } }]);
    try {
      const r = await build(dir, 'halfway', [], {}, proxy.host);
      expect(r.stderr).toMatch(new RegExp(`reuse \\(build\\): found ${dev.host}/halfway/app:inputs-`));
      expect(r.stderr).toMatch(/reuse \(build\): copying \S+ failed, building instead: .*HTTP 500/);
      expect(r).toMatchObject({ code: 0, built: true, report: { reused: false } });
      expect(await digestOf(prod, 'halfway/app', TAG())).toBe(r.report.digest);
    } finally {
      await proxy.close();
    }
  });

  it('a variant set where one variant changed rebuilds only that one (variants.yaml .dockerignored: else it is an input of every variant)', async () => {
    const dir = project({ variants: 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: green}\n' });
    writeFileSync(join(dir, '.dockerignore'), 'notes.md\nvariants.yaml\n');
    const first = await build(dir, 'variants');
    expect(first.code).toBe(0);
    expect(first.report.builds.map((b) => b.reused)).toEqual([false, false]);

    writeFileSync(join(dir, 'variants.yaml'), 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: teal}\n');
    const second = await build(dir, 'variants');

    expect(second.code).toBe(0);
    expect(second.report.builds.map((b) => [b.variant, b.reused])).toEqual([['blue', true], ['green', false]]);
    expect(second.report.reused).toBe(false);
    expect(second.stderr).toContain('reuse (variant blue): not built');
    expect(second.stderr).toMatch(/reuse \(variant green\): no image tagged inputs-/);
    expect(second.stderr).toMatch(/done in [\d.]+s: 2 images pushed \(1 of 2 builds reused, not built\)/);
    expect(await digestOf(prod, 'variants/app', `${TAG()}-blue`)).toBe(first.report.builds[0]?.digest);
  });

  it('a registry failing the lookup (HTTP 500 for inputs- tags) does not fail the run: it says why and builds', async () => {
    const proxy: FaultProxy = await startFaultProxy(prod.host, [{ match: (req) => req.url.includes('/manifests/inputs-'), fault: { status: 500, body: 'lookup broken' } }]);
    try {
      const dir = project();
      const r = await build(dir, 'faulty', [], {}, proxy.host);
      expect(r.code).toBe(0);
      expect(r.built).toBe(true);
      expect(r.stderr).toMatch(new RegExp(`reuse \\(build\\): looking up ${proxy.host}/faulty/app:inputs-[0-9a-f]{64} failed, not reused from there: .*HTTP 500`));
      expect(await digestOf(prod, 'faulty/app', TAG())).toBe(r.report.digest);
    } finally {
      await proxy.close();
    }
  });
});

describe('reuse in --dry-run and with a backend that cannot reuse (no network)', () => {
  const config = (extra = '') => writeConfig(`registry: 127.0.0.1:9/prod\n${extra}`);
  function project(): string {
    const dir = tempDir('reuse-dry');
    writeFileSync(join(dir, 'Dockerfile'), 'ARG BASE=127.0.0.1:9/base:1\nFROM ${BASE}\nARG NPM_TOKEN\nARG FLAVOUR=plain\nCOPY . /app\n');
    writeFileSync(join(dir, 'a.txt'), 'abc');
    return dir;
  }
  const env = baseEnv({ PULL_BASE_SHA: SHA });

  it('--dry-run prints reuse and each unit\'s inputs (base images unresolved) and the label in the argv', async () => {
    const dir = project();
    const r = await runCli(['--name=app', `--config=${config()}`, `--context=${dir}`, '--backend=kaniko', '--reuse', '--dry-run', '--build-arg=NPM_TOKEN=s3cr3t-value', '--build-arg=OTHER=1'], { env });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.reuse).toMatchObject({ enabled: true, decidedBy: '--reuse', alsoFrom: [], trusted: [] });
    const [unit] = plan.builds;
    expect(unit.inputs).toMatchObject({ files: 2, bytes: 3 + readFileSync(join(dir, 'Dockerfile')).length, buildArgs: { BASE: '127.0.0.1:9/base:1', NPM_TOKEN: '***', FLAVOUR: 'plain' }, baseImages: [{ name: '127.0.0.1:9/base:1' }], resolved: false });
    expect(unit.inputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(unit.commands[0]).toContain(`--label=io.image-builder.inputs=${unit.inputs.digest}`);
    expect(r.stdout).not.toContain('s3cr3t-value');
  });

  it('the ignore file is the one the backend reads: buildah .containerignore first, kaniko .dockerignore', async () => {
    const dir = project();
    writeFileSync(join(dir, '.containerignore'), 'a.txt\n');
    writeFileSync(join(dir, '.dockerignore'), 'nothing-here\n');
    const inputsWith = async (backend: string) =>
      JSON.parse((await runCli(['--name=app', `--config=${config()}`, `--context=${dir}`, `--backend=${backend}`, '--reuse', '--dry-run'], { env })).stdout).builds[0].inputs;
    expect(await inputsWith('buildah')).toMatchObject({ ignoreFile: '.containerignore', files: 3 }); // Dockerfile and both ignore files
    expect(await inputsWith('kaniko')).toMatchObject({ ignoreFile: '.dockerignore', files: 4 });
  });

  it('without reuse the dry-run has no inputs and no label', async () => {
    const r = await runCli(['--name=app', `--config=${config('reuse: {enabled: true}\n')}`, `--context=${project()}`, '--backend=kaniko', '--no-reuse', '--dry-run'], { env });
    const plan = JSON.parse(r.stdout);
    expect(plan.reuse).toMatchObject({ enabled: false, decidedBy: '--reuse' });
    expect(plan.builds[0].inputs).toBeUndefined();
    expect(plan.builds[0].commands[0].join(' ')).not.toContain('io.image-builder.inputs');
  });

  const ado = 'ado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n';
  it('--reuse with the ADO backend is bad input (exit 2), in the same round as the other problems', async () => {
    const r = await runCli(['--name=app', `--config=${config(ado)}`, '--backend=ado', '--reuse', '--tgs=x', '--dry-run'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --reuse is not supported with the ado backend, which does not reuse images; drop --reuse, or build with --backend kaniko, --backend buildkit, --backend buildah');
    expect(r.stderr).toContain('error: unknown flag --tgs');
  });

  it('reuse.enabled in config.yaml with the ADO backend is noted, not refused', async () => {
    const file = config(`${ado}reuse: {enabled: true}\n`);
    const r = await runCli(['--name=app', `--config=${file}`, '--backend=ado', '--repo=org/repo', '--dry-run'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: ${file}: reuse.enabled is ignored: the ado backend does not reuse images; it builds every time`);
    expect(JSON.parse(r.stdout).reuse).toMatchObject({ enabled: false });
  });
});
