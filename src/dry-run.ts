import type { Env } from './ci/gitstate.js';
import type { Options } from './options.js';
import type { Plan } from './plan-types.js';
import { maskArgs } from './output/redact.js';
import { backendFor } from './backends/backend.js';
import { adoRequest, describeAdoRequest } from './backends/ado/request.js';

/** The whole plan as printed by --dry-run: no network, no builder, secrets masked. */
export async function dryRunReport(plan: Plan, options: Options, env: Env): Promise<Record<string, unknown>> {
  const masked: Plan = { ...plan, builds: plan.builds.map((b) => ({ ...b, buildArgs: maskArgs(b.buildArgs) })) };
  const backend = plan.mode === 'build' && plan.backend !== 'ado' ? backendFor(plan.backend) : undefined;
  backend?.validate(plan);
  return {
    dryRun: true,
    mode: plan.mode,
    backend: plan.mode === 'build' ? plan.backend : undefined,
    gitState: plan.gitState,
    name: plan.name,
    context: plan.context,
    dockerfile: plan.dockerfile,
    tags: plan.tags,
    repositories: plan.repositories,
    platforms: plan.platforms,
    target: plan.target,
    cache: plan.cache,
    ado: plan.mode === 'build' && plan.backend === 'ado' ? describeAdoRequest(adoRequest(plan, options, env)) : undefined,
    builds: masked.builds.map((unit) => ({
      ...unit,
      commands: backend?.commands(masked, unit, env),
    })),
    signers: plan.signers.map((s) => ({ name: s.name, type: s.type, ...(s.type === 'notary' ? { endpoint: s.config.endpoint, secretType: s.config.secret.type } : {}) })),
    skippedSigners: plan.skippedSigners.length > 0 ? plan.skippedSigners : undefined,
    imagesToSign: plan.mode === 'sign-only' ? plan.imagesToSign : undefined,
    outputs: { tagsOutputFile: options.tagsOutputFile, buildReportPath: options.buildReportPath, logDir: plan.logDir },
  };
}
