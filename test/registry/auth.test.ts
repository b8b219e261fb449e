import { describe, expect, it } from 'vitest';
import { credentialFiles, loadCredentials, normalizeKey, parseAuthFile } from '../../src/registry/auth.js';
import { InputError } from '../../src/errors.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('credential files, in the order they are searched', () => {
  it.each([
    ['Docker only, from HOME', { HOME: '/home/u' }, ['/home/u/.docker/config.json']],
    ['DOCKER_CONFIG replaces ~/.docker', { HOME: '/home/u', DOCKER_CONFIG: '/etc/docker-cfg' }, ['/etc/docker-cfg/config.json']],
    ['buildah login\'s auth.json first', { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/0' }, ['/run/user/0/containers/auth.json', '/home/u/.docker/config.json']],
    ['REGISTRY_AUTH_FILE wins over XDG_RUNTIME_DIR', { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/0', REGISTRY_AUTH_FILE: '/a.json' }, ['/a.json', '/h/.docker/config.json']],
  ])('%s', (_, env, files) => {
    expect(credentialFiles(env)).toEqual(files);
  });
});

describe('parseAuthFile: auths entries', () => {
  it.each([
    ['base64 auth', { 'r.example': { auth: b64('u:p:with:colons') } }, [{ key: 'r.example', username: 'u', password: 'p:with:colons' }]],
    ['username and password', { 'r.example': { username: 'u', password: 'p' } }, [{ key: 'r.example', username: 'u', password: 'p' }]],
    ['auth wins over username/password', { 'r.example': { auth: b64('a:b'), username: 'u', password: 'p' } }, [{ key: 'r.example', username: 'a', password: 'b' }]],
    ['identity tokens and empty entries are skipped', { 'r.example': { identitytoken: 'x' }, 'q.example': {} }, []],
    ['keys with scheme and /v1/ are normalised', { 'https://index.docker.io/v1/': { auth: b64('u:p') } }, [{ key: 'index.docker.io', username: 'u', password: 'p' }]],
  ])('%s', (_, auths, expected) => {
    const entries = parseAuthFile(JSON.stringify({ auths }), '/f.json');
    expect(entries.map((e) => ({ key: e.key, username: e.credential.username, password: e.credential.password }))).toEqual(expected);
  });

  it('a file that is not JSON is an InputError naming the file and never quoting it', () => {
    const attempt = () => parseAuthFile('{"auths": {"r": {"auth": "c2VjcmV0LXZhbHVl"', '/home/u/.docker/config.json');
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow('/home/u/.docker/config.json: not valid JSON; fix it or remove it');
    expect(attempt).not.toThrow(/c2VjcmV0/);
  });
});

describe('normalizeKey', () => {
  it.each([
    ['r.example', 'r.example'],
    ['https://r.example', 'r.example'],
    ['http://127.0.0.1:5000/', '127.0.0.1:5000'],
    ['https://r.example/v2/', 'r.example'],
    ['r.example/team/app', 'r.example/team/app'],
  ])('%s → %s', (key, normalized) => expect(normalizeKey(key)).toBe(normalized));
});

describe('loadCredentials: which entry a registry and repository get', () => {
  const files: Record<string, string> = {
    '/auth.json': JSON.stringify({ auths: { 'r.example/team': { auth: b64('team:t') }, 'only-auth-json.example': { auth: b64('a:a') } } }),
    '/docker/config.json': JSON.stringify({ auths: { 'r.example': { auth: b64('docker:d') }, 'https://index.docker.io/v1/': { auth: b64('hub:h') } } }),
  };
  const store = loadCredentials({ REGISTRY_AUTH_FILE: '/auth.json', DOCKER_CONFIG: '/docker' }, (file) => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return text;
  });

  it.each([
    ['r.example', 'team/app', 'team', '/auth.json'],
    ['r.example', 'teams/app', 'docker', '/docker/config.json'],
    ['r.example', 'other/app', 'docker', '/docker/config.json'],
    ['only-auth-json.example', 'x', 'a', '/auth.json'],
    ['docker.io', 'library/alpine', 'hub', '/docker/config.json'],
    ['registry-1.docker.io', 'library/alpine', 'hub', '/docker/config.json'],
  ])('%s/%s → %s', async (registry, repository, username, source) => {
    await expect(store.find(registry, repository)).resolves.toMatchObject({ username, source });
  });

  it('no entry: undefined; missing files are skipped', async () => {
    await expect(store.find('unknown.example', 'x')).resolves.toBeUndefined();
    await expect(loadCredentials({ HOME: '/nowhere' }, () => { throw new Error('ENOENT'); }).find('r.example', 'x')).resolves.toBeUndefined();
  });
});
