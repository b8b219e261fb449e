import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Env } from '../ci/gitstate.js';
import type { BuildResult } from '../backends/backend.js';
import type { Plan } from '../plan-types.js';
import type { BuildReport } from '../backends/ado/report.js';

/** GITHUB_OUTPUT entry in the multi-line-safe heredoc form, with a delimiter the value cannot contain. */
export function outputEntry(name: string, value: string): string {
  let delimiter = `ghadelimiter_${randomBytes(8).toString('hex')}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomBytes(8).toString('hex')}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

export function stepSummary(results: BuildResult[]): string {
  const rows = results.flatMap((r) =>
    r.pushed.map((p) => `| ${r.variant ?? '-'} | \`${p.reference}\` | ${p.digest ? `\`${p.digest}\`` : '-'} |`),
  );
  const failed = results.filter((r) => !r.ok).map((r) => `- ${r.variant ?? 'build'} failed: ${r.error ?? 'see log'}`);
  return ['### Images built', '', '| variant | image | digest |', '|---|---|---|', ...rows, ...(failed.length ? ['', ...failed] : []), ''].join('\n');
}

/** In GitHub Actions (and only there): the outputs through GITHUB_OUTPUT and a step-summary section. */
function writeActionOutputs(env: Env, outputs: Record<string, string>, summary: string, redact: Redact): void {
  if (env.GITHUB_ACTIONS !== 'true') return;
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, Object.entries(outputs).map(([name, value]) => outputEntry(name, redact(value))).join(''));
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, redact(summary));
}

/** The run's secret registry, applied to everything written for people and later steps. */
export type Redact = (text: string) => string;

/** A local build's outputs: images (JSON array), digest, architectures and build-report, and a table of what was pushed. */
export function writeBuildOutputs(env: Env, report: BuildReport, results: BuildResult[], redact: Redact): void {
  const outputs = {
    images: JSON.stringify(report.images_list),
    digest: report.digest,
    architectures: JSON.stringify(report.architectures),
    'build-report': JSON.stringify(report),
  };
  writeActionOutputs(env, outputs, stepSummary(results), redact);
}

/** A local build's report, in the fields of the pipeline's build report so that scripts read both alike. */
export function localBuildReport(plan: Plan, results: BuildResult[], signed: boolean): BuildReport {
  const pushed = results.flatMap((r) => r.pushed);
  return {
    status: results.every((r) => r.ok) ? 'succeeded' : 'failed',
    pushed: pushed.length > 0,
    signed,
    image_name: plan.name ?? '',
    images_list: pushed.map((p) => p.reference),
    digest: pushed.find((p) => p.digest)?.digest ?? '',
    tags: [...new Set(plan.builds.flatMap((b) => b.tags.map((t) => t.value)))],
    repository_path: plan.repositories.join(','),
    architectures: plan.platforms.map((p) => p.split('/')[1] ?? p),
  };
}

/** What an Azure DevOps run built, as its log reported it. */
export interface AdoRunOutputs {
  /** succeeded, failed, canceled or unknown */
  result: string;
  runId: number;
  runUrl?: string;
  images: string[];
  digest: string;
  architectures: string[];
  /** The build report JSON, secrets already masked; empty when the log had none. */
  reportJson: string;
}

export function adoStepSummary(o: AdoRunOutputs): string {
  const run = o.runUrl ? `[${o.runId}](${o.runUrl})` : String(o.runId);
  const rows = o.images.map((image) => `| \`${image}\` | ${o.digest ? `\`${o.digest}\`` : '-'} | ${o.architectures.join(', ') || '-'} |`);
  const table = rows.length > 0 ? ['| image | digest | architectures |', '|---|---|---|', ...rows] : ['No images reported by the pipeline.'];
  return ['### Images built in Azure DevOps', '', `Run ${run}: **${o.result}**`, '', ...table, ''].join('\n');
}

/** An ADO run's outputs: images, adoResult, digest, architectures and build-report, and a step-summary table. */
export function writeAdoOutputs(env: Env, o: AdoRunOutputs, redact: Redact): void {
  const outputs = {
    images: JSON.stringify(o.images),
    adoResult: o.result,
    digest: o.digest,
    architectures: JSON.stringify(o.architectures),
    'build-report': o.reportJson,
  };
  writeActionOutputs(env, outputs, adoStepSummary(o), redact);
}
