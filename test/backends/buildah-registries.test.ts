import { destination } from '../support/plan-factory.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseRegistriesConf, insecureRegistriesConf, loopbackRegistries } from '../../src/backends/buildah-registries.js';
import type { BuildSettings } from '../../src/inputs/dockerfile.js';
import { removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

describe('loopbackRegistries: the registries a buildah build reaches over plain HTTP', () => {
  it.each<[string, string, Partial<BuildSettings>, string[], string[]]>([
    ['a FROM on a loopback registry', 'FROM 127.0.0.1:5000/base:1\n', {}, [], ['127.0.0.1:5000']],
    ['a FROM built from an ARG default', 'ARG REGISTRY=localhost:5001\nFROM ${REGISTRY}/base\n', {}, [], ['localhost:5001']],
    ['a FROM built from a given build arg', 'ARG REGISTRY=quay.io\nFROM ${REGISTRY}/base\n', { buildArgs: { REGISTRY: '127.0.0.2:5002' } }, [], ['127.0.0.2:5002']],
    ['COPY --from and RUN --mount from= images', 'FROM scratch\nCOPY --from=[::1]:5003/tools /a /a\nRUN --mount=from=127.0.0.1:5004/src,target=/s true\n', {}, [], ['127.0.0.1:5004', '[::1]:5003']],
    ['remote, Docker Hub and short names: none', 'FROM europe-docker.pkg.dev/p/base\nFROM busybox\nFROM library/alpine:3\nFROM localhost.example.com/x\n', {}, [], []],
    ['stage names and scratch: none', 'FROM scratch AS a\nFROM a\n', {}, [], []],
    ['a stage after the target is not built', 'FROM scratch AS release\nFROM 127.0.0.1:5000/debug AS debug\n', { target: 'release' }, [], []],
    ['the destinations, disk ones skipped, each registry once', 'FROM 127.0.0.1:5000/base\n', {}, ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:2', 'localhost:6000/app:1', 'gcr.io/p/app:1', 'oci:/out/layout:1'], ['127.0.0.1:5000', 'localhost:6000']],
  ])('%s', (_, dockerfile, settings, destinations, expected) => {
    expect(loopbackRegistries(dockerfile, { buildArgs: {}, platforms: [], ...settings }, destinations.map(destination))).toEqual(expected);
  });
});

describe('insecureRegistriesConf: the registries.conf buildah would read, plus the loopback registries', () => {
  const hosts = ['127.0.0.1:5000', '[::1]:5001'];
  const entry = (host: string) => `\n[[registry]]\nlocation = "${host}"\ninsecure = true\n`;

  it.each<[string, string, string]>([
    ['no file: only the entries', '', `${entry('127.0.0.1:5000')}${entry('[::1]:5001')}`],
    [
      'a v2 file: kept whole (its search list and aliases too), entries after it',
      'unqualified-search-registries = ["docker.io"]\n\n[aliases]\n"app" = "quay.io/team/app"',
      `unqualified-search-registries = ["docker.io"]\n\n[aliases]\n"app" = "quay.io/team/app"\n${entry('127.0.0.1:5000')}${entry('[::1]:5001')}`,
    ],
    [
      'a registry the file configures already is left as configured',
      '[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = false\n',
      `[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = false\n${entry('[::1]:5001')}`,
    ],
    [
      'a v1 file with an insecure list: the registries join it (v1 and v2 do not mix)',
      "[registries.search]\nregistries = ['docker.io']\n\n[registries.insecure]\nregistries = ['10.0.0.1:5000']\n",
      `[registries.search]\nregistries = ['docker.io']\n\n[registries.insecure]\nregistries = ["127.0.0.1:5000", "[::1]:5001", '10.0.0.1:5000']\n`,
    ],
    [
      'a v1 file without one: an insecure list is added',
      "[registries.search]\nregistries = ['docker.io']\n",
      `[registries.search]\nregistries = ['docker.io']\n\n[registries.insecure]\nregistries = ["127.0.0.1:5000", "[::1]:5001"]\n`,
    ],
  ])('%s', (_, base, expected) => {
    expect(insecureRegistriesConf(base, hosts)).toBe(expected);
  });
});

describe('baseRegistriesConf: the file buildah reads when told nothing', () => {
  it('the environment first (CONTAINERS_REGISTRIES_CONF, then REGISTRIES_CONFIG_PATH), then the user\'s file, then the system\'s', () => {
    const home = tempDir('home');
    expect(baseRegistriesConf({ HOME: home, CONTAINERS_REGISTRIES_CONF: '/a.conf', REGISTRIES_CONFIG_PATH: '/b.conf' })).toEqual({ file: '/a.conf', explicit: true });
    expect(baseRegistriesConf({ HOME: home, REGISTRIES_CONFIG_PATH: '/b.conf' })).toEqual({ file: '/b.conf', explicit: true });
    expect(baseRegistriesConf({ HOME: home })).toEqual({ file: '/etc/containers/registries.conf', explicit: false });
    mkdirSync(path.join(home, '.config/containers'), { recursive: true });
    writeFileSync(path.join(home, '.config/containers/registries.conf'), '');
    expect(baseRegistriesConf({ HOME: home })).toEqual({ file: path.join(home, '.config/containers/registries.conf'), explicit: false });
  });
});
