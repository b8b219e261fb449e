import { WorkError } from './errors.js';
import type { Plan } from './plan-types.js';
import { backendNamed } from './backends/index.js';
import type { RunReport } from './backends/backend.js';
import { writeActionOutputs } from './output/github.js';
import { writeFileCreatingDirs } from './output/json.js';
import { localRunReport } from './output/report.js';
import type { RunContext } from './support/context.js';
import { prepareSigning, signImages, signingError, signingRun, signPushed, type Signing } from './sign/run.js';
import { trustedKeyFromPublicKey } from './reuse/trusted.js';
import { attestPushed, startProvenance } from './sign/provenance-run.js';

/** The effectful modes: build (then sign) and sign-only. Returns the exit code; the edge writes every result. */
export async function execute(plan: Plan, ctx: RunContext): Promise<number> {
  if (plan.mode === 'sign-only') {
    const failures = await signImages(plan, plan.imagesToSign, ctx);
    if (failures.length > 0) throw signingError(failures, plan.signers.length);
    return 0;
  }
  const backend = backendNamed(plan.backend);
  if (!backend) throw new Error(`no backend named ${plan.backend}`);
  // Before building: a signer that cannot work must stop the run before an image goes out unsigned.
  const signing = backend.capabilities.signsItself
    ? undefined
    : await prepareSigning(plan.signers, ctx, undefined, signingRun(plan));
  const provenance = signing && startProvenance(plan, signing, ctx);
  const result = await backend.run(withSignerTrust(plan, signing), ctx);
  if (result.stdout) ctx.stdout.write(result.stdout);
  const failures = signing && !result.failure ? await signPushed(signing, result.units, ctx) : [];
  if (signing && provenance && !result.failure) failures.push(...(await attestPushed(provenance, plan, signing, result.units, ctx)));
  const signed = signing !== undefined && !result.failure && failures.length === 0 && plan.signers.length > 0;
  if (!result.noReport) writeReport(plan, ctx, result.report ?? localRunReport(plan, result.units, signed));
  if (result.failure) throw new WorkError(ctx.log.redact(result.failure));
  if (failures.length > 0) throw signingError(failures, plan.signers.length);
  return 0;
}

/** Reuse trusts what this run's own cosign keys attested (an earlier run of the same job), besides reuse.trusted. */
function withSignerTrust(plan: Plan, signing: Signing | undefined): Plan {
  if (!plan.reuse.enabled || !signing) return plan;
  const own = signing.signers.flatMap((signer) => (signer.trustKey ? [trustedKeyFromPublicKey(signer.trustKey.publicKey, `signer "${signer.name}"`, signer.trustKey.repository)] : []));
  return own.length === 0 ? plan : { ...plan, reuse: { ...plan.reuse, trusted: [...plan.reuse.trusted, ...own] } };
}

/** --build-report-path and the GitHub outputs; a report that cannot be written (disk full) must not replace the build's outcome. */
function writeReport(plan: Plan, ctx: RunContext, report: RunReport): void {
  const redact = (text: string): string => ctx.log.redact(text);
  try {
    if (plan.outputs.buildReportPath && report.reportFile) writeFileCreatingDirs(plan.outputs.buildReportPath, redact(report.reportFile));
    writeActionOutputs(ctx.env, report.outputs, report.summary, redact);
  } catch (err) {
    ctx.log.warn(`could not write the build report or outputs: ${err instanceof Error ? err.message : String(err)}`);
  }
}
