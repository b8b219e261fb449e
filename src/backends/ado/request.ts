import { InputError, Problems } from '../../errors.js';
import type { Plan } from '../../plan-types.js';
import type { BackendSetup } from '../backend.js';
import { isSecretLookingName } from '../../tags/index.js';
import type { AdoTarget } from './client.js';
import { describeCredential, resolveCredential, type AdoCredential } from './credentials.js';
import { adoParameters, type AdoParameters } from './parameters.js';
import type { RetryPolicy } from '../../support/retry.js';

import { MASK } from '../../support/secrets.js';

/** Everything a run sends to and expects from Azure DevOps, as plain data (what --dry-run prints, masked). */
export interface AdoRequest {
  target: AdoTarget;
  previewRun: boolean;
  /** --ado-preview-run-yaml-path and its content, sent as yamlOverride (read while planning). */
  yamlOverride?: { path: string; text: string };
  parameters: AdoParameters;
  /** undefined when none is configured: an error, except in --dry-run. */
  credential?: AdoCredential;
  refreshIntervalMs: number;
  timeoutMs: number;
  retry: RetryPolicy;
}

/** Plan + flags + config + env → the ADO request; every input problem reported together (exit 2). No network; reads only the preview YAML. */
export function adoRequest(plan: Plan, setup: BackendSetup): AdoRequest {
  const { options, env } = setup;
  const problems = new Problems();
  const config = setup.config['ado-config'];
  if (!config) {
    problems.add(`${options.config}: ado-config is not set; the ado backend needs ado-config with ado-organization-url, ado-project-name and ado-pipeline-id`);
  }
  const parameters = problems.collect(() => adoParameters(plan, options, options.adoPreviewRun));
  const credential = problems.collect(() => resolveCredential(options, env));
  const path = options.adoPreviewRun ? options.adoPreviewRunYamlPath : undefined;
  const yaml = path === undefined ? undefined : problems.collect(() => setup.readFile(path, '--ado-preview-run-yaml-path', 'give the pipeline YAML file to preview'));
  problems.throwIfAny();
  if (!config || !parameters) throw new InputError('ado-config or pipeline parameters missing without a reported problem');
  const version = config['ado-pipeline-version'];
  return {
    target: {
      organizationUrl: config['ado-organization-url'],
      project: config['ado-project-name'],
      pipelineId: config['ado-pipeline-id'],
      ...(version ? { pipelineVersion: version } : {}),
    },
    previewRun: options.adoPreviewRun,
    ...(path !== undefined && yaml !== undefined ? { yamlOverride: { path, text: yaml } } : {}),
    parameters,
    credential,
    refreshIntervalMs: config['ado-refresh-interval'],
    timeoutMs: config['ado-timeout'],
    retry: { attempts: config['ado-retry-strategy'].attempts, delayMs: config['ado-retry-strategy'].delay },
  };
}

/** A parameter value as people may see it: the OIDC token and secret-looking names masked. */
function maskParameter(name: string, value: string): string {
  if (name === 'Authorization' || isSecretLookingName(name)) return MASK;
  if (name === 'BuildArgs') {
    return value
      .split(',')
      .map((arg) => {
        const eq = arg.indexOf('=');
        return eq > 0 && isSecretLookingName(arg.slice(0, eq)) ? `${arg.slice(0, eq)}=${MASK}` : arg;
      })
      .join(',');
  }
  return value;
}

export function maskedParameters(parameters: AdoParameters): AdoParameters {
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, maskParameter(k, v)]));
}

/** The request as --dry-run prints it: the REST call it would make, every credential as ***. */
export function describeAdoRequest(request: AdoRequest): Record<string, unknown> {
  const { target } = request;
  return {
    organizationUrl: target.organizationUrl,
    project: target.project,
    pipelineId: target.pipelineId,
    pipelineVersion: target.pipelineVersion ?? 'latest',
    call: `POST ${target.organizationUrl.replace(/\/+$/, '')}/${encodeURIComponent(target.project)}/_apis/pipelines/${target.pipelineId}/runs`,
    body: {
      previewRun: request.previewRun,
      ...(request.yamlOverride ? { yamlOverride: `<content of ${request.yamlOverride.path}>` } : {}),
      templateParameters: maskedParameters(request.parameters),
    },
    credential: describeCredential(request.credential),
    refreshIntervalMs: request.refreshIntervalMs,
    timeoutMs: request.timeoutMs,
    retry: request.retry,
  };
}
