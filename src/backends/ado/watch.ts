import { setTimeout as sleep } from 'node:timers/promises';
import { WorkError } from '../../errors.js';
import type { RunContext } from '../../support/context.js';
import type { AdoClient, RunInfo } from './client.js';
import type { AdoRequest } from './request.js';
import { findRun, type StoppedWhileStarting } from './start.js';

// What is left of a CI grace period after a signal goes to cancelling our run: the whole stop stays within 5 s.
export const CANCEL_WITHIN_MS = 3_000;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Polls right away, then every ado-refresh-interval, until the run completes. A run we stop watching (signal,
 * ado-timeout, a poll that keeps failing) is cancelled: nobody would look at it, and it holds an agent.
 */
export async function waitForCompletion(client: AdoClient, run: RunInfo, request: AdoRequest, ctx: Pick<RunContext, 'signal' | 'log'>, started: number): Promise<RunInfo> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  try {
    for (;;) {
      const state = await client.getRun(run.id, signal);
      ctx.log.info(`ADO run ${run.id}: ${state.state}, ${elapsed(Date.now() - started)} elapsed`);
      if (state.state === 'completed') return { ...run, ...state, webUrl: state.webUrl ?? run.webUrl };
      await sleep(request.refreshIntervalMs, undefined, { signal });
    }
  } catch (err) {
    const outcome = await cancelRun(client, run, ctx);
    if (ctx.signal.aborted) throw new WorkError(`stopped by signal after ${elapsed(Date.now() - started)}; ADO run ${run.id} ${outcome}`);
    if (deadline.aborted) throw new WorkError(`ADO run ${run.id} did not complete within ${elapsed(request.timeoutMs)} (ado-timeout); it ${outcome}`);
    throw new WorkError(ctx.log.redact(`${message(err)}; ADO run ${run.id} ${outcome}`));
  }
}

/** Asks ADO to cancel the run, within CANCEL_WITHIN_MS; says what came of it (for "ADO run N <outcome>"). */
export async function cancelRun(client: AdoClient, run: RunInfo, ctx: Pick<RunContext, 'log'>, within = AbortSignal.timeout(CANCEL_WITHIN_MS)): Promise<string> {
  ctx.log.warn(`asking Azure DevOps to cancel run ${run.id}`);
  try {
    await client.cancel(run.id, within);
    ctx.log.info(`Azure DevOps accepted the cancellation of run ${run.id}`);
    return 'was asked to cancel';
  } catch (err) {
    const why = within.aborted ? `no answer within ${CANCEL_WITHIN_MS / 1000}s` : message(err);
    ctx.log.warn(ctx.log.redact(`could not cancel ADO run ${run.id} (${why}); cancel it at ${run.webUrl ?? client.pipelineWebUrl}`));
    return `may still be running: ${run.webUrl ?? client.pipelineWebUrl}`;
  }
}

/**
 * Stopped while starting: a run of ours may exist although we never learnt its id. One quick look for it and a
 * cancel, all within CANCEL_WITHIN_MS.
 */
export async function cancelUnconfirmed(
  client: AdoClient,
  parameters: Record<string, string>,
  stop: StoppedWhileStarting,
  ctx: Pick<RunContext, 'signal' | 'log'>,
): Promise<string> {
  if (!stop.mayHaveStarted) return 'no run was started';
  const within = AbortSignal.timeout(CANCEL_WITHIN_MS);
  let run: RunInfo | undefined;
  try {
    run = await findRun(client, parameters, stop.since, 1, { attempts: 1, delayMs: 0 }, ctx, async () => undefined, within);
  } catch (err) {
    const why = within.aborted ? `no answer within ${CANCEL_WITHIN_MS / 1000}s` : message(err);
    ctx.log.warn(ctx.log.redact(`could not look for the run our request may have started (${why})`));
    return `a run may have been started: look at ${client.pipelineWebUrl}`;
  }
  if (!run) return 'no run of ours was found';
  return `ADO run ${run.id} ${await cancelRun(client, run, ctx, within)}`;
}

/** 0.4s, 12.0s, 3m05s, 1h02m00s */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m${pad(s % 60)}s`;
}
