import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushShellImage } from '../support/shell-image.js';
import { isRunning, requireTool } from '../support/tools.js';

afterAll(removeTempDirs);

const haveTools = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';

/** What our store holds: working containers and images, by buildah's own listing. */
async function storeContents(cacheDir: string): Promise<{ containers: string[]; images: string[] }> {
  const store = ['--root', path.join(cacheDir, 'buildah', 'root'), '--runroot', path.join(cacheDir, 'buildah', 'runroot'), '--storage-driver=vfs'];
  const containers = (JSON.parse((await execa('buildah', [...store, 'containers', '--all', '--json'])).stdout) as { containername: string }[] | null) ?? [];
  const images = (JSON.parse((await execa('buildah', [...store, 'images', '--all', '--json'])).stdout) as { names: string[] | null }[] | null) ?? [];
  return { containers: containers.map((c) => c.containername), images: images.map((i) => (i.names ?? ['<none>']).join(',')) };
}

/** The CLI's stderr so far, and a way to wait (bounded) for a line in it. */
function started(child: ChildProcess): { stderr: () => string; waitFor: (re: RegExp, ms: number) => Promise<void> } {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    stderr: () => stderr,
    async waitFor(re, ms) {
      for (const until = Date.now() + ms; !re.test(stderr); ) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${re} within ${ms} ms; stderr:\n${stderr}`);
        await sleep(50);
      }
    },
  };
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', (code) => resolve(code))));

/** Children of pid, from /proc (the builder the CLI started, in its own process group). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(!haveTools)('a stopped build leaves nothing in the tool\'s buildah store', () => {
  let registry: TestRegistry;
  let base: string;
  let registriesConf: string;
  beforeAll(async () => {
    registry = await startRegistry();
    base = await pushShellImage(registry);
    // buildah pulls the base image over HTTPS unless told that this loopback registry speaks plain HTTP.
    registriesConf = path.join(tempDir('registries'), 'registries.conf');
    writeFileSync(registriesConf, `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`);
  }, 120_000);
  afterAll(async () => registry?.stop());

  /** A build of `FROM <shell image>` + `RUN <run>` (or of the Dockerfile given) pushing to repository. */
  function project(run: string, repository = `${registry.host}/stopped`, dockerfile = `FROM ${base}\nRUN ${run}\n`): { args: string[]; cacheDir: string; logDir: string } {
    const dir = tempDir('stopped');
    writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    const config = writeConfig(`registry: ${repository}\n`);
    const logDir = path.join(dir, 'logs');
    const args = ['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', `--log-dir=${logDir}`];
    return { args, cacheDir: tempDir('stopped-cache'), logDir };
  }

  // TMPDIR inside the test's temp root: a killed CLI cannot remove its private folder, removeTempDirs does.
  const env = (cacheDir: string) => baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: cacheDir, CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: tempDir('tmp') });

  it('SIGTERM during a RUN step: buildah ends the step and removes its working container itself', async () => {
    const { args, cacheDir } = project('echo building && sleep 60');
    const child = spawn(BIN, args, { env: env(cacheDir), stdio: ['ignore', 'ignore', 'pipe'] });
    const cli = started(child);
    await cli.waitFor(/^building$/m, 60_000);
    expect((await storeContents(cacheDir)).containers).toHaveLength(1);
    child.kill('SIGTERM');

    expect(await exited(child)).toBe(143);
    expect(await storeContents(cacheDir)).toEqual({ containers: [], images: [base] });
  }, 120_000);

  it.each([
    { name: 'one platform', platforms: [], images: 1, dockerfile: undefined },
    // A manifest list and an image per platform; FROM scratch, as the shell image has one platform.
    { name: 'two platforms', platforms: ['--platform=linux/amd64,linux/arm64'], images: 3, dockerfile: 'FROM scratch\nCOPY Dockerfile /\n' },
  ])('SIGTERM while pushing ($name): the CLI removes the images it built before exiting', async ({ platforms, images, dockerfile }) => {
    const proxy = await startFaultProxy(registry.host, [{ times: 1000, fault: 'hang', match: (r) => r.url.includes('/stopped/') }]);
    try {
      const { args, cacheDir, logDir } = project('echo building', `${proxy.host}/stopped`, dockerfile);
      const child = spawn(BIN, [...args, ...platforms], { env: env(cacheDir), stdio: ['ignore', 'ignore', 'pipe'] });
      const cli = started(child);
      await cli.waitFor(/^image-builder: pushing /m, 60_000);
      const stopping = Date.now();
      child.kill('SIGTERM');
      const code = await exited(child);
      console.log(`stopped while pushing (${platforms.length ? 'two platforms' : 'one platform'}): the CLI exited ${Date.now() - stopping} ms after SIGTERM`);

      expect(code).toBe(143);
      expect(await storeContents(cacheDir)).toEqual({ containers: [], images: dockerfile ? [] : [base] });
      const removal = `removing 0 working containers and ${images} ${images === 1 ? 'image' : 'images'} left by the stopped build`;
      expect(cli.stderr()).toContain(removal);
      expect(readFileSync(path.join(logDir, 'build_build.log'), 'utf8')).toContain(removal);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('a run killed with SIGKILL (its builder too) leaves a working container; the next run removes it before building', async () => {
    const { args, cacheDir } = project('echo building && sleep 60');
    const child = spawn(BIN, args, { env: env(cacheDir), stdio: ['ignore', 'ignore', 'pipe'] });
    const cli = started(child);
    await cli.waitFor(/^building$/m, 60_000);
    const builders = childrenOf(child.pid!);
    expect(builders.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited(child);
    // The builder runs in a process group of its own: kill it as a CI runner ending the job's container does.
    for (const pid of builders) process.kill(-pid, 'SIGKILL');
    for (let i = 0; i < 100 && builders.some(isRunning); i++) await sleep(50);
    expect(builders.filter(isRunning)).toEqual([]);
    expect((await storeContents(cacheDir)).containers).toHaveLength(1);

    const next = project('echo second run');
    const r = await runCli(next.args, { env: env(cacheDir), timeoutMs: 120_000 });
    expect(r.stderr).toMatch(/removing 1 working container and \d+ images? left by an earlier run/);
    expect(r.code).toBe(0);
    expect(await storeContents(cacheDir)).toEqual({ containers: [], images: [base] });
  }, 180_000);

  it('a store another live image-builder uses keeps its containers; once that process is gone, the next run removes them', async () => {
    const cacheDir = tempDir('shared-cache');
    const store = path.join(cacheDir, 'buildah');
    const global = ['--root', path.join(store, 'root'), '--runroot', path.join(store, 'runroot'), '--storage-driver=vfs'];
    await execa('buildah', [...global, 'from', 'scratch']);
    // Another run, as the store's users folder records it: <pid>-<start time> of a live process.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    mkdirSync(path.join(store, 'users'), { recursive: true });
    writeFileSync(path.join(store, 'users', `${other.pid}-${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`), '');
    const quick = (name: string) => project('', `${registry.host}/shared`, `FROM scratch\nCOPY Dockerfile /${name}\n`);
    try {
      const first = await runCli(quick('first').args, { env: env(cacheDir), timeoutMs: 120_000 });
      expect(first.code).toBe(0);
      expect(first.stderr).not.toMatch(/removing/);
      expect((await storeContents(cacheDir)).containers).toEqual(['working-container']);
    } finally {
      other.kill('SIGKILL');
      await exited(other);
    }
    const second = await runCli(quick('second').args, { env: env(cacheDir), timeoutMs: 120_000 });
    expect(second.stderr).toMatch(/removing 1 working container and 0 images left by an earlier run/);
    expect(second.code).toBe(0);
    expect(await storeContents(cacheDir)).toEqual({ containers: [], images: [] });
    expect(readdirSync(path.join(store, 'users'))).toEqual([]);
  }, 180_000);
});
