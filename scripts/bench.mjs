// Prints performance figures: start-up of --parse-tags-only against bare node, and variant concurrency.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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

const runs = Number(process.env.BENCH_RUNS ?? 15);
startup(runs);
variants();
const ado = spawnSync(node, [join(root, 'scripts/bench-ado.mjs')], { stdio: 'inherit', timeout: 300_000 });
process.exitCode = ado.status ?? 1;
