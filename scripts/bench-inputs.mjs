// Prints the time to compute the inputs digest of a generated context of 1,000 files totalling 10 MB (target: under 300 ms).
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const FILES = 1000;
const FILE_BYTES = 10 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const work = mkdtempSync(join(tmpdir(), 'ib-bench-inputs-'));
try {
  // The module alone, bundled as the CLI bundles it.
  const bundle = join(work, 'inputs.cjs');
  await build({ entryPoints: [join(root, 'src/inputs/index.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
  const { computeInputs } = createRequire(import.meta.url)(bundle);

  // 1,000 files in 20 folders, 10 KiB each, plus a Dockerfile and a .dockerignore that leaves out a folder of noise.
  const context = join(work, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), 'ARG BASE=alpine:3.20\nFROM ${BASE}\nARG COMMIT_SHA\nCOPY . /app\n');
  writeFileSync(join(context, '.dockerignore'), 'noise/\n*.tmp\n');
  for (let i = 0; i < FILES; i++) {
    const dir = join(context, `pkg${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.go`), randomBytes(FILE_BYTES));
  }
  mkdirSync(join(context, 'noise'));
  for (let i = 0; i < 100; i++) writeFileSync(join(context, 'noise', `n${i}`), 'x');

  const unit = { contextDir: context, dockerfilePath: 'Dockerfile', buildArgs: { COMMIT_SHA: 'abc', TAG_default_tag: 'v1' }, platforms: ['linux/amd64', 'linux/arm64'] };
  const first = await computeInputs(unit); // warms the page cache, as a fresh checkout is
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const inputs = await computeInputs(unit);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (inputs.digest !== first.digest) throw new Error(`the digest changed between runs: ${first.digest} then ${inputs.digest}`);
  }
  const m = median(times);
  console.log(`inputs digest (${first.files} files, ${(first.bytes / 1e6).toFixed(1)} MB, ${RUNS} runs, median wall time)`);
  console.log(`  runs                           ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
  console.log(`  median                         ${m.toFixed(1)} ms (target < 300 ms)`);
  console.log(`  digest                         ${first.digest}`);
  process.exitCode = m < 300 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
