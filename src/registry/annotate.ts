import type { ImageReference } from '../reference.js';
import { imageName, OCI_INDEX, RegistryError, type RegistryClient } from './client.js';

/**
 * Adds annotations to the OCI index `digest` of ref's repository (else at ref's tag) and stores the result under ref's tag: for builders
 * that cannot annotate an index themselves (buildah 1.28). Returns the new index's digest; the old one keeps none.
 */
export async function annotateIndex(client: RegistryClient, ref: ImageReference, digest: string | undefined, annotations: Readonly<Record<string, string>>): Promise<string> {
  // By digest when known: what was pushed, even if the tag moved since.
  const index = await client.getManifest(digest ? { registry: ref.registry, repository: ref.repository, digest } : ref, ['pull', 'push']);
  if (index.mediaType !== OCI_INDEX) {
    throw new RegistryError(imageName(ref), 'invalid', `${index.digest} is ${index.mediaType}, not an OCI index: only an OCI index carries annotations`);
  }
  const document = JSON.parse(index.bytes.toString('utf8')) as { annotations?: Record<string, string> };
  const annotated = { ...document, annotations: { ...document.annotations, ...annotations } };
  return client.putManifest(ref, Buffer.from(JSON.stringify(annotated)), OCI_INDEX);
}
