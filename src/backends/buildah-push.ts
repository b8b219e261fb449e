/**
 * buildah's pushes: several destinations at once (bounded), transient registry errors tried again, and no more tries
 * at a registry that does not answer at all.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PushedImage } from './backend.js';
import type { RunContext } from '../support/context.js';
import type { Destination } from '../reference.js';
import { type BuildLog, runBuilder } from './process.js';
import { LineCutter } from './lines.js';
import { type PushRegistries, sha256Digest } from './pushed.js';
import { isTemporaryStatus } from '../support/http-error.js';
import { fixedBackoff, retry } from '../support/retry.js';

/** Pushes running at once per build: uploads overlap, and a registry is not flooded. */
export const PUSH_CONCURRENCY = 4;
/**
 * Waits before the second and third try of a push that failed on a transient registry error. This is the one policy
 * for every push: buildah 1.28's own retry covers only failures to reach the registry (and 429), not a 5xx nor a
 * connection dropped during an upload, and `buildah manifest push` has none at all.
 */
export const PUSH_RETRY_DELAYS_MS = [1000, 3000];

export interface PushJob {
  destination: Destination;
  argv: string[];
  /** Where the push writes its digest; undefined when there is no private folder for it. */
  digestFile?: string;
}

export interface PushesOutcome {
  /** In the order of the jobs. */
  pushed: PushedImage[];
  /** Every destination not pushed, and why. */
  failed: { destination: string; reason: string }[];
  stopped: boolean;
}

type JobOutcome = { image: PushedImage } | { error: string } | { stopped: true };

export interface PushContext {
  log: BuildLog;
  io: RunContext;
  registries: PushRegistries;
  missingHint: string;
  concurrency?: number;
}

/** Per repository (or disk path): the last push this process started to it, which the next one waits for. */
const lastPushTo = new Map<string, Promise<unknown>>();

/**
 * Runs every push, PUSH_CONCURRENCY repositories at a time. Pushes to one repository (or one disk path) run one after
 * the other, in order, also across the variants of a run: after the first, its blobs are there and the next tags
 * cost a manifest each, and a registry receiving the same blob twice at once may refuse the manifest that needs it
 * (docker-registry: "blob unknown to registry"). Never throws for a failed push.
 */
export async function pushAll(jobs: PushJob[], ctx: PushContext): Promise<PushesOutcome> {
  const lanes = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    const key = laneOf(job.destination);
    lanes.set(key, [...(lanes.get(key) ?? []), i]);
  });
  const queue = [...lanes.values()];
  const outcomes: JobOutcome[] = new Array<JobOutcome>(jobs.length);
  const worker = async (): Promise<void> => {
    for (let lane = queue.shift(); lane; lane = queue.shift()) {
      for (const i of lane) {
        // Concurrent pushes share the log: each line says which push printed it.
        const label = jobs.length > 1 ? `[push ${i + 1}/${jobs.length}] ` : '';
        const push = () => pushOne(jobs[i]!, { ...ctx, log: labelled(ctx.log, label) });
        outcomes[i] = await oneAtATime(laneOf(jobs[i]!.destination), push).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.concurrency ?? PUSH_CONCURRENCY, queue.length)) }, worker));
  return {
    pushed: outcomes.flatMap((o) => ('image' in o ? [o.image] : [])),
    failed: outcomes.flatMap((o, i) => ('error' in o ? [{ destination: jobs[i]!.destination.reference, reason: o.error }] : [])),
    stopped: outcomes.some((o) => 'stopped' in o),
  };
}

/** A push that failed in a way another try may mend; its message is why. */
class PushAgain extends Error {}

async function pushOne(job: PushJob, ctx: PushContext): Promise<JobOutcome> {
  const { log, io, registries } = ctx;
  const backoff = fixedBackoff(PUSH_RETRY_DELAYS_MS);
  const { destination } = job;
  const host = destination.kind === 'registry' ? destination.image.registry : undefined;
  if (destination.kind === 'disk') await mkdir(path.dirname(destination.path), { recursive: true });
  const tryOnce = async (attempt: number): Promise<JobOutcome> => {
    const down = host && registries.knownUnreachable(host);
    if (down) return { error: `not tried: ${down}` };
    if (io.signal.aborted) return { stopped: true };
    const last = attempt >= backoff.attempts;
    log.line(`image-builder: pushing ${destination.reference}${attempt > 1 ? ` (try ${attempt} of ${backoff.attempts})` : ''}`);
    const tail = keepingTail(log);
    const outcome = await runBuilder(job.argv, tail, io, ctx.missingHint);
    if (outcome.stopped) return { stopped: true };
    if (!outcome.error) {
      // buildah 1.28's `manifest push` was seen exiting 0, having pushed no index, after a 5xx: ask the registry.
      const digest = job.digestFile ? await readFile(job.digestFile, 'utf8').then(sha256Digest, () => undefined) : undefined;
      const confirmed = await registries.confirm(job.destination, digest, true);
      if ('image' in confirmed || last) return confirmed;
      throw new PushAgain(confirmed.error);
    }
    const transient = transientPushFailure(tail.lines);
    const reason = transient?.detail ?? outcome.error;
    if (!transient || last) return { error: reason };
    if (transient.kind === 'network' && host) {
      const why = await registries.check(host);
      if (why) return { error: why };
    }
    throw new PushAgain(reason);
  };
  try {
    const onRetry = (err: unknown, _n: number, delay: number): void => log.line(`image-builder: pushing ${destination.reference} failed (${(err as Error).message}); trying again in ${delay / 1000} s`);
    return await retry(tryOnce, { backoff, retryable: (err) => err instanceof PushAgain, onRetry }, io);
  } catch (err) {
    // Thrown out only when the wait before the next try was stopped.
    if (err instanceof PushAgain) return { stopped: true };
    throw err;
  }
}

/** Runs fn once every earlier call for the same key has settled. */
async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (lastPushTo.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => undefined);
  lastPushTo.set(key, settled);
  try {
    return await run;
  } finally {
    if (lastPushTo.get(key) === settled) lastPushTo.delete(key);
  }
}

/** The disk path, or the registry and repository, of a destination: what its pushes write to. */
function laneOf(destination: Destination): string {
  return destination.kind === 'disk' ? `disk ${destination.path}` : `${destination.image.registry}/${destination.image.repository}`;
}

/** A log that hands each line of a push's output, bounded in length, to `line`: push output is a few lines. */
function lineWise(line: (text: string) => void, close: () => Promise<void>): BuildLog {
  return {
    line,
    async pipe(stream) {
      const cutter = new LineCutter();
      const each = (regions: Buffer[]) => {
        for (const text of Buffer.concat(regions).toString('utf8').split('\n').slice(0, -1)) line(text);
      };
      try {
        for await (const chunk of stream) each(cutter.push(chunk as Buffer));
      } catch {
        // A broken pipe: the exit status tells the rest.
      }
      each(cutter.end());
    },
    close,
  };
}

function labelled(log: BuildLog, label: string): BuildLog {
  return label ? lineWise((text) => log.line(`${label}${text}`), () => log.close()) : log;
}

/** The log, keeping the last lines a push printed: they say why it failed. */
function keepingTail(log: BuildLog, keep = 20): BuildLog & { lines: string[] } {
  const lines: string[] = [];
  const tail = lineWise(
    (text) => {
      lines.push(text);
      if (lines.length > keep) lines.shift();
      log.line(text);
    },
    () => log.close(),
  );
  return { ...tail, lines };
}

/** A manifest PUT that raced a concurrent upload of one of its blobs (another run pushing the same image). */
const BLOB_UNKNOWN = /blob unknown to registry/i;
const HTTP_STATUS = /(?:status code from registry|HTTP status:?|StatusCode:?)\s+(\d{3})\b|:\s(\d{3})\s\(/i;
const NETWORK =
  /connection reset|broken pipe|use of closed network connection|connection refused|no such host|server misbehaving|network is unreachable|no route to host|i\/o timeout|TLS handshake timeout|Client\.Timeout|unexpected EOF|:\s*EOF\b/i;

/**
 * Whether buildah's error says a registry failed in a way another try may not meet: HTTP 429 or 5xx (a registry or a
 * proxy in front of it), the network (reset, refused, DNS, timeout), or a manifest whose blob a concurrent upload had
 * not finished. Anything else (401, 404, a bad image) is final.
 */
export function transientPushFailure(lines: string[]): { kind: 'status' | 'network'; detail: string } | undefined {
  const errors = lines.filter((line) => /^Error: |level=(?:error|fatal)/.test(line));
  if (lines.some((line) => BLOB_UNKNOWN.test(line))) return { kind: 'status', detail: 'manifest blob unknown to registry' };
  for (const line of (errors.length > 0 ? errors : lines.slice(-3)).reverse()) {
    const status = HTTP_STATUS.exec(line);
    const code = Number(status?.[1] ?? status?.[2]);
    if (status) return isTemporaryStatus(code) ? { kind: 'status', detail: `HTTP ${code}` } : undefined;
    const network = NETWORK.exec(line);
    if (network) return { kind: 'network', detail: network[0].replace(/^:\s*/, '') };
  }
  return undefined;
}
