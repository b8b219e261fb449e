import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { startFakeSigner, type FakeSigner } from '../support/fake-signer.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../support/fault-proxy.js';
import { freePort, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const cacheDir = tempDir('push-cache');

const isManifestPut = (r: ProxiedRequest) => r.method === 'PUT' && r.url.includes('/manifests/');
const isUploadStart = (r: ProxiedRequest) => r.method === 'POST' && r.url.endsWith('/blobs/uploads/');
const isUploadChunk = (r: ProxiedRequest) => r.method === 'PATCH';

function project(): string {
  const dir = tempDir('push');
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  writeFileSync(path.join(dir, 'hello.txt'), `pushed by image-builder ${dir}\n`);
  return dir;
}

/** `pushed <reference> <digest>` lines of the run's summary. */
function pushedLines(stderr: string): Map<string, string> {
  return new Map([...stderr.matchAll(/^pushed (\S+) (sha256:[0-9a-f]{64})$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe.skipIf(!haveTools)('pushing through the real CLI with buildah: faults, full disks, unreachable registries', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  async function build(repositories: string[], extra: { args?: string[]; env?: Record<string, string>; tags?: string[]; logDir?: string } = {}) {
    const dir = project();
    const config = writeConfig(`registry: [${repositories.join(', ')}]\ndefault-commit-tag: {name: default_tag, value: "c-{{ .ShortSHA }}"}\n`);
    const logDir = extra.logDir ?? path.join(dir, 'logs');
    const args = ['--name=team/app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--silent', `--log-dir=${logDir}`, ...(extra.tags ?? []).map((t) => `--tag=${t}`), ...(extra.args ?? [])];
    const r = await runCli(args, { env: baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: cacheDir, ...extra.env }), timeoutMs: 180_000 });
    return { ...r, dir, logDir, log: () => readFileSync(path.join(logDir, 'build_build.log'), 'utf8') };
  }

  /** Every destination of the run was reported with the digest the registry serves for it. */
  async function expectPushed(stderr: string, repositories: string[], tags: string[]) {
    const reported = pushedLines(stderr);
    for (const tag of tags) {
      for (const repository of repositories) {
        const served = await getManifest(registry, `${repository}/team/app`, tag);
        expect(reported.get(`${registry.host}/${repository}/team/app:${tag}`) ?? `${repository}:${tag} not reported`).toBe(served.digest);
      }
    }
  }

  describe('transient registry errors are tried again', () => {
    let proxy: FaultProxy | undefined;
    afterAll(async () => proxy?.close());

    it('eight destinations, four pushed at once; 5xx on blob uploads and manifest PUTs: all pushed, with the digests the registry holds', async () => {
      proxy = await startFaultProxy(registry.host, [
        { times: 4, fault: 'gather', match: isManifestPut },
        { times: 2, fault: { status: 502, body: '<html>502 Bad Gateway</html>' }, match: isUploadStart },
        { times: 3, fault: { status: 500 }, match: isManifestPut },
        { times: 1, fault: { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}' }, match: isManifestPut },
      ]);
      const repositories = ['r1', 'r2', 'r3', 'r4'];
      const r = await build(repositories.map((repo) => `${proxy!.host}/${repo}`), { tags: ['latest'] });

      expect(r.stderr).toMatch(/done in/);
      expect(r.code).toBe(0);
      expect(proxy.maxHeld()).toBe(4);
      expect(proxy.seen.filter((q) => q.fault && q.status !== 201)).toHaveLength(6);
      expect(r.log()).toMatch(/failed \(HTTP 50[023]\); trying again in 1 s/);
      expect(r.log()).toMatch(/\(try 2 of 3\)/);
      // Reported as pushed through the proxy; the registry behind it holds each one with that digest.
      const reported = pushedLines(r.stderr);
      expect(reported.size).toBe(8);
      for (const repository of repositories) {
        for (const tag of ['latest', 'c-4f1e2d3c']) {
          const served = await getManifest(registry, `${repository}/team/app`, tag);
          expect(reported.get(`${proxy.host}/${repository}/team/app:${tag}`)).toBe(served.digest);
        }
      }
    });

    it('connections dropped in the middle of blob uploads: pushed on the next try', async () => {
      await proxy?.close();
      proxy = await startFaultProxy(registry.host, [{ times: 2, fault: 'drop', match: isUploadChunk }]);
      const r = await build([`${proxy.host}/dropped`]);

      expect(r.code).toBe(0);
      expect(proxy.seen.filter((q) => q.fault)).toHaveLength(2);
      // buildah retries a drop it sees as EOF itself (500 ms apart, as we ask); one it sees as a closed connection, we do.
      expect(r.log()).toMatch(/Failed, retrying in 500ms|failed \((?:use of closed network connection|broken pipe|connection reset|EOF|unexpected EOF)\); trying again/);
      const served = await getManifest(registry, 'dropped/team/app', 'c-4f1e2d3c');
      expect(pushedLines(r.stderr).get(`${proxy.host}/dropped/team/app:c-4f1e2d3c`)).toBe(served.digest);
    });

    // buildah 1.28's manifest push exits 0 after this 5xx, without pushing the index: only the registry tells.
    it('several platforms (buildah manifest push, which has no --retry): a 500 on a platform\'s manifest is found out and tried again', async () => {
      await proxy?.close();
      proxy = await startFaultProxy(registry.host, [{ times: 1, fault: { status: 500 }, match: (q) => isManifestPut(q) && q.url.includes('/manifests/sha256:') }]);
      const r = await build([`${proxy.host}/multi`], { args: ['--platform=linux/amd64,linux/arm64'] });

      expect(r.code).toBe(0);
      expect(proxy.seen.filter((q) => q.fault)).toHaveLength(1);
      expect(r.log()).toMatch(/failed \(the builder reported success, but the registry does not have .*multi\/team\/app:c-4f1e2d3c\); trying again in 1 s/);
      const index = await getManifest(registry, 'multi/team/app', 'c-4f1e2d3c');
      expect(index.body.manifests?.map((m) => m.platform?.architecture).sort()).toEqual(['amd64', 'arm64']);
      expect(pushedLines(r.stderr).get(`${proxy.host}/multi/team/app:c-4f1e2d3c`)).toBe(index.digest);
    });

    it('a registry that keeps failing: three tries, then exit 1 naming the destination and the status', async () => {
      await proxy?.close();
      proxy = await startFaultProxy(registry.host, [{ times: 100, fault: { status: 503 }, match: isManifestPut }]);
      const r = await build([`${proxy.host}/failing`]);

      expect(r.code).toBe(1);
      expect(proxy.seen.filter(isManifestPut)).toHaveLength(3);
      expect(r.stderr).toContain(`buildah could not push to ${proxy.host}/failing/team/app:c-4f1e2d3c (HTTP 503)`);
    });

    it('a final error (403 on the upload) is not tried again', async () => {
      await proxy?.close();
      proxy = await startFaultProxy(registry.host, [{ times: 100, fault: { status: 403 }, match: isUploadStart }]);
      const r = await build([`${proxy.host}/denied`]);

      expect(r.code).toBe(1);
      expect(proxy.seen.filter(isUploadStart)).toHaveLength(1);
      expect(r.log()).not.toMatch(/trying again/);
    });
  });

  it('21 destinations on a registry that refuses connections: the run stops trying after the first pushes', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const repositories = Array.from({ length: 7 }, (_, i) => `${closed}/down${i}`);
    const started = Date.now();
    const r = await build(repositories, { tags: ['a', 'b'] });
    const seconds = (Date.now() - started) / 1000;
    const attempts = r.log().match(/^\[push \d+\/21\] image-builder: pushing /gm) ?? [];
    console.log(`unreachable registry: 21 destinations failed in ${seconds.toFixed(1)} s (whole CLI run, build included), ${attempts.length} push attempts`);

    expect(r.code).toBe(1);
    expect(attempts.length).toBeLessThanOrEqual(4);
    expect(r.stderr).toMatch(new RegExp(`buildah could not push to .*${closed}/down6/team/app:c-4f1e2d3c.*registry unreachable`));
    expect(r.log().match(/^image-builder: not pushed: .*not tried: /gm) ?? []).toHaveLength(21 - attempts.length);
    // One after the other, at buildah's default of 3 tries 2 s apart, this took 21 × 6 s.
    expect(seconds).toBeLessThan(60);
  });

  describe('what was pushed is decided by buildah and the registry, never by a file in the log folder', () => {
    let signer: FakeSigner;
    beforeAll(async () => {
      signer = await startFakeSigner();
    });
    afterAll(async () => signer?.stop());

    it('a log folder on a full disk: the push is still reported with its digest, signed, and the run exits 0', async (ctx) => {
      const mountPoint = tempDir('full-disk');
      const mount = await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { reject: false });
      if (mount.exitCode !== 0) {
        console.warn(`\n!!! cannot mount a tmpfs (${mount.stderr.trim()}): the full-disk test is SKIPPED !!!\n`);
        ctx.skip();
      }
      try {
        const logDir = path.join(mountPoint, 'logs');
        mkdirSync(logDir);
        await execa('sh', ['-c', `cat /dev/zero > ${path.join(mountPoint, 'filler')}`], { reject: false });
        expect(() => writeFileSync(path.join(mountPoint, 'probe'), 'x'.repeat(8192))).toThrow(/ENOSPC/);

        signer.script('/sign', [{ status: 200 }]);
        const secret = path.join(tempDir('secret'), 'token');
        writeFileSync(secret, 'notary-token');
        const dir = project();
        const outputs = path.join(dir, 'github_output');
        writeFileSync(outputs, '');
        const config = writeConfig(
          `registry: ${registry.host}/full\nsign-config:\n  enabled-signers:\n    "*": [notary]\n  signers:\n` +
            `    - {name: notary, type: notary, config: {endpoint: "${signer.url}/sign", timeout: 5s, retry-timeout: 100ms, secret: {path: ${secret}, type: token}}}\n`,
        );
        const r = await runCli(
          ['--name=team/app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', `--log-dir=${logDir}`, '--tag=v1', `--build-report-path=${path.join(dir, 'report.json')}`],
          { env: baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: cacheDir, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputs }), timeoutMs: 180_000 },
        );

        expect(r.stderr).toMatch(/cannot write .*build_build\.log: .*ENOSPC|no space left/i);
        expect(r.code).toBe(0);
        const served = await getManifest(registry, 'full/team/app', 'v1');
        expect(pushedLines(r.stderr).get(`${registry.host}/full/team/app:v1`)).toBe(served.digest);
        const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
        expect(report).toMatchObject({ status: 'succeeded', pushed: true, signed: true, digest: served.digest });
        expect(readFileSync(outputs, 'utf8')).toContain(`${registry.host}/full/team/app:v1`);
        const signed = JSON.parse(signer.requestsTo('/sign')[0]?.body ?? '[]') as { notaryGun: string; version: string }[];
        expect(signed.map((s) => `${s.notaryGun}:${s.version}`).sort()).toEqual([...pushedLines(r.stderr).keys()].sort());
        expect(signed).toHaveLength(2);
        expect(readdirSync(logDir)).toEqual(['build_build.log']);
      } finally {
        await execa('umount', [mountPoint], { reject: false });
      }
    });

    it('a buildah that wrote no digest file: the digests are the registry\'s answer', async () => {
      // A stand-in that runs the real buildah without its --digestfile, as when the file could not be written.
      const wrapper = path.join(tempDir('no-digest'), 'buildah');
      writeFileSync(
        wrapper,
        '#!/bin/sh\nfor arg; do shift; if [ "$skip" = 1 ]; then skip=; continue; fi; [ "$arg" = --digestfile ] && { skip=1; continue; }; set -- "$@" "$arg"; done\nexec buildah "$@"\n',
        { mode: 0o755 },
      );
      const r = await build([`${registry.host}/nodigest`], { env: { BUILDAH: wrapper }, tags: ['v1'] });

      expect(r.code).toBe(0);
      expect(r.log()).toMatch(/nodigest\/team\/app:v1 is sha256:[0-9a-f]{64} \(the registry's answer\)/);
      await expectPushed(r.stderr, ['nodigest'], ['v1', 'c-4f1e2d3c']);
      expect(readdirSync(r.logDir)).toEqual(['build_build.log']);
    });
  });
});
