import type { Options } from '../../options.js';
import type { Plan } from '../../plan-types.js';
import type { Backend } from '../backend.js';
import { NO_CREDENTIAL } from './credentials.js';
import { adoRequest, describeAdoRequest, type AdoRequest } from './request.js';

/** The request prepare() made while planning. */
const requestOf = (plan: Plan): AdoRequest | undefined => plan.backendInputs as AdoRequest | undefined;

/** Azure DevOps: a pipeline builds, pushes and signs from its own checkout; this client starts it, follows it, reports. */
export const adoBackend: Backend = {
  name: 'ado',
  capabilities: { variants: false, platforms: true, diskDestinations: false, needsRegistry: false, signsItself: true, localInputs: false, reuse: false, secrets: false },
  secretEnv: ['ADO_PAT', 'AZURE_CLIENT_SECRET'],

  optionProblems(o: Options, chosen: boolean) {
    const problems: string[] = [];
    if (o.backend !== undefined && o.buildInAdo && o.backend !== 'ado') problems.push(`--build-in-ado conflicts with --backend ${o.backend}; keep one of them`);
    if (o.adoPreviewRun && !chosen) problems.push('--ado-preview-run needs the ADO backend; add --build-in-ado=true or --backend=ado');
    if (o.adoPreviewRun && o.adoPreviewRunYamlPath === undefined) problems.push('--ado-preview-run needs --ado-preview-run-yaml-path=<pipeline.yaml>');
    if (!o.adoPreviewRun && o.adoPreviewRunYamlPath !== undefined) problems.push('--ado-preview-run-yaml-path is only used with --ado-preview-run; add it or drop the path');
    for (const flag of ['label', 'annotation'] as const) {
      if (chosen && o[`${flag}s`].length > 0) problems.push(`--${flag} is not supported with the ado backend: its pipeline builds the image and takes no labels or annotations; drop --${flag} or use another --backend`);
    }
    for (const p of o.adoParams) {
      if (!/^[A-Za-z_][\w.-]*=/.test(p)) problems.push(`--ado-param ${JSON.stringify(p.split('=')[0])} is not KEY=VALUE`);
    }
    return problems;
  },

  prepare: (setup, plan) => adoRequest(plan, setup),

  validate(plan) {
    // SPEC 9: no credential is bad input, except in a dry run, which shows where the credential would come from.
    const request = requestOf(plan);
    return request && !plan.dryRun && !request.credential ? [NO_CREDENTIAL] : [];
  },

  describe(plan) {
    const request = requestOf(plan);
    return request ? { fields: { ado: describeAdoRequest(request) } } : {};
  },

  async run(plan, ctx) {
    // Loaded on demand: only a pipeline run loads the ADO client.
    const { runAdo } = await import('./run.js');
    const request = requestOf(plan);
    if (!request) throw new Error('the ADO request was not prepared');
    return runAdo(plan, request, ctx);
  },
};
