import { kanikoBackend } from '../../src/backends/kaniko.js';
import { buildkitBackend } from '../../src/backends/buildkit.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_RETRY_DELAYS_MS } from '../../src/registry/client.js';
import { makePlan } from '../support/plan-factory.js';
import { freePort, getManifest, startRegistry, type TestRegistry } from '../support/registry.js';
import { captureIO, installFakeBuilder, removeTempDirs, requireTool, tempDir } from '../support/tools.js';

const ready = requireTool('buildah', 'apt-get install buildah') && requireTool('docker-registry', 'apt-get install docker-registry');
const kaniko = kanikoBackend;
const buildkit = buildkitBackend;

afterAll(removeTempDirs);

/** A stand-in for a builder that pushed (or said so) and wrote no digest file: it only exits 0. */
function silentBuilder(): string {
  const file = path.join(tempDir('silent-builder'), 'builder');
  writeFileSync(file, '#!/bin/sh\necho "pushed, no digest file written"\nexit 0\n', { mode: 0o755 });
  return file;
}

describe.skipIf(!ready)('what a self-pushing builder pushed, when it wrote no digest file: the registry\'s answer', () => {
  let registry: TestRegistry;
  let digest: string;
  beforeAll(async () => {
    registry = await startRegistry();
    const store = tempDir('pushed-store');
    const global = ['--root', path.join(store, 'root'), '--runroot', path.join(store, 'runroot'), '--storage-driver=vfs'];
    const context = tempDir('pushed-context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    await execa('buildah', [...global, 'build', '--isolation=chroot', '-t', 'localhost/pushed:1', context]);
    await execa('buildah', [...global, 'push', '--tls-verify=false', 'localhost/pushed:1', `docker://${registry.host}/there/test-infra/app:v1`]);
    digest = (await getManifest(registry, 'there/test-infra/app', 'v1')).digest;
  }, 120_000);
  afterAll(async () => registry?.stop());

  const planFor = (repositories: string[]) => makePlan({ logDir: tempDir('pushed-logs'), repositories, tags: [{ name: 't', value: 'v1' }] });

  it.each([
    ['kaniko', kaniko, 'KANIKO_EXECUTOR'],
    ['buildkit', buildkit, 'BUILDCTL'],
  ] as const)('%s: reports the digest the registry serves', async (_name, backend, variable) => {
    const plan = planFor([`${registry.host}/there`]);
    const unit = plan.builds[0]!;
    const result = await backend.build(plan, unit, captureIO({ [variable]: silentBuilder() }).io);

    expect(result).toMatchObject({ ok: true, pushed: [{ reference: `${registry.host}/there/test-infra/app:v1`, digest }] });
    expect(readFileSync(unit.logFile, 'utf8')).toContain(`${registry.host}/there/test-infra/app:v1 is ${digest} (the registry's answer)`);
  });

  it('a destination the registry does not have fails the build, although the builder exited 0', async () => {
    const plan = planFor([`${registry.host}/there`, `${registry.host}/missing`]);
    const result = await kaniko.build(plan, plan.builds[0]!, captureIO({ KANIKO_EXECUTOR: silentBuilder() }).io);

    expect(result.ok).toBe(false);
    expect(result.pushed).toEqual([{ reference: `${registry.host}/there/test-infra/app:v1`, digest }]);
    expect(result.error).toBe(`the builder reported success, but the registry does not have ${registry.host}/missing/test-infra/app:v1`);
  });

  it('a registry that cannot be asked: pushed as the builder says, digest unknown and logged', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const plan = planFor([closed]);
    const unit = plan.builds[0]!;
    const captured = captureIO({ KANIKO_EXECUTOR: silentBuilder() });
    const result = await kaniko.build(plan, unit, captured.io);

    expect(result).toMatchObject({ ok: true, pushed: [{ reference: `${closed}/test-infra/app:v1` }] });
    expect(result.pushed[0]!.digest).toBeUndefined();
    // The registry client's retries, asked of the run's sleep (not waited here).
    expect(captured.waits()).toEqual(READ_RETRY_DELAYS_MS);
    expect(readFileSync(unit.logFile, 'utf8')).toMatch(/test-infra\/app:v1 pushed; its digest is unknown: .*registry unreachable/);
  });

  it('no usable private folder (TMPDIR is a file): the builder is asked for no digest file, and the registry answers', async () => {
    const fake = installFakeBuilder();
    const notADir = path.join(tempDir('tmpdir'), 'file');
    writeFileSync(notADir, '');
    const plan = planFor([`${registry.host}/there`]);
    const unit = plan.builds[0]!;
    const result = await kaniko.build(plan, unit, captureIO({ KANIKO_EXECUTOR: fake.path, FAKE_BUILDER_RECORD_DIR: fake.recordDir, TMPDIR: notADir }).io);

    expect(fake.calls()[0]!.argv.some((arg) => arg.startsWith('--digest-file'))).toBe(false);
    expect(result).toMatchObject({ ok: true, pushed: [{ reference: `${registry.host}/there/test-infra/app:v1`, digest }] });
    expect(readFileSync(unit.logFile, 'utf8')).toMatch(/cannot use a private folder in .*digests will be read from the registry/);
    expect(readdirSync(path.dirname(unit.logFile))).toEqual([path.basename(unit.logFile)]);
  });
});
