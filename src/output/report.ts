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

/** One build unit (variant) of a local run: what it pushed, and whether the image was reused instead of built. */
export interface UnitReport {
  variant?: string;
  images: string[];
  digest: string;
  reused: boolean;
  /** The image of the same inputs that was copied (`registry/repository:inputs-<hex>`). */
  reusedFrom?: string;
}

/** A local build's report: the pipeline's fields, and reuse (beyond). */
export interface LocalBuildReport extends BuildReport {
  /** Every unit was reused: nothing was built. */
  reused: boolean;
  /** The image copied, when the run's one unit was reused. */
  reusedFrom?: string;
  builds: UnitReport[];
}

/** A local build's report, in the fields of the pipeline's build report so that scripts read both alike. */
export function localBuildReport(plan: Plan, results: BuildResult[], signed: boolean): LocalBuildReport {
  const pushed = results.flatMap((r) => r.pushed);
  const builds = results.map((r): UnitReport => ({
    ...(r.variant === undefined ? {} : { variant: r.variant }),
    images: r.pushed.map((p) => p.reference),
    digest: r.pushed.find((p) => p.digest)?.digest ?? '',
    reused: r.reusedFrom !== undefined,
    ...(r.reusedFrom === undefined ? {} : { reusedFrom: r.reusedFrom }),
  }));
  const reused = builds.length > 0 && builds.every((b) => b.reused);
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
    reused,
    ...(reused && builds.length === 1 && builds[0]?.reusedFrom ? { reusedFrom: builds[0].reusedFrom } : {}),
    builds,
  };
}

/** A local build's report with its outputs (images as a JSON array, digest, architectures, reused, build-report) and a table of what was pushed. */
export function localRunReport(plan: Plan, results: BuildResult[], signed: boolean): RunReport {
  const report = localBuildReport(plan, results, signed);
  const outputs = {
    images: JSON.stringify(report.images_list),
    digest: report.digest,
    architectures: JSON.stringify(report.architectures),
    reused: String(report.reused),
    'build-report': JSON.stringify(report),
  };
  return { reportFile: `${JSON.stringify(report, null, 2)}\n`, outputs, summary: stepSummary(results) };
}

export function stepSummary(results: BuildResult[]): string {
  const rows = results.flatMap((r) =>
    r.pushed.map((p) => `| ${r.variant ?? '-'} | \`${p.reference}\` | ${p.digest ? `\`${p.digest}\`` : '-'} | ${r.reusedFrom ? `reused: copied from \`${r.reusedFrom}\`` : 'built'} |`),
  );
  const failed = results.filter((r) => !r.ok).map((r) => `- ${r.variant ?? 'build'} failed: ${r.error ?? 'see log'}`);
  return ['### Images built', '', '| variant | image | digest | how |', '|---|---|---|---|', ...rows, ...(failed.length ? ['', ...failed] : []), ''].join('\n');
}
