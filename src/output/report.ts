import type { BuildResult, RunReport } from '../backends/backend.js';
import type { Plan } from '../plan-types.js';

/** The report fields of SPEC 9, normalised: absent fields become empty. A local build writes the same fields. */
export interface BuildReport {
  status: string;
  pushed: boolean;
  signed: boolean;
  image_name: string;
  images_list: string[];
  digest: string;
  tags: string[];
  repository_path: string;
  architectures: string[];
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

/** A local build's report with its outputs (images as a JSON array, digest, architectures, build-report) and a table of what was pushed. */
export function localRunReport(plan: Plan, results: BuildResult[], signed: boolean): RunReport {
  const report = localBuildReport(plan, results, signed);
  const outputs = {
    images: JSON.stringify(report.images_list),
    digest: report.digest,
    architectures: JSON.stringify(report.architectures),
    'build-report': JSON.stringify(report),
  };
  return { reportFile: `${JSON.stringify(report, null, 2)}\n`, outputs, summary: stepSummary(results) };
}

export function stepSummary(results: BuildResult[]): string {
  const rows = results.flatMap((r) =>
    r.pushed.map((p) => `| ${r.variant ?? '-'} | \`${p.reference}\` | ${p.digest ? `\`${p.digest}\`` : '-'} |`),
  );
  const failed = results.filter((r) => !r.ok).map((r) => `- ${r.variant ?? 'build'} failed: ${r.error ?? 'see log'}`);
  return ['### Images built', '', '| variant | image | digest |', '|---|---|---|', ...rows, ...(failed.length ? ['', ...failed] : []), ''].join('\n');
}
