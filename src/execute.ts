import type { Env } from './ci/gitstate.js';
import { WorkError } from './errors.js';
import type { Options } from './options.js';
import type { Plan } from './plan-types.js';
import type { Logger } from './output/logger.js';
import { backendFor } from './backends/backend.js';
import { runBuilds, summarize } from './backends/run.js';
import { localBuildReport, writeBuildOutputs } from './output/github.js';
import { writeFileCreatingDirs } from './output/json.js';
import type { BuildResult } from './backends/backend.js';
import { prepareSigning, signImages, signingError, signPushed } from './sign/run.js';

export interface ExecuteIO {
  env: Env;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
  log: Logger;
}

/** The effectful modes: build (then sign) and sign-only. Returns the exit code. */
export async function execute(plan: Plan, options: Options, io: ExecuteIO): Promise<number> {
  if (plan.mode === 'sign-only') {
    const failures = await signImages(plan, plan.imagesToSign, io);
    if (failures.length > 0) throw signingError(failures, plan.signers.length);
    return 0;
  }
  if (plan.backend === 'ado') {
    // The pipeline builds, pushes and signs; loaded on demand so that no other mode loads the ADO client.
    const { runAdo } = await import('./backends/ado/run.js');
    return runAdo(plan, options, io);
  }
  const backend = backendFor(plan.backend);
  backend.validate(plan);
  // Before building: a signer that cannot work must stop the run before an image goes out unsigned.
  const signing = prepareSigning(plan.signers, io, undefined, { buildNumber: plan.gitState.buildNumber, skipped: plan.skippedSigners });
  const started = Date.now();
  const units = plan.builds.map((b) => b.variant ?? 'build').join(', ');
  io.log.info(`building ${plan.name} with ${backend.name} (${plan.builds.length === 1 ? units : `variants: ${units}`}); logs in ${plan.logDir}`);
  const results = await runBuilds(backend, plan, { env: io.env, stderr: io.stderr, signal: io.signal, silent: plan.silent, debug: options.debug, secrets: io.log.secrets });
  for (const line of summarize(results)) io.log.info(line);
  const failed = results.filter((r) => !r.ok);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (io.signal.aborted) throw new WorkError(`stopped by signal after ${seconds}s`);
  if (failed.length > 0) {
    reportBuild(plan, options, io, results, false);
    throw new WorkError(`${failed.length} of ${results.length} builds failed after ${seconds}s: ${failed.map((r) => `${r.variant ?? 'build'} (log: ${r.logFile})`).join(', ')}`);
  }
  io.log.info(`done in ${seconds}s: ${results.reduce((n, r) => n + r.pushed.length, 0)} images pushed`);
  const failures = await signPushed(signing, results, io);
  reportBuild(plan, options, io, results, failures.length === 0 && plan.signers.length > 0);
  if (failures.length > 0) throw signingError(failures, plan.signers.length);
  return 0;
}

/** --build-report-path and the GitHub outputs of a local build. */
function reportBuild(plan: Plan, options: Options, io: ExecuteIO, results: BuildResult[], signed: boolean): void {
  try {
    writeReports(plan, options, io, results, signed);
  } catch (err) {
    // The build's outcome is the news; a report that cannot be written (disk full) must not replace it.
    io.log.warn(`could not write the build report or outputs: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function writeReports(plan: Plan, options: Options, io: ExecuteIO, results: BuildResult[], signed: boolean): void {
  const report = localBuildReport(plan, results, signed);
  if (options.buildReportPath) writeFileCreatingDirs(options.buildReportPath, io.log.redact(`${JSON.stringify(report, null, 2)}\n`));
  writeBuildOutputs(io.env, report, results, (text) => io.log.redact(text));
}
