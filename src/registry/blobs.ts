/**
 * One blob to another repository: nothing when it is there already, a cross-repository mount within a registry,
 * else streamed in chunks (ranged reads, chunked upload), so that no more than a chunk of a layer is held in memory.
 */
import { createHash } from 'node:crypto';
import type { ImageReference } from '../reference.js';
import { type Descriptor, imageName, registryBase, type RegistryClient } from './client.js';
import { describeFailure, RegistryError } from './errors.js';

/** How the blob reached the target: it was there, mounted from a repository of the same registry, or streamed. */
export type BlobOutcome = 'present' | 'mounted' | 'streamed';

export interface BlobSource {
  client: RegistryClient;
  /** The repository streamed from. */
  source: ImageReference;
  /** A repository of the target's registry that holds the blob, for a cross-repository mount. */
  mountFrom?: string;
  /** Bytes per ranged read and per PATCH. */
  chunkBytes: number;
  debug?: (line: string) => void;
}

const PUSH = ['pull', 'push'];

export async function copyBlob(from: BlobSource, blob: Descriptor, target: ImageReference): Promise<BlobOutcome> {
  const { client } = from;
  const at = `${target.registry}/${target.repository}`;
  const head = await client.request(target, { method: 'HEAD', path: `blobs/${blob.digest}`, actions: PUSH });
  await head.body?.cancel();
  if (head.ok) return 'present';
  if (head.status !== 404) throw await answerError(`${at}: checking blob ${blob.digest}`, head, 'push');
  const mount = from.mountFrom ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from.mountFrom)}` : '';
  const start = await client.request(target, { method: 'POST', path: `blobs/uploads/${mount}`, actions: PUSH });
  const location = start.headers.get('location');
  if (mount && start.status === 201) {
    await start.body?.cancel();
    return 'mounted';
  }
  if (start.status !== 202 || !location) {
    if (start.status === 202) throw new RegistryError(`${at}: starting blob upload`, 'invalid', 'HTTP 202 without a Location header');
    throw await answerError(`${at}: starting blob upload${mount ? ` (mount from ${from.mountFrom})` : ''}`, start, 'push');
  }
  await start.body?.cancel();
  // The spec's answer of a registry that does not mount (or not from there): an ordinary upload has started.
  if (mount) from.debug?.(`registry: ${at} did not mount ${blob.digest} from ${from.mountFrom} (HTTP 202); streaming it`);
  const upload = { location: new URL(location, registryBase(target.registry)) };
  try {
    await streamBlob(from, blob, target, upload);
  } catch (err) {
    // Best effort: registries also expire abandoned uploads.
    await client.request(target, { method: 'DELETE', path: upload.location.toString(), actions: PUSH }).then((res) => res.body?.cancel(), () => undefined);
    throw err;
  }
  return 'streamed';
}

/**
 * PATCHes every chunk but the last, which goes with the closing PUT once the digest of all of them is checked.
 * `upload.location` follows the registry's answers (docker-registry keeps the upload's state in the URL).
 */
async function streamBlob(from: BlobSource, blob: Descriptor, target: ImageReference, upload: { location: URL }): Promise<void> {
  const step = `${target.registry}/${target.repository}: uploading blob ${blob.digest}`;
  const hash = createHash('sha256');
  let sent = 0;
  let last = new Uint8Array(0);
  for await (const chunk of sourceChunks(from, blob)) {
    hash.update(chunk);
    if (sent + chunk.length >= blob.size) {
      last = chunk;
      continue;
    }
    const res = await from.client.request(target, {
      method: 'PATCH',
      path: upload.location.toString(),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${sent}-${sent + chunk.length - 1}` },
      body: chunk,
      actions: PUSH,
    });
    const next = res.headers.get('location');
    if (res.status !== 202 || !next) throw await answerError(step, res, 'push');
    await res.body?.cancel();
    upload.location = new URL(next, registryBase(target.registry));
    sent += chunk.length;
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== blob.digest || sent + last.length !== blob.size) {
    throw new RegistryError(`${imageName(from.source)}: reading blob ${blob.digest}`, 'invalid', `read ${sent + last.length} bytes of digest ${digest}, expected ${blob.size} bytes`);
  }
  const close = new URL(upload.location);
  close.searchParams.set('digest', blob.digest);
  const put = await from.client.request(target, { method: 'PUT', path: close.toString(), headers: { 'Content-Type': 'application/octet-stream' }, body: last, actions: PUSH });
  if (put.status !== 201) throw await answerError(step, put, 'push');
  await put.body?.cancel();
}

/** The blob in chunks of chunkBytes: one ranged GET each (each bounded and retried by the client). */
async function* sourceChunks(from: BlobSource, blob: Descriptor): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const step = `${imageName(from.source)}: reading blob ${blob.digest}`;
  for (let offset = 0; offset < blob.size; ) {
    const end = Math.min(blob.size, offset + from.chunkBytes) - 1;
    const res = await from.client.request(from.source, { path: `blobs/${blob.digest}`, headers: { Range: `bytes=${offset}-${end}` } });
    if (res.status === 200 && offset === 0) {
      // A registry that ignores Range sends it all: read as one stream, cut into chunks.
      yield* cut(res.body, from.chunkBytes);
      return;
    }
    if (res.status !== 206) throw await answerError(step, res, 'pull');
    const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (Number(start) !== offset || bytes.length !== end - offset + 1) {
      throw new RegistryError(step, 'invalid', `asked for bytes ${offset}-${end}, got ${bytes.length} bytes from ${start ?? 'an unnamed offset'}`);
    }
    yield bytes;
    offset += bytes.length;
  }
}

async function* cut(body: ReadableStream<Uint8Array> | null, size: number): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  if (!body) return;
  let chunk = new Uint8Array(size);
  let filled = 0;
  for await (const piece of body) {
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(size - filled, piece.length - at);
      chunk.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield chunk;
        chunk = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled);
}

async function answerError(step: string, res: Response, access: 'pull' | 'push'): Promise<RegistryError> {
  const body = await res.text().catch(() => '');
  return describeFailure(step, res.status, body, `copying needs ${access} access to the repository`);
}
