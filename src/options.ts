import type { BackendName } from './plan-types.js';

/** Every flag of the command line, parsed but not yet interpreted. */
export interface Options {
  config: string;
  name?: string;
  context: string;
  dockerfile: string;
  tags: string[];
  tagBase64?: string;
  buildArgs: string[];
  platforms: string[];
  target?: string;
  exportTags: boolean;
  variant?: string;
  envFile?: string;
  logDir: string;
  silent: boolean;
  repo?: string;
  backend?: BackendName;
  buildInAdo: boolean;
  adoPreviewRun: boolean;
  adoPreviewRunYamlPath?: string;
  testKanikoBuildConfig: boolean;
  parseTagsOnly: boolean;
  signOnly: boolean;
  imagesToSign: string[];
  oidcToken?: string;
  azureAccessToken?: string;
  azureClientId?: string;
  azureClientSecret?: string;
  azureTenantId?: string;
  adoParams: string[];
  tagsOutputFile?: string;
  buildReportPath?: string;
  commitSha?: string;
  dryRun: boolean;
  debug: boolean;
}

export const BACKENDS: readonly BackendName[] = ['kaniko', 'buildkit', 'buildah', 'ado'];
