// Prints performance figures: start-up of --parse-tags-only against bare node, variant concurrency, the memory
// of a build whose builder prints hundreds of MB; then the ADO log, inputs digest and reuse benches.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, cpSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './bench-support.mjs';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/image-builder');
const node = process.execPath;
const env = { PATH: process.env.PATH, HOME: process.env.HOME, PULL_BASE_SHA: '0123456789abcdef0123456789abcdef01234567' };

function wall(args, extraEnv = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(args[0] === bin ? bin : node, args[0] === bin ? args.slice(1) : args, { env: { ...env, ...extraEnv }, cwd: root, encoding: 'utf8', timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  wall.lastStderr = r.stderr;
  return ms;
}

function startup(runs) {
  const cli = [bin, '--parse-tags-only', `--config=${join(root, 'config.yaml')}`, '--tag', 'latest'];
  wall(['-e', '0']);
  wall(cli);
  const bare = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    bare.push(wall(['-e', '0']));
    ours.push(wall(cli));
  }
  const b = median(bare);
  const o = median(ours);
  console.log(`start-up (${runs} alternated runs each, median wall time)`);
  console.log(`  node -e 0                      ${b.toFixed(1)} ms`);
  console.log(`  image-builder --parse-tags-only ${o.toFixed(1)} ms`);
  console.log(`  ratio                          ${(o / b).toFixed(2)}x bare node (target <= 1.30x)`);
}

function variants() {
  const dir = mkdtempSync(join(tmpdir(), 'ib-bench-'));
  cpSync(join(root, 'variants/Dockerfile'), join(dir, 'Dockerfile'));
  writeFileSync(join(dir, 'variants.yaml'), ['a', 'b', 'c', 'd'].map((v) => `${v}: {V: "${v}"}`).join('\n'));
  writeFileSync(join(dir, 'config.yaml'), 'registry: 127.0.0.1:5999/bench\n');
  const stand = join(root, 'test/support/fake-builder.sh');
  if (!existsSync(stand)) throw new Error(`missing stand-in builder ${stand}`);
  const ms = wall(
    [bin, '--name=bench', `--config=${join(dir, 'config.yaml')}`, `--context=${dir}`, '--backend=kaniko', `--log-dir=${join(dir, 'logs')}`, '--silent'],
    { KANIKO_EXECUTOR: stand, FAKE_BUILDER_SLEEP_MS: '1000', FAKE_BUILDER_RECORD_DIR: join(dir, 'rec') },
  );
  console.log('variant concurrency (4 variants, stand-in builder taking 1 s each, whole CLI run)');
  const builds = /done in ([\d.]+)s/.exec(wall.lastStderr)?.[1];
  console.log(`  wall time, whole CLI run       ${(ms / 1000).toFixed(2)} s (target < 1.5 s)`);
  console.log(`  of which the four builds       ${builds ?? '?'} s`);
}

/** Peak RSS (VmHWM) of a process, in bytes, or 0 once it is gone. */
function peakRss(pid) {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * One whole CLI build whose stand-in builder prints `bytes`; our stderr is a pipe read at most `readMBps` (as a CI
 * runner that falls behind). Resolves with the CLI's peak RSS, what reached the pipe, the log size and the wall time.
 */
function loudBuild({ bytes, noNewline = false, readMBps }) {
  const dir = mkdtempSync(join(tmpdir(), 'ib-bench-loud-'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(dir, 'config.yaml'), 'registry: 127.0.0.1:5999/bench\n');
  const stand = join(dir, 'loud-builder');
  writeFileSync(stand, `#!/bin/sh\nexec /bin/sh '${join(root, 'test/support/loud-builder.sh')}' "$@"\n`, { mode: 0o755 });
  const args = ['--name=bench', `--config=${join(dir, 'config.yaml')}`, `--context=${dir}`, '--backend=kaniko', `--log-dir=${join(dir, 'logs')}`];
  const loudEnv = { ...env, KANIKO_EXECUTOR: stand, LOUD_BYTES: String(bytes), ...(noNewline ? { LOUD_NO_NEWLINE: '1' } : {}) };
  const t0 = Date.now();
  const child = spawn(bin, args, { env: loudEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  // VmHWM only grows: polling every 20 ms misses at most the last 20 ms of the run.
  let peak = 0;
  let received = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakRss(child.pid))), 20);
  // Read slowly: take a chunk, then wait as long as readMBps allows before taking the next.
  child.stderr.on('data', (chunk) => {
    received += chunk.length;
    child.stderr.pause();
    setTimeout(() => child.stderr.resume(), chunk.length / (readMBps * 1e3));
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      const log = statSync(join(dir, 'logs/build_build.log')).size;
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`loud build exited ${code}`));
      else resolvePromise({ peak, received, log, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

async function memory() {
  const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;
  console.log('memory of a whole CLI build run, stderr on a pipe read slowly (peak RSS of the CLI process, target < 150 MB)');
  const lines = await loudBuild({ bytes: 200e6, readMBps: 100 });
  console.log(`  200 MB in 100-byte lines, pipe read at 100 MB/s   peak RSS ${mb(lines.peak)}  (${mb(lines.received)} on stderr, ${mb(lines.log)} log, ${lines.seconds.toFixed(1)} s)`);
  const endless = await loudBuild({ bytes: 600e6, noNewline: true, readMBps: 100 });
  console.log(`  600 MB without a newline                          peak RSS ${mb(endless.peak)}  (${mb(endless.received)} on stderr, ${mb(endless.log)} log, ${endless.seconds.toFixed(1)} s)`);
}

// `node scripts/bench.mjs memory` prints one figure only.
const only = process.argv[2];
const runs = Number(process.env.BENCH_RUNS ?? 15);
if (!only || only === 'startup') startup(runs);
if (!only || only === 'variants') variants();
if (!only || only === "memory") await memory();
if (only) process.exit(0);
const ado = spawnSync(node, [join(root, 'scripts/bench-ado.mjs')], { stdio: 'inherit', timeout: 300_000 });
const inputs = spawnSync(node, [join(root, 'scripts/bench-inputs.mjs')], { stdio: 'inherit', timeout: 300_000 });
const reuse = spawnSync(node, [join(root, 'scripts/bench-reuse.mjs')], { stdio: 'inherit', timeout: 600_000 });
process.exitCode = (ado.status ?? 1) || (inputs.status ?? 1) || (reuse.status ?? 1);
