// Throughput and peak memory of the ADO log extraction: a generated 200 MB ADO-style log streamed through
// processLog (the CLI's code path: report and --images-to-sign scan, secret masking, copy to a sink) in a child process.
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';

const root = resolve(import.meta.dirname, '..');
const bundle = join(root, 'dist/ado-logs.cjs');
const MB = 1e6;
const SECRET = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.bench-oidc-signature';

/** Runs in the child: streams the file through processLog and reports time and peak RSS as JSON. */
async function child(file, chunkBytes) {
  const { processLog, Secrets } = createRequire(import.meta.url)(bundle);
  const secrets = new Secrets();
  secrets.add(SECRET);
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const t0 = process.hrtime.bigint();
  const findings = await processLog(createReadStream(file, { highWaterMark: chunkBytes }), { sink, secrets });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, bytes: findings.bytes, maxRssKiB: process.resourceUsage().maxRSS, images: findings.report?.images_list ?? [], signLineImages: findings.signLineImages }));
}

/** ~1 MB of varied timestamped build output, written repeatedly; the report block near the end. */
function generate(file, totalBytes) {
  const lines = [];
  for (let i = 0; i < 9000; i++) {
    const ts = new Date(Date.UTC(2024, 4, 1, 10, 0, 0) + i * 13).toISOString().replace('Z', '1234Z');
    const text =
      i % 1000 === 0 ? `[command]/usr/bin/python3 sign.py --images-to-sign=europe-docker.pkg.dev/kyma-project/prod/bench/app:v${i % 3}`
      : i % 7 === 0 ? `#${i} [builder 3/7] RUN go build -o /out/app ./cmd/app && echo done ${'.'.repeat(i % 40)}`
      : i % 5 === 0 ? `##[section]Starting: step_${i}`
      : `#${i} ${(i * 2654435761 >>> 0).toString(16)} sha256:${(i * 40503).toString(16).padStart(12, '0')} 1.${i % 10}MB / 42MB ${'='.repeat(i % 60)}>`;
    lines.push(`${ts} ${text}\r\n`);
  }
  const block = Buffer.from(lines.join(''));
  const report = {
    status: 'Succeeded', pushed: true, signed: true, image_name: 'bench/app',
    images_list: ['europe-docker.pkg.dev/kyma-project/prod/bench/app:v1', 'europe-docker.pkg.dev/kyma-project/prod/bench/app:latest'],
    digest: 'sha256:4f1c7e0a9b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e', tags: ['v1', 'latest'],
    repository_path: 'europe-docker.pkg.dev/kyma-project/prod/', architectures: ['linux/amd64', 'linux/arm64'],
  };
  const ts = '2024-05-01T12:00:00.1234567Z ';
  const tail = Buffer.from(
    [`Authorization: ${SECRET}`, '---IMAGE BUILD REPORT---', ...JSON.stringify(report, null, 4).split('\n'), '---END OF IMAGE BUILD REPORT---', '##[section]Finishing: report']
      .map((l) => `${ts}${l}\r\n`)
      .join(''),
  );
  const fd = openSync(file, 'w');
  let written = 0;
  while (written + block.length + tail.length <= totalBytes) written += writeSync(fd, block);
  written += writeSync(fd, tail);
  written += writeSync(fd, block.subarray(0, Math.max(0, totalBytes - written)));
  closeSync(fd);
  return { written, expected: report.images_list };
}

async function main() {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing; run "npm run build" first`);
  const size = Number(process.env.BENCH_ADO_LOG_MB ?? 200) * MB;
  const dir = mkdtempSync(join(tmpdir(), 'ib-bench-ado-'));
  try {
    const file = join(dir, 'ado.log');
    const { written, expected } = generate(file, size);
    const measure = (chunkBytes) => {
      const r = spawnSync(process.execPath, [import.meta.filename, '--child', file, String(chunkBytes)], { encoding: 'utf8', timeout: 300_000 });
      if (r.status !== 0) throw new Error(`the measuring child failed: ${r.stderr}`);
      const result = JSON.parse(r.stdout);
      if (result.bytes !== written || JSON.stringify(result.images) !== JSON.stringify(expected)) {
        throw new Error(`wrong extraction: read ${result.bytes} of ${written} bytes, images ${JSON.stringify(result.images)}`);
      }
      return { ...result, mbps: result.bytes / MB / (result.ms / 1000), rssMB: (result.maxRssKiB * 1024) / MB };
    };
    // 1 MiB reads measure our code; 64 KiB reads (an HTTP response's chunk size) add the file stream's per-chunk cost.
    const big = measure(1 << 20);
    const small = measure(1 << 16);
    console.log(`ADO log extraction (${(written / MB).toFixed(0)} MB generated log, report near the end, through processLog in a child)`);
    console.log(`  throughput, 1 MiB chunks       ${big.mbps.toFixed(0)} MB/s (target >= 200 MB/s)`);
    console.log(`  throughput, 64 KiB chunks      ${small.mbps.toFixed(0)} MB/s`);
    console.log(`  peak RSS                       ${Math.max(big.rssMB, small.rssMB).toFixed(0)} MB (target < 150 MB)`);
    console.log(`  found                          ${big.images.length} images in the report, ${big.signLineImages.length} on --images-to-sign= lines`);
    if (big.mbps < 200 || Math.max(big.rssMB, small.rssMB) >= 150) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
else await main();
