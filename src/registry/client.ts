import { isHttpsOrLoopback, isLoopbackHost, type ImageReference } from '../reference.js';
import { sha256 } from '../support/digest.js';
import { HttpError, isTemporaryStatus } from '../support/http-error.js';
import { fixedBackoff, retry, type Sleep } from '../support/retry.js';
import type { RunContext } from '../support/context.js';
import type { CredentialStore } from './auth.js';
import { parseChallenge, tokenOf, tokenUrl, type Challenge } from './challenge.js';
import { RegistryError, describeFailure, networkDetail } from './errors.js';

export { RegistryError, type RegistryFailure } from './errors.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/** Token scope actions of every write. */
const PUSH = ['pull', 'push'];
/** Waits before the second and third try of a registry read, of an idempotent write (a manifest PUT), of a blob upload. */
export const READ_RETRY_DELAYS_MS = [500, 1500];

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string; variant?: string };
}

/** The fields of an image manifest or an index that clients read. */
export interface ManifestDocument {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface Manifest {
  mediaType: string;
  /** `sha256:…` of the bytes as served. */
  digest: string;
  size: number;
  bytes: Buffer;
  parsed: ManifestDocument;
}

export function isIndex(manifest: Pick<Manifest, 'mediaType'>): boolean {
  return manifest.mediaType === OCI_INDEX || manifest.mediaType === DOCKER_LIST;
}

export interface RegistryRequest {
  method?: string;
  /** Below `/v2/<repository>/` (e.g. `manifests/v1`), or an upload's absolute Location (URL or `/v2/…` path). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** Token scope actions; pushing needs `['pull', 'push']`. */
  actions?: string[];
  /** Safe to send again when its answer is lost or transient (a manifest PUT); GET and HEAD always are. */
  idempotent?: boolean;
}

export interface RegistryClientOptions {
  credentials?: CredentialStore;
  /** Bound of each HTTP request. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Receives every token and password the client uses, so that loggers mask them. */
  onSecret?: (secret: string) => void;
  debug?: (line: string) => void;
  /** Waits between tries; tests pass one that does not wait. */
  sleep?: Sleep;
}

/**
 * A registry client for a step of the run: every client is made here, so that each one registers the tokens and
 * passwords it uses as secrets, stops with the run and waits between tries as the run does. `debug` defaults to the
 * run's --debug lines.
 */
export function runRegistryClient(
  ctx: Pick<RunContext, 'signal' | 'sleep'> & { log: Pick<RunContext['log'], 'secrets' | 'debug'> },
  options: { credentials?: CredentialStore; timeoutMs: number; debug?: (line: string) => void },
): RegistryClient {
  return new RegistryClient({
    credentials: options.credentials,
    timeoutMs: options.timeoutMs,
    signal: ctx.signal,
    onSecret: (secret) => ctx.log.secrets.add(secret),
    debug: options.debug ?? ((line) => ctx.log.debug(line)),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  });
}

/** The one module that talks to registries (OCI distribution API): loopback over HTTP, all others over HTTPS. */
export class RegistryClient {
  /** Authorization header per registry and scope, reused for the run. */
  private readonly authorizations = new Map<string, string>();

  constructor(private readonly options: RegistryClientOptions = {}) {}

  /**
   * The manifest or index at ref's tag (else digest); its digest is computed from the bytes and checked. `actions`
   * widens the token scope (a reader that will push next asks for `['pull', 'push']` once).
   */
  async getManifest(ref: ImageReference, actions?: string[]): Promise<Manifest> {
    const image = imageName(ref);
    const reference = ref.tag ?? ref.digest;
    if (!reference) throw new RegistryError(image, 'invalid', 'the reference has neither a tag nor a digest');
    const res = await this.request(ref, { path: `manifests/${reference}`, headers: { Accept: MANIFEST_TYPES.join(', ') }, actions });
    if (!res.ok) throw await this.failure(image, ref, res);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    const served = res.headers.get('docker-content-digest');
    if (served?.startsWith('sha256:') && served !== digest) {
      throw new RegistryError(image, 'invalid', `the manifest's content digest ${digest} differs from the Docker-Content-Digest header ${served}`);
    }
    if (ref.digest && ref.digest !== digest) throw new RegistryError(image, 'invalid', `the tag now points to ${digest}, not ${ref.digest}`);
    let parsed: ManifestDocument;
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as ManifestDocument;
    } catch {
      throw new RegistryError(image, 'invalid', 'the manifest is not JSON');
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const mediaType = MANIFEST_TYPES.includes(contentType) ? contentType : (parsed.mediaType ?? contentType);
    if (!MANIFEST_TYPES.includes(mediaType)) {
      throw new RegistryError(image, 'invalid', `unsupported manifest type "${mediaType}" (expected an OCI or Docker v2 manifest or index)`);
    }
    this.options.debug?.(`registry: ${image} is ${mediaType} ${digest} (${bytes.length} bytes)`);
    return { mediaType, digest, size: bytes.length, bytes, parsed };
  }

  /** A blob of ref's repository, its digest checked. */
  async getBlob(ref: ImageReference, digest: string, actions?: string[]): Promise<Buffer> {
    const step = `${imageName(ref)}: reading blob ${digest}`;
    const res = await this.request(ref, { path: `blobs/${digest}`, actions });
    if (!res.ok) throw await this.failure(step, ref, res);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (sha256(bytes) !== digest) throw new RegistryError(step, 'invalid', `the blob's content digest is ${sha256(bytes)}`);
    return bytes;
  }

  /**
   * Uploads a blob in one piece (POST, then PUT ?digest=), unless the repository has it already (HEAD). A transient
   * failure (network error, 429, 5xx) restarts the upload from scratch: its session may be gone, and the HEAD of the
   * next try finds a blob whose PUT arrived although its answer was lost.
   */
  async pushBlob(ref: ImageReference, bytes: Buffer): Promise<{ digest: string; uploaded: boolean }> {
    const digest = sha256(bytes);
    return retry(
      () => this.uploadBlobOnce(ref, bytes, digest),
      {
        backoff: fixedBackoff(READ_RETRY_DELAYS_MS),
        retryable: (err) => err instanceof RegistryError && err.temporary,
        onRetry: (err, n, delay) =>
          this.options.debug?.(`registry: uploading blob ${digest} to ${ref.registry}/${ref.repository} failed (${(err as Error).message}); try ${n + 1} from scratch in ${delay} ms`),
      },
      this.options,
    );
  }

  /** One upload; throws a RegistryError, temporary when another try (from scratch) may succeed. */
  private async uploadBlobOnce(ref: ImageReference, bytes: Buffer, digest: string): Promise<{ digest: string; uploaded: boolean }> {
    const at = `${ref.registry}/${ref.repository}`;
    const head = await this.request(ref, { method: 'HEAD', path: `blobs/${digest}`, actions: PUSH });
    if (head.ok) return { digest, uploaded: false };
    if (head.status !== 404) throw await this.failure(`${at}: checking blob ${digest}`, ref, head);
    const start = await this.request(ref, { method: 'POST', path: 'blobs/uploads/', actions: PUSH });
    const location = start.headers.get('location');
    if (start.status !== 202 || !location) {
      if (start.status === 202) throw new RegistryError(`${at}: starting blob upload`, 'invalid', 'HTTP 202 without a Location header');
      throw await this.failure(`${at}: starting blob upload`, ref, start);
    }
    await start.body?.cancel();
    const url = new URL(location, registryBase(ref.registry));
    url.searchParams.set('digest', digest);
    const put = await this.request(ref, {
      method: 'PUT',
      path: url.toString(),
      headers: { 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
      actions: PUSH,
    });
    if (put.status !== 201) throw await this.failure(`${at}: uploading blob ${digest}`, ref, put);
    await put.body?.cancel();
    return { digest, uploaded: true };
  }

  /** Stores a manifest under ref's tag (else digest); returns its digest. */
  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<string> {
    const reference = ref.tag ?? ref.digest ?? '';
    // A PUT of the same bytes under the same reference is idempotent: resent after a lost or transient answer.
    const res = await this.request(ref, {
      method: 'PUT',
      path: `manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: new Uint8Array(bytes),
      actions: PUSH,
      idempotent: true,
    });
    if (res.status !== 201) throw await this.failure(`${imageName(ref)}: storing the manifest`, ref, res);
    await res.body?.cancel();
    return sha256(bytes);
  }

  /**
   * Whether the registry answers at all: GET /v2/ without credentials (read retries included); any HTTP status, even
   * 401 or 500, counts. Throws the RegistryError 'unreachable' of the last try when nothing answered (refused, DNS).
   */
  async ping(registry: string): Promise<number> {
    const url = `${registryBase(registry)}/v2/`;
    const res = await this.send(registry, url, { path: url }, undefined);
    await res.body?.cancel();
    return res.status;
  }

  /** One authorised request: anonymous first, then the registry's Bearer or Basic challenge, answered once. */
  async request(ref: ImageReference, req: RegistryRequest): Promise<Response> {
    const image = imageName(ref);
    const scope = `repository:${ref.repository}:${(req.actions ?? ['pull']).join(',')}`;
    const key = `${ref.registry} ${scope}`;
    const base = registryBase(ref.registry);
    const url = /^https?:\/\//.test(req.path) ? req.path : req.path.startsWith('/') ? `${base}${req.path}` : `${base}/v2/${ref.repository}/${req.path}`;
    // Credentials go to the registry itself only, never to another host a Location points at.
    if (new URL(url).origin !== new URL(base).origin) return this.send(image, url, req, undefined);
    const cached = this.authorizations.get(key);
    let res = await this.send(image, url, req, cached);
    if (res.status !== 401) return res;
    let challenge = parseChallenge(res.headers.get('www-authenticate'));
    // A write asks for its own scope too: registries challenge with what this one request needs (pull for a GET).
    if (challenge?.params.scope && req.actions?.includes('push') && !challenge.params.scope.split(' ').includes(scope)) {
      challenge = { ...challenge, params: { ...challenge.params, scope: `${challenge.params.scope} ${scope}` } };
    }
    const authorization = challenge && (await this.authorize(image, ref, challenge, scope));
    if (!authorization) return res;
    await res.body?.cancel();
    this.authorizations.set(key, authorization);
    res = await this.send(image, url, req, authorization);
    return res;
  }

  private async authorize(image: string, ref: ImageReference, challenge: Challenge, scope: string): Promise<string | undefined> {
    const credential = await this.options.credentials?.find(ref.registry, ref.repository);
    const basic = credential && Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
    if (credential && basic) {
      this.options.onSecret?.(credential.password);
      this.options.onSecret?.(basic);
    }
    if (challenge.scheme === 'basic') return basic && `Basic ${basic}`;
    if (challenge.scheme !== 'bearer') return undefined;
    let url: URL;
    try {
      url = tokenUrl(challenge, scope);
    } catch {
      throw new RegistryError(image, 'unauthorized', `the registry's bearer challenge has no valid realm: ${JSON.stringify(challenge.params.realm ?? '')}`);
    }
    if (!isHttpsOrLoopback(url)) {
      throw new RegistryError(image, 'unauthorized', `the token realm ${url.origin} is not HTTPS; refusing to use it`);
    }
    const who = credential ? `as ${credential.username} (credentials from ${credential.source})` : 'anonymously';
    this.options.debug?.(`registry: token for ${scope} from ${url.origin}${url.pathname} ${who}`);
    const res = await this.send(image, url.toString(), { path: '' }, basic && `Basic ${basic}`);
    const text = await res.text();
    if (!res.ok) {
      const reason = res.status === 401 || res.status === 403 ? 'unauthorized' : 'unreachable';
      throw new RegistryError(image, reason, `the token server ${url.origin} answered HTTP ${res.status} when asked ${who}`);
    }
    let token: string | undefined;
    try {
      token = tokenOf(JSON.parse(text));
    } catch {
      token = undefined;
    }
    if (!token) throw new RegistryError(image, 'invalid', `the token server ${url.origin} answered without a token`);
    this.options.onSecret?.(token);
    return `Bearer ${token}`;
  }

  private async send(image: string, url: string, req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const method = req.method ?? 'GET';
    // Reads and idempotent writes: a registry's passing hiccup (connection reset, 429, 5xx) must not fail a release.
    const backoff = fixedBackoff(method === 'GET' || method === 'HEAD' || req.idempotent ? READ_RETRY_DELAYS_MS : []);
    try {
      return await retry(
        async (n) => {
          const res = await this.sendOnce(image, url, req, authorization);
          // The last try's answer goes to the caller, whatever its status.
          if (n >= backoff.attempts || !isTemporaryStatus(res.status)) return res;
          await res.body?.cancel();
          throw new HttpError(`HTTP ${res.status}`, { status: res.status });
        },
        {
          backoff,
          retryable: (err) => err instanceof HttpError,
          onRetry: (err, n, delay) =>
            this.options.debug?.(`registry: ${method} ${new URL(url).origin}: ${err instanceof RegistryError ? 'unreachable' : (err as Error).message}; try ${n + 1} of ${backoff.attempts} in ${delay} ms`),
        },
        this.options,
      );
    } catch (err) {
      // Stopped while waiting to try again after a transient answer.
      if (!(err instanceof RegistryError) && err instanceof HttpError) throw new RegistryError(image, 'unreachable', `${new URL(url).origin}: stopped`);
      throw err;
    }
  }

  private async sendOnce(image: string, url: string, req: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.options.signal ? [this.options.signal] : [])];
    const headers: Record<string, string> = { ...req.headers, ...(authorization ? { Authorization: authorization } : {}) };
    try {
      const res = await fetch(url, { method: req.method ?? 'GET', headers, body: req.body, signal: AbortSignal.any(signals) });
      this.options.debug?.(`registry: ${req.method ?? 'GET'} ${new URL(url).origin}${new URL(url).pathname} → HTTP ${res.status}`);
      return res;
    } catch (err) {
      throw new RegistryError(image, 'unreachable', `${new URL(url).origin}: ${networkDetail(err, timeoutMs)}`);
    }
  }

  private async failure(image: string, ref: ImageReference, res: Response): Promise<RegistryError> {
    const body = await res.text().catch(() => '');
    const credential = await this.options.credentials?.find(ref.registry, ref.repository);
    const searched = this.options.credentials?.files.join(', ') ?? 'none';
    return describeFailure(image, res.status, body, credential ? `credentials from ${credential.source}` : `no credentials for ${ref.registry} in ${searched}`);
  }
}

/** `registry/repository:tag` (or `@digest`) as people wrote it, for messages. */
export function imageName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Docker Hub's API lives on registry-1.docker.io; loopback registries speak plain HTTP, as Docker does (SPEC 6). */
export function registryBase(registry: string): string {
  const host = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
  return `${isLoopbackHost(host) ? 'http' : 'https'}://${host}`;
}
