import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCollecting, writeConfig } from '../support/cli.js';
import { issueClientCertificate, makeCertificates, selfSignedClient, startAlertingServer, startFakeSigner, type FakeSigner, type TlsFiles } from '../support/fake-signer.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushTestImage } from '../support/token-registry.js';
import { removeTempDirs, requireTool, tempDir } from '../support/tools.js';

// Hardening 18.3: a signify-mtls client certificate out of date, close to its end, or refused by the service.
const ready = requireTool('docker-registry', 'apt-get install docker-registry') && requireTool('openssl', 'apt-get install openssl') && requireTool('buildah', 'apt-get install buildah');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ROTATE = 'a new certificate/key pair must be issued from the previous one before it expires';
const b64 = (text: string) => Buffer.from(text).toString('base64');
/** Certificate times as the messages print them: ISO 8601 to the second. */
const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Whole seconds: certificates have no fraction. */
const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

const outputs: string[] = [];
const keys: string[] = [];
const cli = (args: string[], env: Record<string, string> = {}) => runCliCollecting(outputs, args, env);

/** A config.yaml with one signify-mtls signer whose secret holds the pair; returns its path. */
function mtlsConfig(endpoint: string, pair: { cert: string; key: string } | undefined, registry = '127.0.0.1:1/unused', name = 'signify-mtls'): string {
  const file = path.join(tempDir('secret'), name);
  if (pair) {
    writeFileSync(file, JSON.stringify({ certData: b64(pair.cert), privateKeyData: b64(pair.key) }));
    keys.push(pair.key);
  }
  const signer = `    - {name: ${name}, type: notary, config: {endpoint: "${endpoint}", timeout: 2s, retry-timeout: 100ms, secret: {path: ${file}, type: signify-mtls}}}\n`;
  return writeConfig(`registry: ${registry}\nsign-config:\n  enabled-signers:\n    "*": [${name}]\n  signers:\n${signer}`);
}

const signOnly = (config: string, image: string, extra: string[] = []) => ['--sign-only', `--config=${config}`, `--images-to-sign=${image}`, '--repo=org/repo', ...extra];

afterAll(removeTempDirs);

describe.skipIf(!ready)('signify-mtls client certificates through the real CLI, a real registry and a real mTLS service', () => {
  let registry: TestRegistry;
  let tls: TlsFiles;
  let service: FakeSigner;
  let image: string;
  let certs: string;
  const env = () => ({ NODE_EXTRA_CA_CERTS: tls.caFile });
  const issue = (cn: string, notBefore: Date, notAfter: Date) => issueClientCertificate(certs, tls, cn, notBefore, notAfter);

  beforeAll(async () => {
    certs = tempDir('certs');
    [registry, tls] = await Promise.all([startRegistry(), makeCertificates(certs)]);
    service = await startFakeSigner({ tls });
    await pushTestImage(registry.url, 'team/app', 'v1');
    image = `${registry.host}/team/app:v1`;
  }, 120_000);
  afterAll(async () => Promise.all([registry?.stop(), service?.stop()]));

  it('expired: exit 2 before anything is sent, naming the signer, the subject and notAfter, and how certificates are rotated', async () => {
    service.script('/sign', [{ status: 202 }]);
    const notAfter = at(Date.now() - DAY);
    const pair = await issue('expired-client', at(Date.now() - 8 * DAY), notAfter);
    const r = await cli(signOnly(mtlsConfig(`${service.url}/sign`, pair), image), env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`error: sign-config signer "signify-mtls": the client certificate in secret file \\S+ \\(subject CN=expired-client\\) expired at ${iso(notAfter)} \\(notAfter\\);`));
    expect(r.stderr).toContain(`the signing service would refuse it: ${ROTATE}; put a current pair in the secret`);
    expect(r.stderr).not.toContain('signing 1 image');
    expect(service.connections()).toBe(0);
  });

  it('not yet valid: exit 2 naming notBefore', async () => {
    service.script('/sign', [{ status: 202 }]);
    const notBefore = at(Date.now() + DAY);
    const pair = await issue('future-client', notBefore, at(Date.now() + 8 * DAY));
    const r = await cli(signOnly(mtlsConfig(`${service.url}/sign`, pair), image), env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: sign-config signer "signify-mtls": the client certificate in secret file`);
    expect(r.stderr).toContain(`(subject CN=future-client) is not valid before ${iso(notBefore)} (notBefore)`);
    expect(r.stderr).toContain(ROTATE);
    expect(service.connections()).toBe(0);
  });

  it('expiring within the hour: a warning with the time left, then signed with it', async () => {
    service.script('/sign', [{ status: 202 }]);
    const notAfter = at(Date.now() + HOUR);
    const pair = await issue('closing-client', at(Date.now() - 6 * DAY), notAfter);
    const r = await cli(signOnly(mtlsConfig(`${service.url}/sign`, pair), image), env());
    expect(r.stderr).toMatch(new RegExp(`warning: sign-config signer "signify-mtls": the client certificate in secret file \\S+ \\(subject CN=closing-client\\) expires in (0h 59m|1h 00m) \\(notAfter ${iso(notAfter)}\\); ${ROTATE}\\n`));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`signify-mtls: signed ${image}`);
    expect(service.requestsTo('/sign').map((request) => request.clientCN)).toEqual(['closing-client']);
  });

  it('valid for days: no warning, signed', async () => {
    service.script('/sign', [{ status: 202 }]);
    const pair = await issue('fresh-client', at(Date.now() - HOUR), at(Date.now() + 7 * DAY));
    const r = await cli(signOnly(mtlsConfig(`${service.url}/sign`, pair), image), env());
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('warning:');
    expect(service.requestsTo('/sign').map((request) => request.clientCN)).toEqual(['fresh-client']);
  });

  it('build mode: an expired certificate stops the run before the builder runs (no build log, nothing pushed)', async () => {
    const context = tempDir('context');
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\n');
    const logDir = tempDir('logs');
    const pair = await issue('expired-builder', at(Date.now() - 10 * DAY), at(Date.now() - 3 * DAY));
    const config = mtlsConfig(`${service.url}/sign`, pair, `${registry.host}/built`);
    const args = ['--name=test-infra/app', '--backend=buildah', `--context=${context}`, `--log-dir=${logDir}`, `--config=${config}`, '--commit-sha=0123456789abcdef0123456789abcdef01234567'];
    const r = await cli(args, { ...env(), IMAGE_BUILDER_CACHE_DIR: tempDir('cache') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(subject CN=expired-builder) expired at');
    expect(readdirSync(logDir)).toEqual([]);
    expect((await fetch(`${registry.url}/v2/built/test-infra/app/tags/list`)).status).toBe(404);
  });

  describe('a service that refuses the client certificate: one try, one clear line, exit 1', () => {
    let other: { cert: string; key: string };
    beforeAll(async () => {
      // Valid, but issued by no CA the service trusts: as a revoked or foreign certificate, refused in the handshake.
      other = await selfSignedClient(certs, 'foreign-client');
    });

    const refused = (endpoint: string, how: string) =>
      `signify-mtls: signing 1 image failed after 1 try: the signing service ${endpoint} refused the client certificate (subject CN=foreign-client): ${how}; every try would be refused:`;

    it.each(['TLSv1.3', 'TLSv1.2'] as const)('a server that resets the connection in the %s handshake (as node does)', async (version) => {
      const strict = await startFakeSigner({ tls, tlsVersion: version });
      try {
        strict.script('/sign', [{ status: 202 }]);
        const r = await cli(signOnly(mtlsConfig(`${strict.url}/sign`, other), image), env());
        expect(r.code).toBe(1);
        expect(strict.connections()).toBe(1);
        expect(strict.requests).toEqual([]);
        expect(r.stderr).toContain(refused(`${strict.url}/sign`, 'it closed the connection in the TLS handshake, after the certificate was sent'));
        expect(r.stderr).not.toContain('socket hang up');
        expect(r.stderr).not.toContain('try 2 of 5');
      } finally {
        await strict.stop();
      }
    });

    it.each(['tls1_3', 'tls1_2'] as const)('a server that ends the %s handshake with an alert (openssl s_server)', async (version) => {
      const server = await startAlertingServer(tls, await freePort(), version);
      try {
        const r = await cli(signOnly(mtlsConfig(`${server.url}/sign`, other), image), env());
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(refused(`${server.url}/sign`, 'TLS alert "unknown ca"'));
        expect(r.stderr).not.toContain('try 2 of 5');
      } finally {
        await server.stop();
      }
    });

    it('a connection reset before the TLS handshake is not a refusal: tried 5 times, as before', async () => {
      let connections = 0;
      const server = net.createServer((socket) => {
        connections++;
        socket.resetAndDestroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      try {
        const pair = await issue('reset-client', at(Date.now() - HOUR), at(Date.now() + 7 * DAY));
        const r = await cli(signOnly(mtlsConfig(`${url}/sign`, pair), image), env());
        expect(r.code).toBe(1);
        expect(connections).toBe(5);
        expect(r.stderr).toContain('signify-mtls: signing 1 image failed after 5 tries:');
        expect(r.stderr).not.toContain('refused the client certificate');
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('--dry-run: reads the secret, never the network', () => {
    const signerEntry = async (config: string) => {
      const r = await cli(['--dry-run', ...signOnly(config, image)], env());
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { signers: Array<Record<string, unknown>> }).signers[0];
    };

    it('a valid certificate: its certificateExpires in the signer entry', async () => {
      const notAfter = at(Date.now() + 5 * DAY);
      const pair = await issue('dry-client', at(Date.now() - 2 * DAY), notAfter);
      expect(await signerEntry(mtlsConfig('https://sign.example/sign', pair))).toEqual({
        name: 'signify-mtls',
        type: 'notary',
        endpoint: 'https://sign.example/sign',
        secretType: 'signify-mtls',
        certificateExpires: iso(notAfter),
      });
    });

    it('an expired certificate: a warning in the entry, the dry-run still succeeds', async () => {
      const notAfter = at(Date.now() - DAY);
      const pair = await issue('dry-expired', at(Date.now() - 8 * DAY), notAfter);
      expect(await signerEntry(mtlsConfig('https://sign.example/sign', pair))).toMatchObject({
        certificateExpires: iso(notAfter),
        certificateWarning: expect.stringContaining(`(subject CN=dry-expired) expired at ${iso(notAfter)} (notAfter)`) as string,
      });
    });

    it('a secret that cannot be read: the entry as before, no failure', async () => {
      expect(await signerEntry(mtlsConfig('https://sign.example/sign', undefined))).toEqual({ name: 'signify-mtls', type: 'notary', endpoint: 'https://sign.example/sign', secretType: 'signify-mtls' });
    });
  });

  it('never prints a private key (all runs used --debug)', () => {
    const text = outputs.join('\n');
    const lines = keys.flatMap((key) => [b64(key), ...key.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))]);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(text.includes(line), `key material ${line.slice(0, 8)}… printed`).toBe(false);
  });
});
