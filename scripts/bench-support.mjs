// What the inputs digest and reuse benches share: the median, the generated context, the inputs module timed alone.
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

export const FILES = 1000;
export const FILE_BYTES = 10 * 1024;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** FILES random files of FILE_BYTES in 20 folders of context. */
export function writeSourceFiles(context) {
  for (let i = 0; i < FILES; i++) {
    const dir = join(context, `pkg${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.go`), randomBytes(FILE_BYTES));
  }
}

/**
 * The inputs of unit once to warm the page cache (as a fresh checkout is), then the wall time of `runs` more, with
 * src/inputs bundled alone as the CLI bundles it. Throws when the digest changes between runs.
 */
export async function timeInputs(unit, runs) {
  const work = mkdtempSync(join(tmpdir(), 'ib-bench-inputs-module-'));
  try {
    const bundle = join(work, 'inputs.cjs');
    await build({ entryPoints: [join(root, 'src/inputs/index.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
    const { computeInputs } = createRequire(import.meta.url)(bundle);
    const first = await computeInputs(unit);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const inputs = await computeInputs(unit);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (inputs.digest !== first.digest) throw new Error(`the digest changed between runs: ${first.digest} then ${inputs.digest}`);
    }
    return { first, times };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The wall time of `runs` reads of unit's context that also write the private snapshot a build with reuse reads
 * (scanInputs with snapshotDir), each into a fresh folder, removed after it was timed.
 */
export async function timeSnapshot(unit, runs) {
  const work = mkdtempSync(join(tmpdir(), 'ib-bench-snapshot-'));
  try {
    const bundle = join(work, 'inputs.cjs');
    await build({ entryPoints: [join(root, 'src/inputs/index.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle, logLevel: 'warning' });
    const { scanInputs } = createRequire(import.meta.url)(bundle);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const snapshotDir = mkdtempSync(join(work, 'snapshot-'));
      const t0 = process.hrtime.bigint();
      await scanInputs(unit, { snapshotDir });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      rmSync(snapshotDir, { recursive: true, force: true });
    }
    return times;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
