import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

/** A real distribution registry (Debian's docker-registry) on 127.0.0.1, storing into a temp dir. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, the way a destination names it. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  stop(): Promise<void>;
}

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** A port free on 127.0.0.1 right now, for servers that must be told their address up front. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ib-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const child = execa('docker-registry', ['serve', config], { reject: false, stdin: 'ignore', all: true });
  const url = `http://${host}`;
  let exited = false;
  void child.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await child;
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100 && !exited; attempt++) {
    const ready = await fetch(`${url}/v2/`).then((res) => res.ok, () => false);
    if (ready) return { host, url, stop };
    await sleep(100);
  }
  await stop();
  throw new Error(`docker-registry did not answer GET ${url}/v2/ within 10 s: ${(await child).all ?? ''}`);
}

export interface Manifest {
  digest: string;
  mediaType: string;
  body: {
    mediaType?: string;
    config?: { digest: string };
    layers?: { digest: string }[];
    manifests?: { digest: string; platform?: { architecture: string; os: string } }[];
    annotations?: Record<string, string>;
  };
}

/** The manifest or index at repository:reference, with the digest the registry gives it. */
export async function getManifest(registry: TestRegistry, repository: string, reference: string): Promise<Manifest> {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers: { Accept: MANIFEST_TYPES.join(', ') } });
  if (!res.ok) throw new Error(`GET manifest ${repository}:${reference}: HTTP ${res.status}`);
  return {
    digest: res.headers.get('docker-content-digest') ?? '',
    mediaType: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Manifest['body'],
  };
}

export async function getBlob(registry: TestRegistry, repository: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`);
  if (!res.ok) throw new Error(`GET blob ${repository}@${digest}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The image config (labels, architecture…) of a single-image manifest. */
export async function getImageConfig(registry: TestRegistry, repository: string, reference: string): Promise<ImageConfig> {
  const manifest = await getManifest(registry, repository, reference);
  if (!manifest.body.config) throw new Error(`${repository}:${reference} is an index, not an image`);
  return JSON.parse((await getBlob(registry, repository, manifest.body.config.digest)).toString('utf8')) as ImageConfig;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config?: { Labels?: Record<string, string> };
}
