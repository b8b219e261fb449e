#!/usr/bin/env node
// Stand-in for /kaniko/executor, buildctl-daemonless.sh and buildah: records its argv, prints lines, writes the
// digest or metadata file its argv asks for, optionally sleeps (with a helper child, to test killing the group).
// Env: FAKE_BUILDER_RECORD_DIR, FAKE_BUILDER_SLEEP_MS, FAKE_BUILDER_EXIT, FAKE_BUILDER_FAIL_ON, FAKE_BUILDER_HELPER,
// FAKE_BUILDER_IGNORE_TERM.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const argv = process.argv.slice(2);
const env = process.env;
const digest = `sha256:${createHash('sha256').update(JSON.stringify(argv)).digest('hex')}`;

// Like buildctl-daemonless.sh starting buildkitd: a grandchild that must not outlive a stop.
const helper = env.FAKE_BUILDER_HELPER === '1' ? spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }) : undefined;
const helperPid = helper?.pid;
if (env.FAKE_BUILDER_RECORD_DIR) {
  mkdirSync(env.FAKE_BUILDER_RECORD_DIR, { recursive: true });
  const record = { argv, pid: process.pid, helperPid, time: Date.now() };
  writeFileSync(path.join(env.FAKE_BUILDER_RECORD_DIR, `${Date.now()}-${process.pid}.json`), JSON.stringify(record));
}
if (env.FAKE_BUILDER_IGNORE_TERM === '1') process.on('SIGTERM', () => console.log('fake-builder: ignoring SIGTERM'));

console.log(`fake-builder: started with ${argv.length} arguments`);
console.error('fake-builder: a line on stderr');
const ms = Number(env.FAKE_BUILDER_SLEEP_MS ?? '0');
if (ms > 0) await sleep(ms);

// FAKE_BUILDER_FAIL_ON fails only the calls with an argument containing it (e.g. one variant's build arg).
const failHere = env.FAKE_BUILDER_FAIL_ON !== undefined && argv.some((arg) => arg.includes(env.FAKE_BUILDER_FAIL_ON));
const code = failHere ? 1 : Number(env.FAKE_BUILDER_EXIT ?? '0');
if (code === 0) {
  argv.forEach((arg, i) => {
    const next = argv[i + 1];
    if (arg.startsWith('--digest-file=')) writeFileSync(arg.slice('--digest-file='.length), digest);
    if (arg === '--digestfile' && next) writeFileSync(next, digest);
    if (arg === '--metadata-file' && next) writeFileSync(next, JSON.stringify({ 'containerimage.digest': digest }));
  });
  console.log(`fake-builder: pushed ${digest}`);
} else {
  console.error(`fake-builder: failing with exit code ${code}`);
}
helper?.kill();
process.exit(code);
