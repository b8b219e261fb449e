import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Logger } from '../../src/output/logger.js';
import { prepareSigning, runSigners } from '../../src/sign/run.js';
import type { RunContext } from '../../src/support/context.js';
import { startFakeSigner, type FakeReply, type FakeSigner } from '../support/fake-signer.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage, type PushedTestImage } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir, testContext } from '../support/tools.js';

const ready = requireTool('docker-registry', 'apt-get install docker-registry');
const TOKEN = 'notary-unit-token-4Fq9';
const BEARER = 'notary-unit-bearer-8Zr2';

/** One notary signer from a config.yaml snippet (so the schema's defaults apply), run through prepareSigning + runSigners. */
async function signWith(signerYaml: string, images: string[], run: Pick<RunContext, 'signal' | 'sleep'> = { signal: new AbortController().signal }) {
  const { config } = parseConfig(`sign-config:\n  enabled-signers: {"*": [n]}\n  signers:\n    - ${signerYaml}\n`, 'config.yaml');
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
  const io = testContext({ env: { HOME: tempDir('home') }, log: new Logger(stream, true), ...run });
  const failures = await runSigners(await prepareSigning(config['sign-config']?.signers ?? [], io), images, io);
  return { failures, log: lines.join('') };
}

function secretFile(text: string): string {
  const file = path.join(tempDir('secret'), 'secret');
  writeFileSync(file, text);
  return file;
}

afterAll(removeTempDirs);

describe.skipIf(!ready)('notary signer: the request of each secret type, against a real registry and the fake signing service', () => {
  let registry: TestRegistry;
  let signer: FakeSigner;
  let image: PushedTestImage;

  beforeAll(async () => {
    [registry, signer] = await Promise.all([startRegistry(), startFakeSigner()]);
    image = await pushTestImage(registry.url, 'team/app', 'v1');
  });
  afterAll(async () => Promise.all([registry?.stop(), signer?.stop()]));

  const config = (secret: string) => `{name: n, type: notary, config: {endpoint: "${signer.url}/sign", timeout: 2s, retry-timeout: 10ms${secret}}}`;

  it.each<[string, () => string, FakeReply[], string | undefined]>([
    ['no secret: no Authorization header, the token body, 200', () => '', [{ status: 200 }], undefined],
    ['token: the trimmed token', () => `, secret: {path: ${secretFile(` ${TOKEN}\n`)}, type: token}`, [{ status: 200 }], `Token ${TOKEN}`],
    [
      'signify: the bearer token fetched with the payload',
      () => `, secret: {path: ${secretFile(`endpoint: ${signer.url}/token\npayload: '{"id":"x"}'\n`)}, type: signify}`,
      [{ status: 200 }],
      `Bearer ${BEARER}`,
    ],
  ])('%s', async (_, secret, replies, authorization) => {
    signer.script('/token', [{ status: 200, body: JSON.stringify({ access_token: { token: BEARER } }) }]);
    signer.script('/sign', replies);
    const { failures, log } = await signWith(config(secret()), [`${registry.host}/team/app:v1`]);
    expect(failures).toEqual([]);
    expect(log).toContain(`n: signed ${registry.host}/team/app:v1`);
    const [request, ...more] = signer.requestsTo('/sign');
    expect(more).toEqual([]);
    expect(request?.headers.authorization).toBe(authorization);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toBe(JSON.stringify([{ notaryGun: `${registry.host}/team/app`, sha256: image.configDigest.slice(7), byteSize: image.configSize, version: 'v1' }]));
  });

  it.each<[string, FakeReply[], number, string]>([
    ['no secret: a 5xx is retried, the same body each try', [{ status: 503 }, { status: 200 }], 2, ''],
    ['no secret: 401 is final, with a hint that the signer has no secret', [{ status: 401, body: 'authentication required' }], 1, 'n: signing 1 image failed after 1 try: HTTP 401 Unauthorized: authentication required (this signer has no secret and signs without authentication; add config.secret if the service needs one)'],
    ['no secret: 400 is final, no hint', [{ status: 400, body: 'bad gun' }], 1, 'n: signing 1 image failed after 1 try: HTTP 400 Bad Request: bad gun'],
    ['no secret: 202 is not the token protocol\'s success', [{ status: 202 }], 5, 'n: signing 1 image failed after 5 tries: HTTP 202 Accepted'],
  ])('%s', async (_, replies, tries, failure) => {
    signer.script('/sign', replies);
    const { failures } = await signWith(config(''), [`${registry.host}/team/app:v1`]);
    expect(failures).toEqual(failure ? [failure] : []);
    const requests = signer.requestsTo('/sign');
    expect(requests).toHaveLength(tries);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('says each try, each failure and the next try in the log; the last failure announces none', async () => {
    signer.script('/sign', [{ status: 503 }, { status: 401 }]);
    const waits: number[] = [];
    const { log } = await signWith(config(''), [`${registry.host}/team/app:v1`], { signal: new AbortController().signal, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([10]);
    const lines = log.split('\n').filter((line) => / n: try | with n, /.test(line)).map((line) => line.replace(/^.*?(signing|n:)/, '$1'));
    expect(lines).toEqual([
      'signing 1 image with n, try 1 of 5',
      'n: try 1 of 5 failed: HTTP 503 Service Unavailable; next try in 10ms',
      'signing 1 image with n, try 2 of 5',
      'n: try 2 of 5 failed: HTTP 401 Unauthorized (final: not retried)',
    ]);
  });

  it('a stop during the wait between tries ends the signer at once', async () => {
    signer.script('/sign', [{ status: 503 }]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const slow = `{name: n, type: notary, config: {endpoint: "${signer.url}/sign", timeout: 2s, retry-timeout: 60s}}`;
    const { failures } = await signWith(slow, [`${registry.host}/team/app:v1`], { signal: controller.signal });
    expect(failures).toEqual(['n: signing 1 image failed after 1 try: stopped by signal']);
    expect(signer.requestsTo('/sign')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('no secret: an image the registry lacks fails the signer naming it; nothing is sent', async () => {
    signer.script('/sign', [{ status: 200 }]);
    const { failures } = await signWith(config(''), [`${registry.host}/team/app:missing`]);
    expect(failures).toEqual([`n: cannot sign 1 of 1 image, nothing was sent:\n    ${registry.host}/team/app:missing: not found in the registry (HTTP 404 MANIFEST_UNKNOWN)`]);
    expect(signer.requests).toEqual([]);
  });
});
