import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Env } from '../ci/gitstate.js';

/** GITHUB_OUTPUT entry in the multi-line-safe heredoc form, with a delimiter the value cannot contain. */
export function outputEntry(name: string, value: string): string {
  let delimiter = `ghadelimiter_${randomBytes(8).toString('hex')}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomBytes(8).toString('hex')}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/** The run's secret registry, applied to everything written for people and later steps. */
export type Redact = (text: string) => string;

/** In GitHub Actions (and only there): the outputs through GITHUB_OUTPUT and a step-summary section. */
export function writeActionOutputs(env: Env, outputs: Record<string, string>, summary: string, redact: Redact): void {
  if (env.GITHUB_ACTIONS !== 'true') return;
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, Object.entries(outputs).map(([name, value]) => outputEntry(name, redact(value))).join(''));
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, redact(summary));
}
