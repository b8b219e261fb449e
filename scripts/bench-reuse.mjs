// Prints the wall time of a whole CLI build with --reuse (buildah, a real registry on 127.0.0.1) of a Dockerfile whose
// RUN step takes 5 s and which COPYs a context of 1,000 files (10 MB), then of the same run again with nothing changed
// (target: at most 10 % of the first, the attestation's verification and the context's snapshot included), the time to
// compute the inputs digest of that context (target: under 300 ms), and the cost of the private snapshot a build reads.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, timeInputs, timeSnapshot, writeSourceFiles } from './bench-support.mjs';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/image-builder');
const DIGEST_RUNS = Number(process.env.BENCH_RUNS ?? 5);

function need(tool) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return true;
  console.log(`reuse: SKIPPED (${tool} is not installed)`);
  return false;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** docker-registry on 127.0.0.1, storing under work; answers within 10 s or throws. */
async function startRegistry(work) {
  const host = `127.0.0.1:${await freePort()}`;
  const config = join(work, 'registry.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: ${host}\n`);
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false)) return { host, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not answer within 10 s');
}

/** A busybox base image, made offline (as test/support/shell-image.ts does), pushed as <host>/fixtures/shell:1. */
function pushShellImage(work, host) {
  const rootfs = join(work, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const command of ['sh', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', command));
  const store = ['--root', join(work, 'shell-store/root'), '--runroot', join(work, 'shell-store/runroot'), '--storage-driver=vfs'];
  const buildah = (...args) => {
    const r = spawnSync('buildah', [...store, ...args], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`buildah ${args[0]}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const container = buildah('from', 'scratch');
  buildah('copy', container, `${rootfs}/`, '/');
  buildah('config', '--env', 'PATH=/bin', container);
  buildah('commit', '--tls-verify=false', container, `docker://${host}/fixtures/shell:1`);
  buildah('rm', container);
  return `${host}/fixtures/shell:1`;
}

/** 1,000 files of 10 KiB in 20 folders, and a Dockerfile that sleeps 5 s, then copies them. */
function makeContext(work, base) {
  const context = join(work, 'context');
  writeSourceFiles(context);
  writeFileSync(join(context, 'Dockerfile'), `FROM ${base}\nRUN sleep 5\nCOPY . /app\n`);
  return context;
}

function runCli(args, env) {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`image-builder exited ${code}:\n${stderr}`));
      else resolvePromise({ ms, stderr });
    });
  });
}

async function inputsDigestTime(context) {
  const { times } = await timeInputs({ contextDir: context, dockerfilePath: 'Dockerfile', buildArgs: {}, platforms: [] }, DIGEST_RUNS);
  return median(times);
}

if (need('buildah') && need('docker-registry') && need('busybox')) {
  const work = mkdtempSync(join(tmpdir(), 'ib-bench-reuse-'));
  const registry = await startRegistry(work);
  try {
    const context = makeContext(work, pushShellImage(work, registry.host));
    // The run signs and attests with a cosign key: the second run trusts what the first attested, as a postsubmit does.
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(work, 'cosign.key'), key);
    writeFileSync(
      join(work, 'config.yaml'),
      `registry: ${registry.host}/bench\nsign-config:\n  enabled-signers: {"*": [bench]}\n  signers:\n    - {name: bench, type: cosign, config: {key: ${join(work, 'cosign.key')}}}\n`,
    );
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PULL_BASE_SHA: '0123456789abcdef0123456789abcdef01234567', IMAGE_BUILDER_CACHE_DIR: join(work, 'cache'), TMPDIR: work };
    const args = (run) => ['--name=app', `--config=${join(work, 'config.yaml')}`, `--context=${context}`, '--backend=buildah', '--reuse', '--silent', '--debug', `--log-dir=${join(work, `logs-${run}`)}`];
    const first = await runCli(args(1), env);
    if (!/reuse \(build\): no image tagged inputs-/.test(first.stderr)) throw new Error(`the first run did not build:\n${first.stderr}`);
    const second = await runCli(args(2), env);
    if (!/reuse \(build\): not built/.test(second.stderr)) throw new Error(`the second run did not reuse:\n${second.stderr}`);
    const scan = /inputs: read (\d+) files \((\d+) bytes\) of the context \S+ in (\d+) ms/.exec(second.stderr);
    const snapshotted = /inputs: read the context again into the private snapshot \S+ in (\d+) ms/.exec(first.stderr);
    const digestMs = await inputsDigestTime(context);
    const snapshotMs = median(await timeSnapshot({ contextDir: context, dockerfilePath: 'Dockerfile' }, DIGEST_RUNS));
    const ratio = second.ms / first.ms;
    console.log(`reuse (buildah, RUN sleep 5, COPY of ${scan?.[1] ?? '?'} files / ${(Number(scan?.[2] ?? 0) / 1e6).toFixed(1)} MB, registry on 127.0.0.1, whole CLI runs)`);
    console.log(`  first run (built, pushed, tagged)    ${(first.ms / 1000).toFixed(2)} s`);
    console.log(`  second run (nothing changed: reused) ${(second.ms / 1000).toFixed(2)} s`);
    console.log(`  ratio                                ${(ratio * 100).toFixed(1)} % (target <= 10 %)`);
    console.log(`  inputs digest of that context        ${digestMs.toFixed(1)} ms median of ${DIGEST_RUNS} (target < 300 ms)`);
    console.log(`  the same read writing the snapshot   ${snapshotMs.toFixed(1)} ms median of ${DIGEST_RUNS} (made only when a unit is built: the first run's took ${snapshotted?.[1] ?? '?'} ms, the second run made none)`);
    process.exitCode = ratio <= 0.1 && digestMs < 300 ? 0 : 1;
  } finally {
    registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
