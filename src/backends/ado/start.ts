import { WorkError } from '../../errors.js';
import type { RunContext } from '../../support/context.js';
import { statusOf } from '../../support/http-error.js';
import { backoffDelay, exponentialBackoff, retry, sleep, type RetryPolicy } from '../../support/retry.js';
import { certainlyNotSent } from './abort.js';
import { callError, type AdoClient, type RunInfo } from './client.js';

/**
 * Starting a run is the one request that is not idempotent: sent twice, it starts two runs. So it is resent only when
 * it certainly did not reach Azure DevOps, or when ADO answered with an error and no run of ours exists. When the
 * answer is lost, the run is looked for among the pipeline's runs (queued since just before our request, with exactly
 * the parameters we sent: the pipeline rejects undeclared parameters, so no nonce can be added) and adopted.
 */

// ADO's clock and ours may differ; a run queued this long before our request can still be ours.
export const CLOCK_SKEW_MS = 2 * 60_000;
// Runs are fetched one by one to read their parameters; more candidates than this are not looked at.
const MAX_CANDIDATES = 20;

/** What an unsuccessful start tells about the run. */
export type StartFailure =
  /** the request never left: resend */
  | 'not-sent'
  /** ADO answered it will not start it (4xx other than 429): final */
  | 'rejected'
  /** ADO answered with an error (5xx, 429): look, and resend if no run exists */
  | 'error-answer'
  /** no usable answer (connection lost after sending, timeout, 504, a body that is not JSON): look, never resend */
  | 'lost';

export function startFailure(err: unknown): StartFailure {
  if (certainlyNotSent(err)) return 'not-sent';
  const status = statusOf(err);
  if (status === undefined || status === 504) return 'lost';
  if (status === 429 || status >= 500) return 'error-answer';
  return 'rejected';
}

/** A run has our parameters when each one we sent has the same value (one ADO leaves out may only be one we sent empty). */
export function sameParameters(sent: Record<string, string>, run: Record<string, unknown> | undefined): boolean {
  if (!run) return false;
  return Object.entries(sent).every(([name, value]) => {
    const got = run[name];
    return got === undefined || got === null ? value === '' : String(got) === value;
  });
}

export interface StartedRun {
  run: RunInfo;
  /** True when the run was found after a lost answer rather than named by ADO's answer. */
  adopted: boolean;
}

/** Thrown when the CLI is stopped while starting; `mayHaveStarted` says whether a run of ours may exist. */
export class StoppedWhileStarting extends Error {
  constructor(
    readonly since: Date,
    readonly mayHaveStarted: boolean,
  ) {
    super('stopped by signal while starting the pipeline run');
  }
}

const clock = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** A start that failed in a way another try may mend: `retrying` opens the warning, `gaveUp` is the error after the last. */
class StartAgain extends Error {
  constructor(
    readonly retrying: string,
    readonly gaveUp: string,
  ) {
    super(gaveUp);
  }
}

/** Starts one run of the pipeline, or adopts the one a lost answer started; never two. */
export async function startRun(client: AdoClient, parameters: Record<string, string>, policy: RetryPolicy, ctx: Pick<RunContext, 'signal' | 'log' | 'sleep'>): Promise<StartedRun> {
  const what = `starting pipeline ${client.target.pipelineId}`;
  const backoff = exponentialBackoff(policy);
  const since = new Date(Date.now() - CLOCK_SKEW_MS);
  let mayHaveStarted = false;
  const stopped = (): StoppedWhileStarting => new StoppedWhileStarting(since, mayHaveStarted);
  const wait = async (ms: number): Promise<void> => {
    await (ctx.sleep ?? sleep)(ms, ctx.signal).catch(() => {
      throw stopped();
    });
  };

  const startOnce = async (): Promise<StartedRun> => {
    let err: unknown;
    try {
      mayHaveStarted = true;
      return { run: await client.startRunOnce(parameters), adopted: false };
    } catch (e) {
      err = e;
    }
    if (ctx.signal.aborted) throw stopped();
    const failure = startFailure(err);
    const failed = callError(what, err).message;
    if (failure === 'not-sent') {
      mayHaveStarted = false;
      throw new StartAgain(`${failed}; the request did not reach Azure DevOps:`, failed);
    }
    if (failure === 'rejected') throw new WorkError(failed);

    // ADO may have started the run: find out before anything else.
    ctx.log.warn(
      `${failed}; Azure DevOps may have started the run: looking for it among the runs of pipeline ${client.target.pipelineId} ` +
        `queued since ${clock(since)} (${CLOCK_SKEW_MS / 60_000} minutes before our request, for clock differences)`,
    );
    const looks = failure === 'lost' ? backoff.attempts : 1;
    let found: RunInfo | undefined;
    try {
      found = await findRun(client, parameters, since, looks, policy, ctx, wait);
    } catch (lookupError) {
      if (lookupError instanceof StoppedWhileStarting || ctx.signal.aborted) throw stopped();
      throw new WorkError(
        `${failed}; whether Azure DevOps started a run could not be checked (${firstLine(lookupError)}): look for a run with these parameters at ${client.pipelineWebUrl} before running this job again`,
      );
    }
    if (found) {
      ctx.log.warn(`found ADO run ${found.id}: it has the parameters we sent and was queued since ${clock(since)}; following it as ours`);
      return { run: found, adopted: true };
    }
    if (failure === 'error-answer') {
      mayHaveStarted = false;
      throw new StartAgain('no run of ours was started;', `${failed}; no run with these parameters was started`);
    }
    throw new WorkError(
      `${failed}; the start of the run could not be confirmed: no run with these parameters was queued since ${clock(since)}. ` +
        `Azure DevOps may still start it: look at ${client.pipelineWebUrl} before running this job again`,
    );
  };

  try {
    const onRetry = (err: unknown, n: number, delay: number): void => ctx.log.warn(`${(err as StartAgain).retrying} retrying in ${delay} ms (try ${n} of ${backoff.attempts})`);
    return await retry(startOnce, { backoff, retryable: (err) => err instanceof StartAgain, onRetry }, ctx);
  } catch (err) {
    if (!(err instanceof StartAgain)) throw err;
    throw ctx.signal.aborted ? stopped() : new WorkError(err.gaveUp);
  }
}

/**
 * The newest run queued since `since` with our parameters, looking `looks` times (ADO may list a run a moment after
 * it accepted it), ado-retry-strategy apart. Each look lists the runs, then reads the parameters of each new one.
 */
export async function findRun(
  client: AdoClient,
  parameters: Record<string, string>,
  since: Date,
  looks: number,
  policy: RetryPolicy,
  ctx: Pick<RunContext, 'signal' | 'log'>,
  wait: (ms: number) => Promise<void>,
  signal: AbortSignal = ctx.signal,
): Promise<RunInfo | undefined> {
  const checked = new Set<number>();
  for (let look = 1; ; look++) {
    const ids = (await client.runsQueuedSince(since, signal)).filter((id) => !checked.has(id)).slice(0, MAX_CANDIDATES);
    const matching: RunInfo[] = [];
    for (const id of ids) {
      checked.add(id);
      const run = await client.getRun(id, signal);
      if (sameParameters(parameters, run.templateParameters)) matching.push(run);
    }
    matching.sort((a, b) => b.id - a.id);
    const [newest, ...others] = matching;
    if (newest) {
      if (others.length > 0) ctx.log.warn(`runs ${others.map((r) => r.id).join(', ')} have the same parameters (a re-run of this job?); taking the newest, ${newest.id}`);
      return newest;
    }
    if (look >= looks) return undefined;
    await wait(backoffDelay(policy, look));
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
