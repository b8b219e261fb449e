import type { RunReport } from '../backend.js';

/** What an Azure DevOps run built, as its log reported it. */
export interface AdoRunOutputs {
  /** succeeded, failed, canceled or unknown */
  result: string;
  runId: number;
  runUrl?: string;
  images: string[];
  digest: string;
  architectures: string[];
  /** The build report JSON; empty when the log had none. */
  reportJson: string;
}

export function adoStepSummary(o: AdoRunOutputs): string {
  const run = o.runUrl ? `[${o.runId}](${o.runUrl})` : String(o.runId);
  const rows = o.images.map((image) => `| \`${image}\` | ${o.digest ? `\`${o.digest}\`` : '-'} | ${o.architectures.join(', ') || '-'} |`);
  const table = rows.length > 0 ? ['| image | digest | architectures |', '|---|---|---|', ...rows] : ['No images reported by the pipeline.'];
  return ['### Images built in Azure DevOps', '', `Run ${run}: **${o.result}**`, '', ...table, ''].join('\n');
}

/** An ADO run's report: the pipeline's own report JSON, outputs images, adoResult, digest, architectures and build-report, and a step summary. */
export function adoRunReport(o: AdoRunOutputs): RunReport {
  const outputs = {
    images: JSON.stringify(o.images),
    adoResult: o.result,
    digest: o.digest,
    architectures: JSON.stringify(o.architectures),
    'build-report': o.reportJson,
  };
  return { ...(o.reportJson ? { reportFile: `${o.reportJson}\n` } : {}), outputs, summary: adoStepSummary(o) };
}
