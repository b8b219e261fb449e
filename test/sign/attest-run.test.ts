import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/backends/backend.js';
import type { Signer } from '../../src/config/schema.js';
import { Logger } from '../../src/output/logger.js';
import { attestPushed, startProvenance } from '../../src/sign/provenance-run.js';
import { prepareSigning } from '../../src/sign/run.js';
import { generateTestKey, readStoredSignatures, verifiedStatement } from '../support/cosign.js';
import { makePlan } from '../support/plan-factory.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage, type PushedTestImage } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir, testContext } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const key = generateTestKey();

afterAll(removeTempDirs);

describe.skipIf(!ready)('attestPushed: the run step that signs and attaches provenance, against a real registry', () => {
  let registry: TestRegistry;
  let image: PushedTestImage;
  let base: PushedTestImage;

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushTestImage(registry.url, 'team/app', 'v1');
    base = await pushTestImage(registry.url, 'bases/go', '1.22', { architecture: 'arm64' });
  });
  afterAll(async () => registry?.stop());

  /** Plans a build of team/app:v1 from a Dockerfile pulling the base and an unreachable image, then attests the push. */
  async function attest(config: Record<string, unknown> = {}, options: { provenance?: boolean; repository?: string } = {}) {
    const dir = tempDir('attest');
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${registry.host}/bases/go:1.22 AS build\nFROM 127.0.0.1:1/nowhere/base:1\nCOPY --from=build / /\n`);
    writeFileSync(path.join(dir, 'cosign.key'), key.pkcs8);
    const signer = { name: 'cosign-main', type: 'cosign', config: { key: path.join(dir, 'cosign.key'), 'docker-media-types': false, ...config } } as Signer;
    const repository = options.repository ?? registry.host;
    const plan = makePlan({ context: dir, dockerfile: path.join(dir, 'Dockerfile'), repositories: [repository], name: 'team/app', tags: [{ name: 'v', value: 'v1' }], provenance: options.provenance ?? true, signers: [signer] });
    const lines: string[] = [];
    const log = new Logger(new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }), false);
    const ctx = testContext({ log, sleep: async () => {} });
    const signing = await prepareSigning([signer], ctx);
    const run = startProvenance(plan, signing, ctx);
    const results: BuildResult[] = [{ ok: true, pushed: [{ reference: `${repository}/team/app:v1`, digest: image.digest }], logFile: '' }];
    const failures = run ? await attestPushed(run, plan, signing, results, ctx) : undefined;
    return { failures, log: lines.join('') };
  }

  it('appends one attestation per run (the first kept); base images resolved by the registry, an unreachable one listed without digest', async () => {
    const first = await attest();
    expect(first.failures).toEqual([]);
    expect(first.log).toContain('warning: provenance: base image 127.0.0.1:1/nowhere/base:1 not resolved');
    const again = await attest();
    expect(again.log).toContain('(2 attestations)');
    const stored = await readStoredSignatures(registry.url, 'team/app', image.digest, {}, '.att');
    expect(stored?.signatures).toHaveLength(2);
    const statements = stored!.signatures.map((s) => verifiedStatement(s.payload, key.publicKey) as { predicate: { buildDefinition: { resolvedDependencies: unknown[] } } });
    // Base images in the analyser's order: sorted by name.
    expect(statements[0]?.predicate.buildDefinition.resolvedDependencies).toEqual([
      { name: 'source', digest: { gitCommit: '0123456789abcdef0123456789abcdef01234567' } },
      { uri: 'docker://127.0.0.1:1/nowhere/base:1' },
      { uri: `docker://${registry.host}/bases/go:1.22`, digest: { sha256: base.digest.slice(7) } },
    ]);
  });

  it('repository: the attestation goes where the signatures go, none beside the image', async () => {
    const other = await pushTestImage(registry.url, 'elsewhere/team/app', 'v1');
    const { failures } = await attest({ repository: `${registry.host}/signatures/store` }, { repository: `${registry.host}/elsewhere` });
    expect(failures).toEqual([]);
    expect(other.digest).toBe(image.digest);
    const stored = await readStoredSignatures(registry.url, 'signatures/store', image.digest, {}, '.att');
    expect(verifiedStatement(stored!.signatures[0]!.payload, key.publicKey)).toMatchObject({ subject: [{ name: `${registry.host}/elsewhere/team/app` }] });
  });

  it('a registry that cannot be written fails the signer, naming the image; provenance off: nothing started', async () => {
    const { failures } = await attest({}, { repository: '127.0.0.1:1/down' });
    expect(failures).toEqual([expect.stringMatching(/^cosign-main: provenance not attached for 1 of 1:\n {4}127\.0\.0\.1:1\/down\/team\/app/)]);
    expect((await attest({}, { provenance: false })).failures).toBeUndefined();
  });
});
