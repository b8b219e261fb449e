// Prints the time to compute the inputs digest of a generated context of 1,000 files totalling 10 MB (target: under 300 ms).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, timeInputs, writeSourceFiles } from './bench-support.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const work = mkdtempSync(join(tmpdir(), 'ib-bench-inputs-'));
try {
  // 1,000 files in 20 folders, 10 KiB each, plus a Dockerfile and a .dockerignore that leaves out a folder of noise.
  const context = join(work, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), 'ARG BASE=alpine:3.20\nFROM ${BASE}\nARG COMMIT_SHA\nCOPY . /app\n');
  writeFileSync(join(context, '.dockerignore'), 'noise/\n*.tmp\n');
  writeSourceFiles(context);
  mkdirSync(join(context, 'noise'));
  for (let i = 0; i < 100; i++) writeFileSync(join(context, 'noise', `n${i}`), 'x');

  const unit = { contextDir: context, dockerfilePath: 'Dockerfile', buildArgs: { COMMIT_SHA: 'abc', TAG_default_tag: 'v1' }, platforms: ['linux/amd64', 'linux/arm64'] };
  const { first, times } = await timeInputs(unit, RUNS);
  const m = median(times);
  console.log(`inputs digest (${first.files} files, ${(first.bytes / 1e6).toFixed(1)} MB, ${RUNS} runs, median wall time)`);
  console.log(`  runs                           ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
  console.log(`  median                         ${m.toFixed(1)} ms (target < 300 ms)`);
  console.log(`  digest                         ${first.digest}`);
  process.exitCode = m < 300 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
