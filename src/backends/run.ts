import os from 'node:os';
import type { Plan } from '../plan-types.js';
import type { RunContext } from '../support/context.js';
import type { Env } from '../ci/gitstate.js';
import type { BuildUnit } from '../plan-types.js';
import type { Backend, BuildResult, LocalBuilder, RunResult } from './backend.js';
import { unitResult } from './process.js';
import { runSelfPushingBuilder, type SelfPushingRun } from './pushed.js';
import { SCRATCH_PLACEHOLDER } from './scratch.js';
import { Reuse } from '../reuse/run.js';
import type { SnapshotPaths } from '../inputs/index.js';

/** Builders mostly wait on registries and disks, so a few more than the CPUs keeps variants from queueing. */
export function maxConcurrentBuilds(): number {
  return Math.max(4, os.availableParallelism());
}

/** A builder that runs here, unit by unit, as a Backend: the dry-run shows its argvs, a run builds every unit. */
export function processBackend(builder: LocalBuilder): Backend & Pick<LocalBuilder, 'commands' | 'build'> {
  return {
    ...builder,
    validate: (plan) => builder.validate?.(plan) ?? [],
    describe: (plan, env) => ({ commands: plan.builds.map((unit) => builder.commands(plan, unit, env)) }),
    run: (plan, ctx) => runLocally(builder, plan, ctx),
  };
}

/** A builder that pushes every destination itself (kaniko, buildctl): described by its argv and where it writes the digest. */
export interface SelfPushingBuilder extends Pick<LocalBuilder, 'name' | 'capabilities' | 'executable' | 'validate'>, Omit<SelfPushingRun, 'argv' | 'scratchIn'> {
  /** The builder's argv; with scratch undefined it asks for no digest file. */
  argv: (plan: Plan, unit: BuildUnit, env: Env, scratch: string | undefined) => string[];
  /** Folders to make the scratch folder in before the system temp folder. */
  scratchIn?: (env: Env) => string[];
}

export function selfPushingBackend(builder: SelfPushingBuilder): ReturnType<typeof processBackend> {
  const { argv, scratchIn, ...run } = builder;
  return processBackend({
    ...builder,
    commands: (plan, unit, env) => [argv(plan, unit, env, SCRATCH_PLACEHOLDER)],
    build: (plan, unit, ctx) =>
      runSelfPushingBuilder(plan, unit, ctx, { ...run, argv: (scratch) => argv(plan, unit, ctx.env, scratch), ...(scratchIn ? { scratchIn: scratchIn(ctx.env) } : {}) }),
  });
}

async function runLocally(builder: LocalBuilder, plan: Plan, ctx: RunContext): Promise<RunResult> {
  const started = ctx.now().getTime();
  const names = plan.builds.map((b) => b.variant ?? 'build').join(', ');
  const reuse = plan.reuse.enabled ? `; reuse on (${plan.reuse.decidedBy}): an image of the same inputs is copied, not built` : '';
  ctx.log.info(`building ${plan.name} with ${builder.name} (${plan.builds.length === 1 ? names : `variants: ${names}`}); logs in ${plan.logDir}${reuse}`);
  const units = await reusing(builder, plan, ctx, (b) => runBuilds(b, plan, ctx));
  for (const line of summarize(units)) ctx.log.info(line);
  const failed = units.filter((r) => !r.ok);
  const seconds = ((ctx.now().getTime() - started) / 1000).toFixed(1);
  if (ctx.signal.aborted) return { units, failure: `stopped by signal after ${seconds}s`, noReport: true };
  if (failed.length > 0) {
    return { units, failure: `${failed.length} of ${units.length} ${units.length === 1 ? 'build' : 'builds'} failed after ${seconds}s: ${failed.map((r) => `${r.variant ?? 'build'} (log: ${r.logFile})`).join(', ')}` };
  }
  const reused = units.filter((r) => r.reusedFrom !== undefined);
  const copied = reused.length > 0 ? ` (${reused.length} of ${units.length} ${units.length === 1 ? 'build' : 'builds'} reused, not built)` : '';
  const count = units.reduce((n, r) => n + r.pushed.length, 0);
  ctx.log.info(`done in ${seconds}s: ${count} ${count === 1 ? 'image' : 'images'} pushed${copied}`);
  return { units };
}

/**
 * With reuse on, each unit's image is first looked up by its inputs: the builder runs only for what changed, and then
 * reads the context and Dockerfile from a private snapshot of what was hashed, never from the working tree.
 */
async function reusing<T>(builder: LocalBuilder, plan: Plan, ctx: RunContext, run: (b: Pick<LocalBuilder, 'build'>) => Promise<T>): Promise<T> {
  const { inputsScan } = plan;
  if (!plan.reuse.enabled || !inputsScan) return run(builder);
  const reuse = new Reuse({ ...plan, inputsScan }, ctx, builder.scratchIn?.(ctx.env) ?? []);
  const fromSnapshot = (p: Plan, from: SnapshotPaths | undefined): Plan => (from ? { ...p, context: from.context, dockerfile: from.dockerfile } : p);
  try {
    return await run({ build: (p, unit, c) => reuse.buildOrReuse(unit, (u, from) => builder.build(fromSnapshot(p, from), u, c)) });
  } finally {
    await reuse.close();
  }
}

/** Runs every unit of the plan concurrently (bounded); one failure does not stop the others. Results in plan order. */
export async function runBuilds(builder: Pick<LocalBuilder, 'build'>, plan: Plan, ctx: RunContext, concurrency = maxConcurrentBuilds()): Promise<BuildResult[]> {
  const results: BuildResult[] = new Array<BuildResult>(plan.builds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plan.builds.length; i = next++) {
      const unit = plan.builds[i]!;
      try {
        results[i] = await builder.build(plan, unit, ctx);
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
    const how = result.reusedFrom ? `reused ${result.reusedFrom} as` : 'pushed';
    const pushed = result.pushed.map((image) => `${how} ${image.reference}${image.digest ? ` ${image.digest}` : ' (digest unknown)'}`);
    if (result.ok) return pushed;
    return [...pushed, `${unit} failed: ${result.error ?? 'unknown error'} (log: ${result.logFile})`];
  });
}
