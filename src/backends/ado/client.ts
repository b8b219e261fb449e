import type { IncomingMessage } from 'node:http';
// Only the package root: the build keeps it out of the start-up bundle and require()s it when the ado backend runs.
import { getBearerHandler, getPersonalAccessTokenHandler, WebApi } from 'azure-devops-node-api';
import type { BuildApi } from 'azure-devops-node-api/BuildApi.js';
import type { BuildQueryOrder, BuildStatus } from 'azure-devops-node-api/interfaces/BuildInterfaces.js';
import type { IRequestHandler } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces.js';
import type { Run, RunPipelineParameters, RunResult, RunState } from 'azure-devops-node-api/interfaces/PipelinesInterfaces.js';
import type { PipelinesApi } from 'azure-devops-node-api/PipelinesApi.js';
import { abortingHandler, tryWithin } from './abort.js';
import type { AuthToken } from './credentials.js';
import type { RunContext } from '../../support/context.js';
import { HttpError, statusOf } from '../../support/http-error.js';
import { exponentialBackoff, retry, type RetryPolicy } from '../../support/retry.js';

// The library's enum values, written out: its interface modules are not loaded at run time (type imports only).
const CANCELLING = 4 as BuildStatus.Cancelling;
const QUEUE_TIME_DESCENDING = 4 as BuildQueryOrder.QueueTimeDescending;
// The location id of the pipelines area's runs resource (start, get, list), as the library asks for it.
const RUNS_LOCATION = '7859261e-d2e9-4a68-b820-a5d84cc5bb3d';
const STATES: Record<number, RunStateName> = { [1 as RunState.InProgress]: 'inProgress', [2 as RunState.Canceling]: 'canceling', [4 as RunState.Completed]: 'completed' };
const RESULTS: Record<number, RunResultName> = { [1 as RunResult.Succeeded]: 'succeeded', [2 as RunResult.Failed]: 'failed', [4 as RunResult.Canceled]: 'canceled' };

/** The library's handler for the token; never sent on to hosts a request is redirected to (e.g. log storage). */
export function authHandler(auth: AuthToken): IRequestHandler {
  return auth.scheme === 'bearer' ? getBearerHandler(auth.token, false) : getPersonalAccessTokenHandler(auth.token, false);
}

export interface AdoTarget {
  organizationUrl: string;
  project: string;
  pipelineId: number;
  /** undefined = the latest version */
  pipelineVersion?: number;
}

export type RunStateName = 'unknown' | 'inProgress' | 'canceling' | 'completed';
export type RunResultName = 'unknown' | 'succeeded' | 'failed' | 'canceled';

export interface RunInfo {
  id: number;
  state: RunStateName;
  result?: RunResultName;
  webUrl?: string;
  finalYaml?: string;
  /** The parameters the run was started with, as Runs - Get answers them. */
  templateParameters?: Record<string, unknown>;
}

// How long a connection may stay silent, and how long one try of a call may take, before it counts as unanswered.
export const IDLE_TIMEOUT_MS = 30_000;
export const TRY_LIMIT_MS = 60_000;

function runInfo(run: Run | null | undefined): RunInfo {
  // The library answers null for a 404 and for a body that is not JSON (a proxy's error page): retried like a 5xx.
  if (!run || typeof run.id !== 'number') throw new Error('Azure DevOps answered without a run (an answer that is not JSON, or HTTP 404)');
  const links = run._links as { web?: { href?: unknown } } | undefined;
  const parameters = run.templateParameters;
  return {
    id: run.id,
    state: STATES[run.state ?? 0] ?? 'unknown',
    result: run.result === undefined || run.result === null ? undefined : RESULTS[run.result] ?? 'unknown',
    webUrl: typeof links?.web?.href === 'string' ? links.web.href : undefined,
    finalYaml: run.finalYaml ?? undefined,
    ...(parameters && typeof parameters === 'object' ? { templateParameters: parameters as Record<string, unknown> } : {}),
  };
}

/** Error of a call after its retries, saying which call it was; its status kept for the caller. */
export function callError(what: string, err: unknown): Error {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const hint =
    status === 401 ? '; check the token (--azure-access-token, ADO_PAT or the service principal) and that it is not expired'
    : status === 403 ? '; the credential lacks the permission (it needs Build: read & execute)'
    : '';
  const text = `${what} failed: ${message.split('\n')[0]}${status !== undefined && !message.includes(String(status)) ? ` (HTTP ${status})` : ''}${hint}`;
  return status === undefined ? new Error(text) : new HttpError(text, { status });
}

/** typed-rest-client marks an error answer with `statusCode`: this is the one place that reads it. */
export function fromLibrary(err: unknown): unknown {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status !== 'number' || err instanceof HttpError) return err;
  return new HttpError(err instanceof Error ? err.message : String(err), { status, cause: err });
}

/** One try of fn within the time a try may take, its error an HttpError when ADO answered with one. */
function tryOnce<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return tryWithin(fn, signal, TRY_LIMIT_MS).catch((err: unknown) => {
    throw fromLibrary(err);
  });
}

/**
 * The one module that talks to Azure DevOps: azure-devops-node-api, every call retried per ado-retry-strategy (except
 * starting a run: see start.ts), every request aborted when its call's signal aborts or a try takes too long. The
 * run's signal aborts every request in flight and every wait between retries; its version goes in the User-Agent.
 */
export class AdoClient {
  private readonly api: WebApi;
  private pipelinesApi?: PipelinesApi;
  private buildApi?: BuildApi;

  constructor(
    readonly target: AdoTarget,
    handler: IRequestHandler,
    private readonly policy: RetryPolicy,
    private readonly ctx: Pick<RunContext, 'signal' | 'log' | 'version' | 'sleep'>,
  ) {
    // Our own retries (ado-retry-strategy) replace the library's, except for its resource-area discovery.
    this.api = new WebApi(target.organizationUrl, abortingHandler(handler, ctx.signal), { socketTimeout: IDLE_TIMEOUT_MS, allowRetries: false }, {
      productName: 'image-builder',
      productVersion: ctx.version,
    });
  }

  /**
   * Resource-area discovery on its own, so that its retries do not use up those of the first real call; it includes
   * the runs route, so that a failure of the start is the start's own and never one of looking up its route.
   */
  async discover(): Promise<void> {
    await this.call(`discovering the APIs of ${this.target.organizationUrl}`, async () => {
      const pipelines = await this.pipelines();
      await this.build();
      if (!(await pipelines.vsoClient.beginGetLocation('pipelines', RUNS_LOCATION))) throw new Error('Azure DevOps does not offer the pipeline runs API');
    });
  }

  /** Where people find the pipeline's runs. */
  get pipelineWebUrl(): string {
    const { organizationUrl, project, pipelineId } = this.target;
    return `${organizationUrl.replace(/\/+$/, '')}/${encodeURIComponent(project)}/_build?definitionId=${pipelineId}`;
  }

  /** A preview run creates nothing, so it is retried like a read. */
  preview(templateParameters: Record<string, string>, yamlOverride: string): Promise<RunInfo> {
    const body: RunPipelineParameters = { previewRun: true, yamlOverride, templateParameters };
    const { project, pipelineId, pipelineVersion } = this.target;
    return this.call(`preview run of pipeline ${pipelineId}`, async () => runInfo(await (await this.pipelines()).runPipeline(body, project, pipelineId, pipelineVersion)));
  }

  /** One POST that starts a run: never retried here, its error left raw for the caller to judge whether ADO acted on it. */
  startRunOnce(templateParameters: Record<string, string>, signal = this.ctx.signal): Promise<RunInfo> {
    const body: RunPipelineParameters = { previewRun: false, templateParameters };
    const { project, pipelineId, pipelineVersion } = this.target;
    this.ctx.log.debug(`ADO: starting pipeline ${pipelineId}`);
    return tryOnce(async () => runInfo(await (await this.pipelines()).runPipeline(body, project, pipelineId, pipelineVersion)), signal);
  }

  getRun(runId: number, signal?: AbortSignal): Promise<RunInfo> {
    return this.call(`reading the state of run ${runId}`, async () => runInfo(await (await this.pipelines()).getRun(this.target.project, this.target.pipelineId, runId)), signal);
  }

  /** Ids of the pipeline's runs queued since `since` (Builds - List: by definition and queue time), newest first. */
  async runsQueuedSince(since: Date, signal?: AbortSignal): Promise<number[]> {
    const what = `listing the runs of pipeline ${this.target.pipelineId} queued since ${since.toISOString()}`;
    const builds = await this.call(
      what,
      async () => {
        const list = await (await this.build()).getBuilds(this.target.project, [this.target.pipelineId], undefined, undefined, since, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 100, undefined, undefined, undefined, QUEUE_TIME_DESCENDING);
        if (!Array.isArray(list)) throw new Error('Azure DevOps answered without a list of builds (an answer that is not JSON, or HTTP 404)');
        return list;
      },
      signal,
    );
    return builds.map((b) => b.id).filter((id): id is number => typeof id === 'number');
  }

  /** The build's last log (the one holding every step), as a stream: it is never read whole. */
  async lastLog(runId: number): Promise<{ logId: number; stream: NodeJS.ReadableStream }> {
    const build = await this.call('looking up the build API of the organisation', () => this.build());
    const listing = `listing the logs of build ${runId}`;
    const logs = await this.call(listing, () => build.getBuildLogs(this.target.project, runId));
    // The library answers null for a 404 and for a body that is not JSON.
    if (!Array.isArray(logs)) throw new Error(`${listing}: Azure DevOps answered without a list of logs`);
    const last = logs[logs.length - 1];
    if (typeof last?.id !== 'number') throw new Error(`${listing}: ${logs.length === 0 ? 'the build has no logs' : 'the last entry has no log id'}`);
    const logId = last.id;
    const stream = await this.call(`downloading log ${logId} of build ${runId}`, async () => {
      const response = (await build.getBuildLog(this.target.project, runId, logId)) as IncomingMessage;
      const status = response.statusCode ?? 200;
      // getBuildLog hands back the raw response whatever its status.
      if (status >= 300) throw new HttpError(`HTTP ${status}: ${await readSome(response)}`, { status });
      return response;
    });
    return { logId, stream };
  }

  /** Asks ADO to cancel the run (the run id is its build id). */
  async cancel(runId: number, signal: AbortSignal): Promise<void> {
    await this.call(
      `cancelling build ${runId}`,
      async () => (await this.build()).updateBuild({ status: CANCELLING }, this.target.project, runId),
      signal,
    );
  }

  private async call<T>(what: string, fn: () => Promise<T>, signal = this.ctx.signal): Promise<T> {
    this.ctx.log.debug(`ADO: ${what}`);
    try {
      return await retry(
        () => tryOnce(fn, signal),
        {
          backoff: exponentialBackoff(this.policy),
          onRetry: (err, n, wait) => this.ctx.log.warn(`${callError(what, err).message}; retrying in ${wait} ms (try ${n} of ${this.policy.attempts})`),
        },
        { signal, sleep: this.ctx.sleep },
      );
    } catch (err) {
      throw callError(what, err);
    }
  }

  /** The area clients, made once their resource-area lookup succeeded (a failed lookup is retried). */
  private async pipelines(): Promise<PipelinesApi> {
    this.pipelinesApi ??= await this.api.getPipelinesApi();
    return this.pipelinesApi;
  }

  private async build(): Promise<BuildApi> {
    this.buildApi ??= await this.api.getBuildApi();
    return this.buildApi;
  }
}

/** The first few KiB of an error body, for the message; the rest is discarded. */
async function readSome(stream: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  stream.destroy();
  return text.slice(0, 300).trim();
}
