import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { Logger } from '../../src/output/logger.js';
import { Writable } from 'node:stream';
import { certificateValidity, checkEndpoint, describeClientCertificate, readNotaryAuth, type ClientCertificate, type NotarySignerConfig } from '../../src/sign/notary-secret.js';
import { prepareSigning } from '../../src/sign/run.js';
import { Secrets } from '../../src/support/secrets.js';
import { issueClientCertificate, makeCertificates, type TlsFiles } from '../support/fake-signer.js';
import { removeTempDirs, requireTool, tempDir, testContext } from '../support/tools.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

type SecretType = NotarySignerConfig['config']['secret']['type'];

function notary(type: SecretType, endpoint = 'https://sign.example/sign', name = 'n'): NotarySignerConfig {
  const secret = type === 'none' ? { type } : { path: `/secret/${name}`, type };
  return { name, type: 'notary', config: { endpoint, timeout: 1000, 'retry-timeout': 10, secret } };
}

/** readNotaryAuth over an in-memory file; returns the auth, or the InputError's text, and the secrets registered. */
function read(signer: NotarySignerConfig, text: string | undefined) {
  const secrets = new Secrets();
  const readFile = () => {
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };
  try {
    return { auth: readNotaryAuth(signer, readFile, secrets), secrets: [...secrets] };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return { error: err.message, secrets: [...secrets] };
  }
}

afterAll(removeTempDirs);

describe('checkEndpoint: https, or http on loopback only', () => {
  it.each([
    ['https://sign.example/sign', false, true],
    ['http://127.0.0.1:8080/sign', false, true],
    ['http://localhost/sign', false, true],
    ['http://[::1]:9/sign', false, true],
    ['http://sign.example/sign', false, false],
    ['http://127.0.0.1:8080/sign', true, false],
    ['ftp://sign.example/', false, false],
    ['not a url', false, false],
  ])('%s (https required: %s) → allowed %s', (url, requireHttps, allowed) => {
    const check = () => checkEndpoint(url, 'where', requireHttps);
    if (allowed) expect(check().href).toBe(new URL(url).href);
    else expect(check).toThrow(InputError);
  });
});

describe('readNotaryAuth: the secret file of each protocol', () => {
  it('none (no secret in config.yaml): nothing is read, no secret registered', () => {
    const { auth, secrets } = read(notary('none'), undefined);
    expect(auth).toEqual({ type: 'none' });
    expect(secrets).toEqual([]);
  });

  it('token: the file trimmed; the token is registered as a secret', () => {
    const { auth, secrets } = read(notary('token'), '  tok-123456\n');
    expect(auth).toEqual({ type: 'token', token: 'tok-123456' });
    expect(secrets).toContain('tok-123456');
  });

  it('signify: endpoint and payload; the payload is registered as a secret', () => {
    const { auth, secrets } = read(notary('signify'), 'endpoint: http://127.0.0.1:9/token\npayload: \'{"client":"c","secret":"s-98765"}\'\n');
    expect(auth).toEqual({ type: 'signify', endpoint: new URL('http://127.0.0.1:9/token'), payload: '{"client":"c","secret":"s-98765"}' });
    expect(secrets).toContain('{"client":"c","secret":"s-98765"}');
  });

  it.each([
    ['a missing file', notary('token'), undefined, 'sign-config signer "n": secret file /secret/n does not exist; mount the secret or fix secret.path'],
    ['an empty token', notary('token'), ' \n', 'sign-config signer "n": secret file /secret/n is empty'],
    ['signify YAML that does not parse, never quoted', notary('signify'), 'payload: "unterminated-s3cr3t\n', 'secret file /secret/n is not valid YAML;'],
    ['signify without payload', notary('signify'), 'endpoint: https://t.example/\n', 'needs a string "endpoint" and a "payload"'],
    ['signify with a plain-http remote token endpoint', notary('signify'), 'endpoint: http://t.example/\npayload: x\n', 'endpoint: http://t.example is not https'],
    ['signify-mtls JSON that does not parse, never quoted', notary('signify-mtls'), '{"privateKeyData": "s3cr3t', 'secret file /secret/n is not valid JSON;'],
    ['signify-mtls without fields', notary('signify-mtls'), '{}', 'needs string fields "certData" and "privateKeyData"'],
    ['signify-mtls with garbage', notary('signify-mtls'), JSON.stringify({ certData: b64('x'), privateKeyData: b64('y') }), 'certData is not a base64-encoded PEM certificate'],
  ])('%s is an InputError naming the signer and file', (_, signer, text, message) => {
    const { error } = read(signer, text);
    expect(error).toContain(message);
    expect(error).not.toContain('s3cr3t');
  });

  describe.skipIf(!requireTool('openssl', 'apt-get install openssl'))('signify-mtls with real certificates', () => {
    let tls: TlsFiles;
    beforeAll(async () => {
      tls = await makeCertificates(tempDir('certs'));
    });

    it('decodes the PEM pair and registers the key, base64 and PEM, as secrets', () => {
      const { auth, secrets } = read(notary('signify-mtls'), JSON.stringify({ certData: b64(tls.clientCert), privateKeyData: b64(tls.clientKey) }));
      expect(auth).toEqual({ type: 'signify-mtls', cert: tls.clientCert, key: tls.clientKey, certificate: { subject: 'CN=image-builder-test', notBefore: expect.any(Date), notAfter: expect.any(Date) } });
      expect(secrets).toEqual(expect.arrayContaining([b64(tls.clientKey), tls.clientKey]));
    });

    it('reads the subject and the validity of the certificate, to the second', async () => {
      const pair = await issueClientCertificate(tempDir('dated'), tls, 'rotated-client', new Date('2025-03-01T10:00:00Z'), new Date('2025-03-08T10:00:00Z'));
      const { auth } = read(notary('signify-mtls'), JSON.stringify({ certData: b64(pair.cert), privateKeyData: b64(pair.key) }));
      expect(auth).toMatchObject({ certificate: { subject: 'CN=rotated-client', notBefore: new Date('2025-03-01T10:00:00Z'), notAfter: new Date('2025-03-08T10:00:00Z') } });
    });

    it('refuses a key that is not the certificate\'s', () => {
      const { error } = read(notary('signify-mtls'), JSON.stringify({ certData: b64(tls.clientCert), privateKeyData: b64(tls.serverKey) }));
      expect(error).toContain('privateKeyData is not the key of the certificate in certData');
    });
  });
});

describe('certificateValidity: a signify-mtls certificate at the run\'s clock', () => {
  const certificate: ClientCertificate = { subject: 'CN=ci-signer, O=Example', notBefore: new Date('2025-03-01T10:00:00Z'), notAfter: new Date('2025-03-08T10:00:00Z') };
  const where = 'sign-config signer "n": the client certificate in secret file /secret/n (subject CN=ci-signer, O=Example)';
  const rotate = 'a new certificate/key pair must be issued from the previous one before it expires';

  it.each<[string, string, { problem?: string; warning?: string }]>([
    ['one second after notAfter: expired', '2025-03-08T10:00:01Z', { problem: `${where} expired at 2025-03-08T10:00:00Z (notAfter); the signing service would refuse it: ${rotate}; put a current pair in the secret` }],
    ['a month after', '2025-04-08T00:00:00Z', { problem: expect.stringContaining('expired at 2025-03-08T10:00:00Z (notAfter)') as string }],
    ['one second before notBefore: not yet valid', '2025-03-01T09:59:59Z', { problem: `${where} is not valid before 2025-03-01T10:00:00Z (notBefore); check this machine's clock, or put the pair in use now in the secret (${rotate})` }],
    ['at notAfter exactly: still valid, no time left', '2025-03-08T10:00:00Z', { warning: `${where} expires in 0h 00m (notAfter 2025-03-08T10:00:00Z); ${rotate}` }],
    ['an hour left', '2025-03-08T09:00:00Z', { warning: `${where} expires in 1h 00m (notAfter 2025-03-08T10:00:00Z); ${rotate}` }],
    ['59 minutes 59 seconds left: the minutes are not rounded up', '2025-03-08T09:00:01Z', { warning: expect.stringContaining('expires in 0h 59m') as string }],
    ['47 hours 59 minutes left', '2025-03-06T10:01:00Z', { warning: expect.stringContaining('expires in 47h 59m') as string }],
    ['48 hours left: no warning', '2025-03-06T10:00:00Z', {}],
    ['at notBefore: valid, 7 days left', '2025-03-01T10:00:00Z', {}],
  ])('%s', (_, now, expected) => {
    expect(certificateValidity(notary('signify-mtls'), certificate, new Date(now))).toEqual(expected);
  });
});

describe.skipIf(!requireTool('openssl', 'apt-get install openssl'))('a signify-mtls certificate when the signers are prepared, and in the dry-run', () => {
  let tls: TlsFiles;
  let secret: string;
  const notAfter = new Date('2025-03-08T10:00:00Z');
  beforeAll(async () => {
    tls = await makeCertificates(tempDir('certs'));
    const pair = await issueClientCertificate(tempDir('dated'), tls, 'ci-signer', new Date('2025-03-01T10:00:00Z'), notAfter);
    secret = JSON.stringify({ certData: b64(pair.cert), privateKeyData: b64(pair.key) });
  });
  const readFile = (path: string) => {
    if (path === '/secret/mtls') return secret;
    throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  };
  const prepare = async (now: string) => {
    const lines: string[] = [];
    const log = new Logger(new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }), false);
    const ctx = testContext({ env: { HOME: '/nonexistent' }, log, now: () => new Date(now) });
    const result = await prepareSigning([notary('signify-mtls', 'https://s.example/', 'mtls')], ctx, readFile).then(
      (signing) => signing.signers.map((s) => s.name),
      (err: unknown) => err,
    );
    return { result, log: lines.join('') };
  };

  it('expired at the run\'s clock: an InputError (exit 2) naming signer, subject and notAfter', async () => {
    const { result } = await prepare('2025-03-09T00:00:00Z');
    expect(result).toBeInstanceOf(InputError);
    expect((result as InputError).problems).toEqual([expect.stringMatching(/^sign-config signer "mtls": the client certificate in secret file \/secret\/mtls \(subject CN=ci-signer\) expired at 2025-03-08T10:00:00Z \(notAfter\);.*: a new certificate\/key pair must be issued from the previous one before it expires;/)]);
  });

  it('not yet valid: an InputError naming notBefore', async () => {
    const { result } = await prepare('2025-02-28T00:00:00Z');
    expect((result as InputError).problems).toEqual([expect.stringContaining('(subject CN=ci-signer) is not valid before 2025-03-01T10:00:00Z (notBefore)')]);
  });

  it('expiring within 48 hours: prepared, with a warning saying the time left', async () => {
    const { result, log } = await prepare('2025-03-08T08:30:00Z');
    expect(result).toEqual(['mtls']);
    expect(log).toContain('warning: sign-config signer "mtls": the client certificate in secret file /secret/mtls (subject CN=ci-signer) expires in 1h 30m (notAfter 2025-03-08T10:00:00Z)');
  });

  it('valid for longer: prepared, no warning', async () => {
    const { result, log } = await prepare('2025-03-02T00:00:00Z');
    expect(result).toEqual(['mtls']);
    expect(log).toBe('');
  });

  it.each<[string, string, (path: string) => string, Record<string, string>]>([
    ['valid: when it expires', '2025-03-02T00:00:00Z', readFile, { certificateExpires: '2025-03-08T10:00:00Z' }],
    ['expiring soon: and the warning', '2025-03-08T09:00:00Z', readFile, { certificateExpires: '2025-03-08T10:00:00Z', certificateWarning: expect.stringContaining('expires in 1h 00m') as string }],
    ['expired: the problem as a warning, no failure', '2025-03-09T00:00:00Z', readFile, { certificateExpires: '2025-03-08T10:00:00Z', certificateWarning: expect.stringContaining('expired at 2025-03-08T10:00:00Z (notAfter)') as string }],
    ['a secret that cannot be read: nothing, as before', '2025-03-02T00:00:00Z', () => { throw Object.assign(new Error('denied'), { code: 'EACCES' }); }, {}],
    ['a secret that is not JSON: nothing, as before', '2025-03-02T00:00:00Z', () => '{not json', {}],
  ])('describeClientCertificate (the dry-run), %s', (_, now, read, expected) => {
    expect(describeClientCertificate(notary('signify-mtls', 'https://s.example/', 'mtls'), read, new Date(now))).toEqual(expected);
  });

  it('describeClientCertificate: other secret types read nothing', () => {
    expect(describeClientCertificate(notary('token'), () => expect.unreachable('no file is read'), new Date())).toEqual({});
  });
});

describe('prepareSigning: every problem before anything starts', () => {
  const io = () => testContext({ env: { HOME: '/nonexistent' }, log: new Logger(process.stderr, false) });
  const files: Record<string, string> = { '/secret/ok': 'token-1' };
  const readFile = (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };

  it('lists every broken signer in one InputError', async () => {
    const signers: Signer[] = [notary('token', 'https://s.example/', 'ok'), notary('token', 'http://remote.example/', 'plain'), notary('signify', 'https://s.example/', 'gone')];
    const err: unknown = await prepareSigning(signers, io(), readFile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([
      'sign-config signer "plain": endpoint: http://remote.example is not https (plain http is allowed only for loopback hosts); use an https:// endpoint',
      'sign-config signer "gone": secret file /secret/gone does not exist; mount the secret or fix secret.path',
    ]);
  });

  it('a cosign signer whose key is missing is an InputError like the others', async () => {
    const cosign = { name: 'kpack', type: 'cosign', config: { key: '/k', 'docker-media-types': false } } as Signer;
    await expect(prepareSigning([notary('token', 'https://s.example/', 'ok'), cosign], io(), readFile)).rejects.toThrow(InputError);
    await expect(prepareSigning([cosign], io(), readFile)).rejects.toThrow('sign-config signer "kpack": key file /k does not exist; mount the key or fix config.key');
  });

  it('a notary signer without secret reads no secret file; its endpoint is still checked', async () => {
    const readFile = (path: string) => {
      if (path.endsWith('config.json')) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return expect.unreachable(`no secret file is read (read ${path})`);
    };
    expect((await prepareSigning([notary('none', 'http://127.0.0.1:9/sign')], io(), readFile)).signers.map((s) => s.name)).toEqual(['n']);
    await expect(prepareSigning([notary('none', 'http://remote.example/sign')], io(), readFile)).rejects.toThrow('sign-config signer "n": endpoint: http://remote.example is not https');
  });

  it('no signers: nothing read', async () => {
    expect((await prepareSigning([], io(), () => expect.unreachable('no file is read'))).signers).toEqual([]);
  });
});
