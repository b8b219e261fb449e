import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { getBlob, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';

describe.skipIf(!haveTools)('base images from a loopback registry, through the real CLI and buildah (plain HTTP, as pushes)', () => {
  /** Holds the busybox base image; the build pushes to the other registry. */
  let bases: TestRegistry;
  let target: TestRegistry;
  beforeAll(async () => {
    [bases, target] = await Promise.all([startRegistry(), startRegistry()]);
    await pushShellImage(bases, 'fixtures/shell');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([bases?.stop(), target?.stop()]);
  });

  async function build(dockerfile: string, repository: string, extraArgs: string[] = [], env: Record<string, string> = {}) {
    const dir = tempDir('loopback');
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const config = writeConfig(`registry: ${target.host}/${repository}\n`);
    const logDir = join(dir, 'logs');
    const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--tag=v1', `--log-dir=${logDir}`, ...extraArgs], {
      // A store of its own: a base image pulled by another build would be found there, not pulled.
      env: baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: tempDir('loopback-cache'), TMPDIR: tempDir('tmp'), ...env }),
      timeoutMs: 180_000,
    });
    return { ...r, log: readFileSync(join(logDir, 'build_build.log'), 'utf8') };
  }

  /** The paths in a gzipped layer tar (ustar names, enough for these small layers). */
  function layerPaths(layer: Buffer): string[] {
    const tar = gunzipSync(layer);
    const names: string[] = [];
    for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
      names.push(tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, ''));
      const size = parseInt(tar.subarray(at + 124, at + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    return names;
  }

  it('FROM ${REGISTRY}/… with the registry a build arg: pulled over HTTP, the RUN step runs on it, the result is pushed', async () => {
    const r = await build('ARG REGISTRY\nFROM ${REGISTRY}/fixtures/shell:1\nRUN echo built > /built.txt\n', 'from-loopback', [`--build-arg=REGISTRY=${bases.host}`]);

    expect(r.log).not.toMatch(/HTTP response to HTTPS client/);
    expect(r.code).toBe(0);
    expect(r.log).toContain(`image-builder: buildah reaches ${[bases.host, target.host].sort().join(', ')} over plain HTTP`);
    const base = await getManifest(bases, 'fixtures/shell', '1');
    const built = await getManifest(target, 'from-loopback/app', 'v1');
    expect(r.stderr).toContain(`pushed ${target.host}/from-loopback/app:v1 ${built.digest}`);
    const layers = built.body.layers?.map((layer) => layer.digest) ?? [];
    expect(layers).toHaveLength(2);
    expect(layers[0]).toBe(base.body.layers?.[0]?.digest);
    expect(layerPaths(await getBlob(target, 'from-loopback/app', layers[1] ?? ''))).toContain('built.txt');
  });

  it('keeps the user\'s registries.conf: its unqualified-search list still resolves a short name, now over HTTP', async () => {
    const userConf = join(tempDir('user-registries'), 'registries.conf');
    writeFileSync(userConf, `unqualified-search-registries = ["${bases.host}"]\n`);
    // The short name resolves to the search registry; COPY --from names it, so it is one this build reaches.
    const dockerfile = `FROM fixtures/shell:1\nCOPY --from=${bases.host}/fixtures/shell:1 /bin/busybox /copied\nRUN test -f /copied\n`;

    const r = await build(dockerfile, 'short-name', [], { CONTAINERS_REGISTRIES_CONF: userConf });

    expect(r.code).toBe(0);
    expect(r.log).toContain(`Trying to pull ${bases.host}/fixtures/shell:1...`);
    expect((await getManifest(target, 'short-name/app', 'v1')).body.layers).toHaveLength(2);
  });
});
