/** Whether a tag exists in a repository, as a value: a failed lookup must never fail a run, only explain itself. */
import { InputError, WorkError } from '../errors.js';
import type { ImageReference } from '../reference.js';
import { imageName, isIndex, MANIFEST_TYPES, RegistryClient } from './client.js';
import { describeFailure, RegistryError, type RegistryFailure } from './errors.js';

export type ImageLookup =
  | { status: 'found'; reference: string; digest: string; mediaType: string; isIndex: boolean }
  | { status: 'not-found'; reference: string; detail: string }
  | { status: 'failed'; reference: string; reason: RegistryFailure; message: string };

/** Error codes that mean "no such tag or repository", whatever the status a registry sends them with. */
const NOT_FOUND_CODES = ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN'];

/**
 * Looks ref's tag (or digest) up: a HEAD, which names digest and media type; a GET only when the HEAD does not
 * (some registries omit them) or to learn why it was refused. Never throws.
 */
export async function findImage(client: RegistryClient, ref: ImageReference): Promise<ImageLookup> {
  const reference = imageName(ref);
  try {
    const head = await client.request(ref, { method: 'HEAD', path: `manifests/${ref.tag ?? ref.digest ?? ''}`, headers: { Accept: MANIFEST_TYPES.join(', ') } });
    await head.body?.cancel();
    if (head.status === 404) return { status: 'not-found', reference, detail: 'HTTP 404' };
    // Another GET would only wait through the same retries for the same answer.
    if (head.status === 429 || head.status >= 500) throw describeFailure(reference, head.status, '', '');
    const digest = head.headers.get('docker-content-digest') ?? '';
    const mediaType = (head.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (head.ok && /^sha256:[a-f0-9]{64}$/.test(digest) && MANIFEST_TYPES.includes(mediaType)) {
      return { status: 'found', reference, digest, mediaType, isIndex: isIndex({ mediaType }) };
    }
    const manifest = await client.getManifest(ref);
    return { status: 'found', reference, digest: manifest.digest, mediaType: manifest.mediaType, isIndex: isIndex(manifest) };
  } catch (err) {
    if (err instanceof RegistryError) {
      if (err.reason === 'not-found' || NOT_FOUND_CODES.includes(err.code ?? '')) return { status: 'not-found', reference, detail: err.message };
      return { status: 'failed', reference, reason: err.reason, message: err.message };
    }
    // A credential helper that failed, an unreadable auth file (our errors), a stop: the lookup failed, the run goes on.
    const reason = err instanceof WorkError || err instanceof InputError ? 'unauthorized' : 'unreachable';
    return { status: 'failed', reference, reason, message: `${reference}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
