/** Image references: `host[:port]/path:tag` in a registry, or an OCI layout/archive on disk. */

const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const domainPart = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainPart}(?:\\.${domainPart})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const tagPattern = '[A-Za-z0-9_][A-Za-z0-9._-]{0,127}';

const referenceRe = new RegExp(`^(${domain})/(${component}(?:/${component})*)(?::(${tagPattern}))?(?:@(sha256:[a-f0-9]{64}))?$`);
const nameRe = new RegExp(`^${component}(?:/${component})*$`);

export interface ImageReference {
  /** Registry host with port, e.g. `127.0.0.1:5000` or `europe-docker.pkg.dev`. */
  registry: string;
  /** Repository path inside the registry, e.g. `kyma-project/prod/test-infra/ginkgo`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses `host/path[:tag][@digest]`; a registry host is required (no Docker Hub shorthand). */
export function parseReference(text: string): ImageReference | undefined {
  const m = referenceRe.exec(text);
  if (!m || text.length > 255 + 1 + 128 + 72) return undefined;
  const [, registry, repository, tag, digest] = m;
  if (!registry || !repository || repository.length > 255) return undefined;
  return { registry, repository, tag, digest };
}

/** An image name as given by --name: lowercase path components. */
export function isImageName(text: string): boolean {
  return nameRe.test(text) && text.length <= 255;
}

/** Loopback registries are reached over plain HTTP, as Docker does; all others over HTTPS only. */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0] ?? '';
  if (host === 'localhost' || host === '[::1]') return true;
  return /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host) && host.split('.').every((p) => Number(p) <= 255);
}

/** `oci:DIR` (an OCI layout folder) and `oci-archive:FILE` registries, for runs without a registry. */
export type DiskTransport = 'oci' | 'oci-archive';

export function diskTransport(registry: string): { transport: DiskTransport; path: string } | undefined {
  const m = /^(oci|oci-archive):(.+)$/.exec(registry);
  if (!m || !m[2]) return undefined;
  return { transport: m[1] as DiskTransport, path: m[2] };
}
