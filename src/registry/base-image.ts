/** A FROM line's image name as the reference Docker pulls, and its digest now: shared by reuse and provenance. */
import { parseReference, registryHost, type ImageReference } from '../reference.js';
import type { RegistryClient } from './client.js';
import { findImage } from './lookup.js';

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

/** The digest the registry gives a base image now, or why there is none. Never throws. */
export async function resolveBaseImage(client: RegistryClient, name: string): Promise<Resolution> {
  const ref = baseImageReference(name);
  if (typeof ref === 'string') return { why: ref };
  const lookup = await findImage(client, ref);
  if (lookup.status === 'found') return { digest: lookup.digest };
  return { why: lookup.status === 'not-found' ? `${lookup.reference}: not found (${lookup.detail})` : lookup.message };
}
