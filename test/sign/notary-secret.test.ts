import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { Logger } from '../../src/output/logger.js';
import { checkEndpoint, readNotaryAuth, type NotarySignerConfig } from '../../src/sign/notary-secret.js';
import { prepareSigning } from '../../src/sign/run.js';
import { Secrets } from '../../src/support/secrets.js';
import { makeCertificates, type TlsFiles } from '../support/fake-signer.js';
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
      expect(auth).toEqual({ type: 'signify-mtls', cert: tls.clientCert, key: tls.clientKey });
      expect(secrets).toEqual(expect.arrayContaining([b64(tls.clientKey), tls.clientKey]));
    });

    it('refuses a key that is not the certificate\'s', () => {
      const { error } = read(notary('signify-mtls'), JSON.stringify({ certData: b64(tls.clientCert), privateKeyData: b64(tls.serverKey) }));
      expect(error).toContain('privateKeyData is not the key of the certificate in certData');
    });
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
