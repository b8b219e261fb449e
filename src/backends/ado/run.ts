import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { WorkError } from '../../errors.js';
import type { Plan } from '../../plan-types.js';
import type { RunContext } from '../../support/context.js';
import type { RunResult } from '../backend.js';
import { abortable } from './abort.js';
import { AdoClient, authHandler, type RunInfo } from './client.js';
import { authToken, NO_CREDENTIAL } from './credentials.js';
import { processLog, type BuildReport, type LogFindings } from './logs.js';
import { adoRunReport } from './outputs.js';
import { maskedParameters, type AdoRequest } from './request.js';
import { startRun, StoppedWhileStarting } from './start.js';
import { cancelUnconfirmed, elapsed, waitForCompletion } from './watch.js';
import { openLogFile } from '../log-file.js';

/** The ado backend: a preview run with --ado-preview-run, else a build run. */
export function runAdo(plan: Plan, request: AdoRequest, io: RunContext): Promise<RunResult> {
  return request.previewRun ? runAdoPreview(request, io) : runAdoBuild(plan, request, io);
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Validated request and a client holding the credential; input problems (exit 2) before any call. */
async function connect(request: AdoRequest, io: RunContext): Promise<AdoClient> {
  if (!request.credential) throw new WorkError(NO_CREDENTIAL);
  io.log.secrets.add(request.parameters.Authorization);
  io.log.debug(`ADO template parameters: ${JSON.stringify(maskedParameters(request.parameters))}`);
  const auth = await authToken(request.credential, request.retry, io).catch((err: unknown) => {
    throw new WorkError(io.log.redact(message(err)));
  });
  const client = new AdoClient(request.target, authHandler(auth), request.retry, io);
  await client.discover().catch((err: unknown) => {
    throw new WorkError(io.log.redact(message(err)));
  });
  return client;
}

/** --ado-preview-run: ADO expands the YAML without running it; the final YAML goes to stdout. */
export async function runAdoPreview(request: AdoRequest, io: RunContext): Promise<RunResult> {
  const { path, text } = request.yamlOverride ?? { path: '', text: '' };
  const client = await connect(request, io);
  io.log.info(`previewing pipeline ${request.target.pipelineId} of ${request.target.project} with ${path}`);
  let run: RunInfo;
  try {
    run = await client.preview(request.parameters, text);
  } catch (err) {
    throw new WorkError(io.log.redact(`Azure DevOps rejected the preview of ${path}: ${message(err)}`));
  }
  if (!run.finalYaml) {
    io.log.warn('Azure DevOps accepted the preview but returned no final YAML');
    return { units: [], noReport: true };
  }
  return { units: [], stdout: run.finalYaml.endsWith('\n') ? run.finalYaml : `${run.finalYaml}\n`, noReport: true };
}

/** A normal run: start, follow to the end, print the log, report what was built. */
export async function runAdoBuild(plan: Plan, request: AdoRequest, io: RunContext): Promise<RunResult> {
  const client = await connect(request, io);
  const { pipelineId, project } = request.target;
  io.log.info(`starting pipeline ${pipelineId} of ${project} in ${request.target.organizationUrl}`);
  let run: RunInfo;
  try {
    const start = await startRun(client, request.parameters, request.retry, io);
    run = start.run;
    io.log.info(`ADO run ${run.id} ${start.adopted ? 'adopted' : 'started'}: ${run.webUrl ?? '(ADO gave no web URL)'}`);
  } catch (err) {
    if (err instanceof StoppedWhileStarting) {
      const outcome = await cancelUnconfirmed(client, request.parameters, err, io);
      throw new WorkError(`stopped by signal while starting pipeline ${pipelineId}; ${outcome}`);
    }
    throw new WorkError(io.log.redact(message(err)));
  }
  const started = Date.now();

  const final = await waitForCompletion(client, run, request, io, started);
  const result = final.result ?? 'unknown';
  io.log.info(`ADO run ${run.id} completed after ${elapsed(Date.now() - started)}: ${result}`);

  const findings = await readLog(client, run, plan, io);
  // A stopped CLI exits non-zero, whatever the run's result.
  if (io.signal.aborted) throw new WorkError(`stopped by signal while reading the log of ADO run ${run.id} (its result: ${result})`);
  const report = findings?.report;
  const images = report && report.images_list.length > 0 ? report.images_list : findings?.signLineImages ?? [];
  if (findings && findings.invalidReports > 0) io.log.warn(`the log has ${findings.invalidReports} build report block(s) that are not a complete JSON object; ignored`);
  if (findings && !report && images.length > 0) io.log.info('the log has no build report; images taken from its --images-to-sign= lines');
  if (findings && images.length === 0) io.log.warn('the log has no build report and no --images-to-sign= line: cannot tell which images were built');
  for (const image of images) io.log.info(`built ${image}${report?.digest ? ` ${report.digest}` : ''}`);

  const reportJson = report || images.length > 0 ? JSON.stringify(report ?? fallbackReport(result, images, plan)) : '';
  const outcome = {
    units: [{ ok: result === 'succeeded', pushed: images.map((reference) => ({ reference, ...(report?.digest ? { digest: report.digest } : {}) })), logFile: logFileOf(plan) }],
    report: adoRunReport({ result, runId: run.id, runUrl: run.webUrl, images, digest: report?.digest ?? '', architectures: report?.architectures ?? [], reportJson }),
  };
  if (result !== 'succeeded') return { ...outcome, failure: `ADO run ${run.id} finished with result "${result}"; see ${run.webUrl ?? 'the pipeline in Azure DevOps'}` };
  // SPEC 9 (compat): the run's result decides; an unreadable log only means we cannot tell what was built.
  if (!findings) io.log.warn(`ADO run ${run.id} succeeded, but its log could not be read: which images were built is unknown; see ${run.webUrl ?? 'the pipeline in Azure DevOps'}`);
  return outcome;
}

/** Like a local builder's output, the pipeline's log lands in the log folder. */
const logFileOf = (plan: Plan): string => plan.builds[0]?.logFile ?? join(plan.logDir, 'build_build.log');

/**
 * Streams the last log to stderr (unless --silent), secrets masked, while finding the report in it. Any failure
 * (listing the logs, downloading the last one, the connection breaking off) is a warning naming what could not be
 * read, and undefined: whether the run failed is the run's result, not the log's.
 */
async function readLog(client: AdoClient, run: RunInfo, plan: Plan, io: RunContext): Promise<LogFindings | undefined> {
  try {
    const { logId, stream } = await abortable(client.lastLog(run.id), io.signal);
    // A stopped CLI does not read a huge log to its end.
    const stop = (): void => void (stream as { destroy?: (err?: Error) => void }).destroy?.(new Error('stopped by signal'));
    io.signal.addEventListener('abort', stop, { once: true });
    if (!plan.silent) io.log.info(`----- log of ADO run ${run.id} -----`);
    const logFile = logFileOf(plan);
    mkdirSync(dirname(logFile), { recursive: true });
    const { stream: file, replaced } = await openLogFile(logFile);
    if (replaced) io.log.warn(replaced);
    let read = 0;
    const counted = async function* (): AsyncIterable<Buffer> {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
    };
    let findings: LogFindings;
    try {
      findings = await processLog(counted(), {
        sink: tee(plan.silent ? [file] : [file, io.stderr]),
        secrets: io.log.secrets,
      });
    } catch (err) {
      if (!plan.silent) io.log.info(`----- the log of ADO run ${run.id} broke off -----`);
      throw new Error(`reading log ${logId} of build ${run.id} broke off after ${size(read)} (what was read is in ${logFile}): ${message(err)}`);
    } finally {
      io.signal.removeEventListener('abort', stop);
      await new Promise<void>((resolve) => file.end(resolve));
    }
    if (!plan.silent) io.log.info(`----- end of the log of ADO run ${run.id} (${size(findings.bytes)}) -----`);
    io.log.info(`the log of ADO run ${run.id} is in ${logFile}`);
    return findings;
  } catch (err) {
    io.log.warn(io.log.redact(`could not read the log of ADO run ${run.id}: ${message(err)}`));
    return undefined;
  }
}

/** One sink writing to every target, waiting for the slowest (backpressure). */
function tee(targets: NodeJS.WritableStream[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      let pending = targets.length;
      const next = (): void => {
        if (--pending === 0) done();
      };
      for (const target of targets) {
        if (target.write(chunk)) next();
        else target.once('drain', next);
      }
    },
  });
}

/** A report from --images-to-sign= lines alone: what the log tells, nothing invented. */
function fallbackReport(result: string, images: string[], plan: Plan): BuildReport {
  return { status: result, pushed: result === 'succeeded', signed: false, image_name: plan.name ?? '', images_list: images, digest: '', tags: [], repository_path: '', architectures: [] };
}

const size = (bytes: number): string => (bytes < 1 << 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`);
