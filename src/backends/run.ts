import os from 'node:os';
import type { Plan } from '../plan-types.js';
import type { Backend, BuildIO, BuildResult } from './backend.js';
import { unitResult } from './process.js';

/** Builders mostly wait on registries and disks, so a few more than the CPUs keeps variants from queueing. */
export function maxConcurrentBuilds(): number {
  return Math.max(4, os.availableParallelism());
}

/** Runs every unit of the plan concurrently (bounded); one failure does not stop the others. Results in plan order. */
export async function runBuilds(backend: Backend, plan: Plan, io: BuildIO, concurrency = maxConcurrentBuilds()): Promise<BuildResult[]> {
  const results: BuildResult[] = new Array<BuildResult>(plan.builds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plan.builds.length; i = next++) {
      const unit = plan.builds[i]!;
      try {
        results[i] = await backend.build(plan, unit, io);
      } catch (err) {
        // A backend bug or an unwritable log dir fails this unit only.
        results[i] = { ...unitResult(unit), error: err instanceof Error ? err.message : String(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, plan.builds.length)) }, worker));
  return results;
}

/** Lines for people: every pushed reference with its digest, every failed unit with its log file. */
export function summarize(results: BuildResult[]): string[] {
  return results.flatMap((result) => {
    const unit = result.variant === undefined ? 'build' : `variant ${result.variant}`;
    const pushed = result.pushed.map((image) => `pushed ${image.reference}${image.digest ? ` ${image.digest}` : ' (digest unknown)'}`);
    if (result.ok) return pushed;
    return [...pushed, `${unit} failed: ${result.error ?? 'unknown error'} (log: ${result.logFile})`];
  });
}
