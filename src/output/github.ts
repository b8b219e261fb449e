import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Env } from '../ci/gitstate.js';
import type { BuildResult } from '../backends/backend.js';
import type { Plan } from '../plan-types.js';

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

/** In GitHub Actions: outputs images (JSON array) and digest, and a table in the step summary. */
export function writeBuildOutputs(env: Env, _plan: Plan, results: BuildResult[]): void {
  if (env.GITHUB_ACTIONS !== 'true') return;
  const images = results.flatMap((r) => r.pushed.map((p) => p.reference));
  const digest = results.flatMap((r) => r.pushed).find((p) => p.digest)?.digest ?? '';
  if (env.GITHUB_OUTPUT) {
    appendFileSync(env.GITHUB_OUTPUT, outputEntry('images', JSON.stringify(images)) + outputEntry('digest', digest));
  }
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, stepSummary(results));
}
