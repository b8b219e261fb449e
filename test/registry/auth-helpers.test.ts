import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentials, parseHelpers, runCredentialHelper, type CredentialHelper } from '../../src/registry/auth.js';
import { WorkError } from '../../src/errors.js';
import { removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A fake helper that answers for the servers it knows and records every call. */
function fakeHelpers(known: Record<string, Record<string, string>>) {
  const calls: string[] = [];
  const run: CredentialHelper = async (helper, server) => {
    calls.push(`${helper} ${server}`);
    const secret = known[helper]?.[server];
    return secret === undefined ? undefined : { username: `${helper}-user`, secret };
  };
  return { run, calls };
}

function store(config: object, run: CredentialHelper) {
  return loadCredentials({ DOCKER_CONFIG: '/cfg', HOME: '/home/x' }, (file) => {
    if (file === '/cfg/config.json') return JSON.stringify(config);
    throw new Error('ENOENT');
  }, run);
}

describe('credential helpers in config.json, in Docker precedence', () => {
  it.each([
    {
      name: 'credHelpers wins over auths for its registry; other registries keep auths',
      config: { credHelpers: { 'europe-docker.pkg.dev': 'gcloud' }, auths: { 'europe-docker.pkg.dev': { auth: b64('u:file') }, 'ghcr.io': { auth: b64('g:file') } } },
      lookups: [['europe-docker.pkg.dev', 'gcloud-user', 'from-gcloud'], ['ghcr.io', 'g', 'file']],
    },
    {
      name: 'credsStore serves registries without an auths entry; an auths entry with credentials wins',
      config: { credsStore: 'desktop', auths: { 'ghcr.io': { auth: b64('g:file') }, 'quay.io': {} } },
      lookups: [['quay.io', 'desktop-user', 'from-desktop'], ['ghcr.io', 'g', 'file']],
    },
    {
      name: 'Docker Hub is asked for as https://index.docker.io/v1/',
      config: { credsStore: 'desktop' },
      lookups: [['docker.io', 'desktop-user', 'hub-secret']],
    },
  ])('$name', async ({ config, lookups }) => {
    const helpers = fakeHelpers({
      gcloud: { 'europe-docker.pkg.dev': 'from-gcloud' },
      desktop: { 'quay.io': 'from-desktop', 'https://index.docker.io/v1/': 'hub-secret' },
    });
    const credentials = store(config, helpers.run);
    for (const [registry, username, password] of lookups) {
      await expect(credentials.find(registry!, 'team/app')).resolves.toMatchObject({ username, password });
    }
  });

  it('asks a helper once per server, also for concurrent lookups, and a helper without credentials means anonymous', async () => {
    const helpers = fakeHelpers({ gcloud: {} });
    const credentials = store({ credHelpers: { 'europe-docker.pkg.dev': 'gcloud' } }, helpers.run);
    const found = await Promise.all([credentials.find('europe-docker.pkg.dev', 'a'), credentials.find('europe-docker.pkg.dev', 'b')]);
    expect(found).toEqual([undefined, undefined]);
    await expect(credentials.find('europe-docker.pkg.dev', 'c')).resolves.toBeUndefined();
    expect(helpers.calls).toEqual(['gcloud europe-docker.pkg.dev']);
  });

  it.each([
    ['{"credHelpers": {"a.io": "gcloud", "b.io": "../../bin/sh"}, "credsStore": "osxkeychain"}', { credHelpers: { 'a.io': 'gcloud' }, credsStore: 'osxkeychain' }],
    ['{"credsStore": ""}', { credHelpers: {} }],
    ['not json', { credHelpers: {} }],
  ])('parseHelpers(%s) keeps only plain helper names', (text, expected) => {
    expect(parseHelpers(text)).toEqual(expected);
  });
});

describe('runCredentialHelper: the real docker-credential-helpers protocol', () => {
  const bin = tempDir('helper-bin');
  const script = (name: string, body: string) => {
    const file = path.join(bin, `docker-credential-${name}`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  script('ok', 'read server; [ "$1" = get ] || exit 3; printf \'{"ServerURL":"%s","Username":"ci","Secret":"s3cr3t-from-helper"}\' "$server"');
  script('none', 'echo "credentials not found in native keychain"; exit 1');
  script('broken', 'echo "oops s3cr3t-from-helper"; exit 0');
  script('fails', 'echo "s3cr3t-from-helper" >&2; exit 7');
  const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };

  it('reads Username and Secret for the server given on stdin', async () => {
    await expect(runCredentialHelper('ok', 'europe-docker.pkg.dev', env)).resolves.toEqual({ username: 'ci', secret: 's3cr3t-from-helper' });
  });

  it('treats "credentials not found" as no credential', async () => {
    await expect(runCredentialHelper('none', 'europe-docker.pkg.dev', env)).resolves.toBeUndefined();
  });

  // The helper above never reads stdin: whether our write meets a closed pipe is a race, and it must not matter.
  it('a helper that exits without reading the server still answers, every time (40 concurrent calls)', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => runCredentialHelper('none', 'europe-docker.pkg.dev', env)));
    expect(answers).toEqual(Array.from({ length: 40 }, () => undefined));
  });

  it.each([
    ['missing', /docker-credential-missing, the credential helper config.json names for x.io, is not installed/],
    ['broken', /answered for x.io with something that is not JSON/],
    ['fails', /docker-credential-fails get failed for x.io \(exit 7\)/],
  ])('%s: a WorkError naming the helper, never its output', async (name, message) => {
    let error: unknown;
    try {
      await runCredentialHelper(name, 'x.io', env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorkError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('s3cr3t');
  });
});
