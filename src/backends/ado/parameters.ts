import { Problems } from '../../errors.js';
import type { Options } from '../../options.js';
import type { Plan } from '../../plan-types.js';
import { encodeTagsBase64 } from '../../tags/index.js';

/** Template parameters of the oci-image-builder pipeline: every value a string (SPEC 9, compat names). */
export type AdoParameters = Record<string, string>;

/** Names this tool sets itself; --ado-param may not redefine them. */
export const BUILTIN_PARAMETERS = [
  'RepoName', 'RepoOwner', 'JobType', 'PullNumber', 'PullBaseSHA', 'PullPullSHA', 'BaseRef', 'Name', 'Dockerfile', 'Context',
  'ExportTags', 'UseKanikoConfigFromPR', 'EnvFile', 'BuildArgs', 'Tags', 'Platforms', 'Target', 'Authorization',
  'UseGoInternalSAPModules', 'useRestrictedRegistry',
] as const;

/** What the 2026 tool sends when no --platform is given. */
export const DEFAULT_PLATFORMS = 'linux/amd64,linux/arm64';

const HOW_TO_SET: Record<string, string> = {
  RepoName: 'the repository name: REPO_NAME in Prow/ADO, the event payload in GitHub Actions, --repo=org/repo outside CI',
  RepoOwner: 'the repository owner: REPO_OWNER in Prow/ADO, the event payload in GitHub Actions, --repo=org/repo outside CI',
  PullNumber: 'the pull request number: PULL_NUMBER',
  PullBaseSHA: 'the base commit SHA: PULL_BASE_SHA, GITHUB_SHA or --commit-sha',
  PullPullSHA: 'the head SHA of the pull request or merge group: PULL_PULL_SHA',
  Name: 'the image name: --name',
  Dockerfile: 'the Dockerfile path: --dockerfile',
  Context: 'the build context: --context',
};

/** `--ado-param KEY=VALUE` (the value may contain "="); the last of a repeated key wins, as with flags. */
function extraParameters(options: Options, problems: Problems): AdoParameters {
  const out: AdoParameters = {};
  for (const raw of options.adoParams) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    if (eq < 0 || key === '') problems.add(`--ado-param "${key}" is not KEY=VALUE`);
    else if ((BUILTIN_PARAMETERS as readonly string[]).includes(key)) {
      problems.add(`--ado-param ${key}: image-builder sets the pipeline parameter ${key} itself; use the matching flag instead of --ado-param`);
    } else out[key] = raw.slice(eq + 1);
  }
  return out;
}

/**
 * Plan + Options → the pipeline's template parameters, in the order of SPEC 9 (compat names and encodings). Pure.
 * Context, Dockerfile and EnvFile go as given: they are paths in the pipeline's own checkout.
 * BuildArgs carries only --build-arg: the pipeline derives COMMIT_SHA and TAG_* itself and reads the env file.
 * Tags carries the user's tags as written (name=template), not rendered: the pipeline renders them, as with the Go tool.
 */
export function adoParameters(plan: Plan, options: Options, preview = false): AdoParameters {
  const problems = new Problems();
  const git = plan.gitState;
  const p: AdoParameters = {};
  const missing: string[] = [];
  const set = (key: string, value: string | undefined, required: boolean): void => {
    if (value !== undefined && value !== '') p[key] = value;
    else if (required) missing.push(key);
  };
  const mergeGroup = git.jobType === 'merge_group';

  set('RepoName', git.repositoryName, true);
  set('RepoOwner', git.repositoryOwner, true);
  set('JobType', git.jobType, true);
  if (git.isPullRequest) set('PullNumber', git.pullRequestNumber?.toString(), true);
  else if (mergeGroup) p.PullNumber = '0';
  set('PullBaseSHA', git.baseCommitSHA, true);
  if (git.isPullRequest || mergeGroup) set('PullPullSHA', git.pullHeadCommitSHA, true);
  set('BaseRef', git.baseCommitRef, false);
  // A preview only validates the YAML: --name is optional there, sent empty as the Go tool does.
  if (preview && !options.name) p.Name = '';
  else set('Name', options.name, true);
  set('Dockerfile', options.dockerfile, true);
  set('Context', options.context, true);
  p.ExportTags = String(options.exportTags);
  if (options.testKanikoBuildConfig) p.UseKanikoConfigFromPR = 'true';
  set('EnvFile', options.envFile, false);
  if (options.buildArgs.length > 0) p.BuildArgs = options.buildArgs.join(',');
  if (plan.userTags.length > 0) {
    const encoded = problems.collect(() => encodeTagsBase64(plan.userTags));
    if (encoded !== undefined) p.Tags = encoded;
  }
  p.Platforms = plan.platforms.length > 0 ? plan.platforms.join(',') : DEFAULT_PLATFORMS;
  set('Target', plan.target, false);
  set('Authorization', options.oidcToken, false);
  if (options.useGoInternalSapModules) p.UseGoInternalSAPModules = 'true';
  if (options.useRestrictedRegistry) p.useRestrictedRegistry = 'true';

  const extra = extraParameters(options, problems);
  if (missing.length > 0) {
    problems.add(
      `the ADO pipeline needs parameters that are not known: ${missing.map((k) => `${k} (${HOW_TO_SET[k] ?? k})`).join(', ')}`,
    );
  }
  problems.throwIfAny();
  return { ...p, ...extra };
}
