/** Base images of a build, resolved to the digests their registries give them now: part of the inputs digest. */
import { parseReference, registryHost, type ImageReference } from '../reference.js';
import { findImage } from '../registry/lookup.js';
import type { RegistryClient } from '../registry/client.js';

export type Resolution = { digest: string } | { why: string };

/**
 * The reference Docker pulls for an image name of a FROM line: a first component with `.` or `:` (or `localhost`)
 * is the registry, else Docker Hub (`library/` for one component); no tag is `latest`. A string says why there is none.
 */
export function baseImageReference(name: string): ImageReference | string {
  if (name.includes('$')) return `${name} still names a variable after substitution`;
  const [named = '', digest] = name.split('@');
  const host = registryHost(named);
  const explicitHost = named.startsWith(`${host}/`);
  let path = explicitHost ? named.slice(host.length + 1) : named;
  const colon = path.lastIndexOf(':');
  const tag = colon > path.lastIndexOf('/') ? path.slice(colon + 1) : undefined;
  if (tag !== undefined) path = path.slice(0, colon);
  if ((host === 'docker.io' || host === 'index.docker.io') && !path.includes('/')) path = `library/${path}`;
  const text = `${host}/${path}${digest ? '' : `:${tag ?? 'latest'}`}${digest ? `@${digest}` : ''}`;
  return parseReference(text) ?? `${name} is not an image reference (${text})`;
}

/** Resolves each name once per run: variants mostly share their base images. Never throws. */
export class BaseImages {
  private readonly resolved = new Map<string, Promise<Resolution>>();

  constructor(private readonly client: () => RegistryClient) {}

  resolve(name: string): Promise<Resolution> {
    let found = this.resolved.get(name);
    if (!found) {
      found = this.lookUp(name);
      this.resolved.set(name, found);
    }
    return found;
  }

  private async lookUp(name: string): Promise<Resolution> {
    const ref = baseImageReference(name);
    if (typeof ref === 'string') return { why: ref };
    const lookup = await findImage(this.client(), ref);
    if (lookup.status === 'found') return { digest: lookup.digest };
    return { why: lookup.status === 'not-found' ? `${lookup.reference}: not found (${lookup.detail})` : lookup.message };
  }
}
