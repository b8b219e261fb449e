import { buildahBackend } from '../../src/backends/buildah.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilds } from '../../src/backends/run.js';
import { makePlan, makeUnit } from '../support/plan-factory.js';
import { getBlob, getImageConfig, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { captureIO, installFakeBuilder, isRunning, removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const buildah = buildahBackend;
const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const GREETING = `hello "world" $(id) \`uname\` it's`;
const DOCKERFILE = ['FROM scratch', 'ARG GREETING=unset', 'LABEL org.example.greeting=$GREETING', 'COPY hello.txt /hello.txt', ''].join('\n');

afterAll(removeTempDirs);

describe.skipIf(!ready)('buildah backend, real build, real registry', () => {
  let registry: TestRegistry;
  let context: string;
  // One store for the file: layers are reused between its builds, and it is removed with the temp dirs.
  const cache = { IMAGE_BUILDER_CACHE_DIR: tempDir('buildah-cache') };

  beforeAll(async () => {
    registry = await startRegistry();
    context = tempDir('context');
    await writeFile(path.join(context, 'Dockerfile'), DOCKERFILE);
    await writeFile(path.join(context, 'hello.txt'), 'hello from image-builder\n');
  });
  afterAll(async () => registry?.stop());

  const planFor = (overrides: Parameters<typeof makePlan>[0], unit: Parameters<typeof makePlan>[1] = {}) =>
    makePlan({ backend: 'buildah', context, logDir: path.join(tempDir('logs'), 'deep'), ...overrides }, unit);

  it('builds once and pushes to two repositories × two tags; the registry holds what was reported', async () => {
    const plan = planFor({
      repositories: [`${registry.host}/one`, `${registry.host}/two`],
      tags: [{ name: 'default_tag', value: 'v1' }, { name: 'latest', value: 'latest' }],
    }, { buildArgs: { GREETING } });
    const unit = plan.builds[0]!;
    const { io } = captureIO(cache);
    const result = await buildah.build(plan, unit, io);

    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.pushed.map((image) => image.reference)).toEqual([
      `${registry.host}/one/test-infra/app:v1`,
      `${registry.host}/two/test-infra/app:v1`,
      `${registry.host}/one/test-infra/app:latest`,
      `${registry.host}/two/test-infra/app:latest`,
    ]);
    for (const image of result.pushed) {
      const [, repository, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(image.reference)!;
      const manifest = await getManifest(registry, repository!, tag!);
      expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(manifest.digest).toBe(image.digest);
      const config = await getImageConfig(registry, repository!, tag!);
      expect(config.config?.Labels?.['org.example.greeting']).toBe(GREETING);
      const layer = gunzipSync(await getBlob(registry, repository!, manifest.body.layers![0]!.digest)).toString('latin1');
      expect(layer).toContain('hello.txt');
      expect(layer).toContain('hello from image-builder');
    }
    expect(await readFile(unit.logFile, 'utf8')).toMatch(/COMMIT[^]*Writing manifest to image destination/);
  });

  it('writes oci-archive: and oci: destinations on disk, creating their folders', async () => {
    const out = tempDir('out');
    const archive = path.join(out, 'nested', 'app.tar');
    const layout = path.join(out, 'layout', 'app');
    const plan = planFor({}, { destinations: [`oci-archive:${archive}:v1`, `oci:${layout}:v1`] });
    const result = await buildah.build(plan, plan.builds[0]!, captureIO(cache).io);

    expect(result.error).toBeUndefined();
    const fromArchive = JSON.parse((await execa('tar', ['-xOf', archive, 'index.json'])).stdout) as { manifests: { digest: string }[] };
    const fromLayout = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(result.pushed).toEqual([
      { reference: `oci-archive:${archive}:v1`, digest: fromArchive.manifests[0]!.digest },
      { reference: `oci:${layout}:v1`, digest: fromLayout.manifests[0]!.digest },
    ]);
    expect(fromLayout.manifests[0]!.annotations['org.opencontainers.image.ref.name']).toBe('v1');
  });

  it('pushes one index for several platforms, with an image per platform', async () => {
    const plan = planFor({ platforms: ['linux/amd64', 'linux/arm64'], repositories: [`${registry.host}/multi`] });
    const result = await buildah.build(plan, plan.builds[0]!, captureIO(cache).io);

    expect(result.error).toBeUndefined();
    const index = await getManifest(registry, 'multi/test-infra/app', 'v20240101-01234567');
    expect(index.digest).toBe(result.pushed[0]!.digest);
    expect(index.body.manifests?.map((m) => m.platform?.architecture).sort()).toEqual(['amd64', 'arm64']);
    for (const entry of index.body.manifests!) {
      const config = await getImageConfig(registry, 'multi/test-infra/app', entry.digest);
      expect(config.architecture).toBe(entry.platform?.architecture);
    }
  });

  it('fails on a broken Dockerfile, with buildah\'s error in the log file', async () => {
    const broken = tempDir('broken');
    await writeFile(path.join(broken, 'Dockerfile'), 'FROM scratch\nCOPY missing-file.txt /\n');
    const plan = planFor({ context: broken, repositories: [`${registry.host}/broken`] });
    const unit = plan.builds[0]!;
    const result = await buildah.build(plan, unit, captureIO(cache).io);

    expect(result).toMatchObject({ ok: false, pushed: [], error: 'buildah build failed: buildah exited with code 125' });
    expect(await readFile(unit.logFile, 'utf8')).toMatch(/missing-file\.txt[^]*image-builder: buildah exited with code/);
    await expect(getManifest(registry, 'broken/test-infra/app', 'v20240101-01234567')).rejects.toThrow(/404/);
  });

  // Also the regression test for buildah's --layers cache, which kept the first build's LABEL value for later build args.
  it('builds variants concurrently through runBuilds, each pushed and logged on its own', async () => {
    const base = planFor({ repositories: [`${registry.host}/variants`], tags: [{ name: 'default_tag', value: 'v1' }], silent: false });
    const builds = ['blue', 'green'].map((variant) => makeUnit(base, { variant, buildArgs: { GREETING: `${variant} variant` } }));
    const plan = { ...base, builds };
    const captured = captureIO(cache);
    const results = await runBuilds(buildah, plan, captured.io);

    expect(results.map((r) => [r.variant, r.ok, r.error])).toEqual([['blue', true, undefined], ['green', true, undefined]]);
    for (const variant of ['blue', 'green']) {
      const config = await getImageConfig(registry, 'variants/test-infra/app', `v1-${variant}`);
      expect(config.config?.Labels?.['org.example.greeting']).toBe(`${variant} variant`);
      expect(captured.stderr()).toMatch(new RegExp(`^\\[${variant}\\] STEP 1/4: FROM scratch$`, 'm'));
    }
    expect(builds.map((unit) => path.basename(unit.logFile))).toEqual(['build_blue.log', 'build_green.log']);
    const [blueLog, greenLog] = await Promise.all(builds.map((unit) => readFile(unit.logFile, 'utf8')));
    expect(blueLog).toContain(`image-builder: pushing ${registry.host}/variants/test-infra/app:v1-blue\n`);
    expect(blueLog).not.toContain('green');
    expect(greenLog).toContain(`image-builder: pushing ${registry.host}/variants/test-infra/app:v1-green\n`);
  });

  it('runs a RUN step under chroot isolation (a tiny rootfs: /bin/sh and its libraries)', async () => {
    const rootfs = tempDir('rootfs');
    const libraries = (await execa('ldd', ['/bin/sh'])).stdout.match(/\/\S+/g) ?? [];
    for (const file of ['/bin/sh', ...libraries]) {
      await mkdir(path.join(rootfs, 'root', path.dirname(file)), { recursive: true });
      await execa('cp', ['-L', file, path.join(rootfs, 'root', file)]);
    }
    await writeFile(path.join(rootfs, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\nARG GREETING\nRUN echo "ran: $GREETING" > /proof\n');
    const plan = planFor({ context: rootfs, repositories: [`${registry.host}/run`] }, { buildArgs: { GREETING: 'chroot' } });
    const result = await buildah.build(plan, plan.builds[0]!, captureIO(cache).io);

    expect(result.error).toBeUndefined();
    const manifest = await getManifest(registry, 'run/test-infra/app', 'v20240101-01234567');
    const lastLayer = manifest.body.layers!.at(-1)!.digest;
    expect(gunzipSync(await getBlob(registry, 'run/test-infra/app', lastLayer)).toString('latin1')).toContain('ran: chroot');
  });

  it('leaves no image or container behind in its own store', async () => {
    const storage = ['--root', path.join(cache.IMAGE_BUILDER_CACHE_DIR, 'buildah', 'root'), '--runroot', path.join(cache.IMAGE_BUILDER_CACHE_DIR, 'buildah', 'runroot'), '--storage-driver=vfs'];
    const images = JSON.parse((await execa('buildah', [...storage, 'images', '--all', '--json'])).stdout) as unknown[] | null;
    expect(images ?? []).toEqual([]);
    expect((await execa('buildah', [...storage, 'containers', '--all', '--quiet'])).stdout).toBe('');
  });
});

describe('buildah backend, stand-in builder', () => {
  it('stops the builder and its helpers on abort, long before its sleep ends', async () => {
    const fake = installFakeBuilder();
    const plan = makePlan({ backend: 'buildah', logDir: tempDir('abort-logs') });
    const captured = captureIO({
      BUILDAH: fake.path,
      FAKE_BUILDER_RECORD_DIR: fake.recordDir,
      FAKE_BUILDER_SLEEP_MS: '60000',
      FAKE_BUILDER_HELPER: '1',
      IMAGE_BUILDER_CACHE_DIR: tempDir('abort-cache'),
    });
    const started = Date.now();
    const building = buildah.build(plan, plan.builds[0]!, captured.io);
    while (fake.calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    captured.abort();
    const result = await building;

    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, pushed: [], error: 'stopped by signal' });
    const [call] = fake.calls();
    expect(fake.calls()).toHaveLength(1);
    expect(call!.argv).toContain('build');
    expect(isRunning(call!.pid)).toBe(false);
    expect(isRunning(call!.helperPid!)).toBe(false);
    expect(existsSync(plan.builds[0]!.logFile)).toBe(true);
  });

  it('says how to install a missing buildah', async () => {
    const plan = makePlan({ backend: 'buildah', logDir: tempDir('missing-logs') });
    const io = captureIO({ BUILDAH: 'no-such-buildah', IMAGE_BUILDER_CACHE_DIR: tempDir('missing-cache') }).io;
    const result = await buildah.build(plan, plan.builds[0]!, io);
    expect(result).toMatchObject({ ok: false, error: 'buildah build failed: no-such-buildah: executable not found (install it with `apt-get install buildah`, or set BUILDAH to its path)' });
  });
});
