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

/**
 * The one rule for where a secret may travel (a token, a client secret, a bearer): https, or plain http to a loopback
 * host only (local services and tests).
 */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.host));
}

/** `oci:DIR` (an OCI layout folder) and `oci-archive:FILE` registries, for runs without a registry. */
export type DiskTransport = 'oci' | 'oci-archive';

export function diskTransport(registry: string): { transport: DiskTransport; path: string } | undefined {
  const m = /^(oci|oci-archive):(.+)$/.exec(registry);
  if (!m || !m[2]) return undefined;
  return { transport: m[1] as DiskTransport, path: m[2] };
}

/** Where a build unit's image goes, parsed once while planning: a registry reference or an OCI layout/archive on disk. */
export type Destination = RegistryDestination | DiskDestination;

export interface RegistryDestination {
  kind: 'registry';
  /** `host[:port]/path:tag`, as builders and people read it. */
  reference: string;
  image: ImageReference;
  /** A loopback registry: plain HTTP (SPEC 6). */
  loopback: boolean;
}

export interface DiskDestination {
  kind: 'disk';
  /** `oci:/abs/dir[:tag]` or `oci-archive:/abs/file[:tag]`: buildah's own spelling of these transports. */
  reference: string;
  transport: DiskTransport;
  /** Absolute path of the layout directory or the archive file. */
  path: string;
  /** Stored as the org.opencontainers.image.ref.name annotation. */
  tag?: string;
}

/** The destination a reference names, or why it names none (a problem for people, saying how to write it). */
export function parseDestination(text: string): Destination | string {
  if (text.startsWith('oci:') || text.startsWith('oci-archive:')) {
    const m = /^(oci|oci-archive):(\/[^:]*)(?::([\w][\w.-]{0,127}))?$/.exec(text);
    if (!m) {
      return `destination "${text}" is not a valid disk destination: write oci:/absolute/dir[:tag] or oci-archive:/absolute/file.tar[:tag] (the path may not contain ":")`;
    }
    return { kind: 'disk', reference: text, transport: m[1] as DiskTransport, path: m[2] ?? '', ...(m[3] ? { tag: m[3] } : {}) };
  }
  const image = parseReference(text);
  if (!image) return `destination "${text}" is not a valid image reference`;
  return { kind: 'registry', reference: text, image, loopback: isLoopbackHost(image.registry) };
}

/** The registry host of a reference, Docker's rule: the first component if it has `.` or `:` or is `localhost`. */
export function registryHost(reference: string): string {
  const slash = reference.indexOf('/');
  const first = slash < 0 ? '' : reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}
