/**
 * Copies an image or an index with all its children to other references, byte for byte: each destination's digest
 * is the source's. Within a registry blobs are mounted, across registries streamed.
 */
import type { ImageReference } from '../reference.js';
import { copyBlob, type BlobOutcome } from './blobs.js';
import { type Descriptor, imageName, isIndex, type Manifest, type RegistryClient } from './client.js';
import { RegistryError } from './errors.js';

/** What one streamed blob holds in memory at most; registries that need a minimum chunk ask for far less. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Blobs copied at once to one destination. */
export const BLOB_CONCURRENCY = 4;
/** An index of indexes is legal, deeper nesting is not met in practice and would only be a loop. */
const MAX_DEPTH = 2;

export interface CopyOptions {
  chunkBytes?: number;
  concurrency?: number;
  debug?: (line: string) => void;
}

export type BlobCounts = Record<BlobOutcome, number>;

export type CopyResult =
  | { destination: string; ok: true; digest: string; blobs: BlobCounts }
  | { destination: string; ok: false; error: string };

/** The manifests of an image in the order they are stored (children before their index, the root last), and its blobs. */
interface ImageTree {
  manifests: Manifest[];
  blobs: Descriptor[];
}

/**
 * Copies source to each destination in turn; never throws. A destination's result is its digest, or the error that
 * stopped its copy (the caller builds instead). A destination on a registry that already holds the image (the source's,
 * or an earlier destination's) gets its blobs by mount.
 */
export async function copyImage(client: RegistryClient, source: ImageReference, destinations: ImageReference[], options: CopyOptions = {}): Promise<CopyResult[]> {
  let tree: ImageTree;
  try {
    tree = await readTree(client, source);
  } catch (err) {
    return destinations.map((destination) => ({ destination: imageName(destination), ok: false, error: messageOf(err) }));
  }
  const holders: ImageReference[] = [source];
  const results: CopyResult[] = [];
  for (const destination of destinations) {
    try {
      const blobs = await copyBlobs(client, tree, source, holders, destination, options);
      const digest = await putManifests(client, tree, destination);
      holders.push(destination);
      options.debug?.(`registry: copied ${imageName(source)} to ${imageName(destination)} ${digest} (blobs: ${blobs.mounted} mounted, ${blobs.streamed} streamed, ${blobs.present} present)`);
      results.push({ destination: imageName(destination), ok: true, digest, blobs });
    } catch (err) {
      results.push({ destination: imageName(destination), ok: false, error: messageOf(err) });
    }
  }
  return results;
}

async function readTree(client: RegistryClient, source: ImageReference): Promise<ImageTree> {
  const manifests: Manifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const visit = async (ref: ImageReference, depth: number): Promise<void> => {
    const manifest = await client.getManifest(ref);
    if (manifests.some((m) => m.digest === manifest.digest)) return;
    if (isIndex(manifest)) {
      if (depth >= MAX_DEPTH) throw new RegistryError(imageName(ref), 'invalid', `indexes nested more than ${MAX_DEPTH} deep`);
      for (const child of manifest.parsed.manifests ?? []) await visit({ registry: ref.registry, repository: ref.repository, digest: child.digest }, depth + 1);
    } else {
      for (const blob of [manifest.parsed.config, ...(manifest.parsed.layers ?? [])]) {
        // Foreign (non-distributable) layers live elsewhere and are never pushed to a registry.
        if (blob && !/foreign|nondistributable/.test(blob.mediaType ?? '')) blobs.set(blob.digest, blob);
      }
    }
    manifests.push(manifest);
  };
  await visit(source, 0);
  return { manifests, blobs: [...blobs.values()] };
}

async function copyBlobs(client: RegistryClient, tree: ImageTree, source: ImageReference, holders: ImageReference[], target: ImageReference, options: CopyOptions): Promise<BlobCounts> {
  const counts: BlobCounts = { present: 0, mounted: 0, streamed: 0 };
  const holder = holders.find((h) => h.registry === target.registry);
  if (holder?.repository === target.repository) {
    counts.present = tree.blobs.length;
    return counts;
  }
  const from = { client, source, mountFrom: holder?.repository, chunkBytes: options.chunkBytes ?? CHUNK_BYTES, debug: options.debug };
  const queue = [...tree.blobs];
  let failure: unknown;
  const worker = async (): Promise<void> => {
    for (let blob = queue.shift(); blob && failure === undefined; blob = queue.shift()) {
      try {
        counts[await copyBlob(from, blob, target)]++;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? BLOB_CONCURRENCY, queue.length)) }, worker));
  if (failure !== undefined) throw failure;
  return counts;
}

/** The exact bytes with their media type, children by digest, the root by the destination's tag: digests are kept. */
async function putManifests(client: RegistryClient, tree: ImageTree, target: ImageReference): Promise<string> {
  const root = tree.manifests[tree.manifests.length - 1];
  if (!root) throw new RegistryError(imageName(target), 'invalid', 'nothing to copy');
  for (const child of tree.manifests.slice(0, -1)) {
    await client.putManifest({ registry: target.registry, repository: target.repository, digest: child.digest }, child.bytes, child.mediaType);
  }
  const digest = await client.putManifest(target, root.bytes, root.mediaType);
  if (digest !== root.digest) throw new RegistryError(imageName(target), 'invalid', `stored as ${digest}, not ${root.digest}`);
  return digest;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
