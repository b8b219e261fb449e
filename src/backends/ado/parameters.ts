import { Problems } from '../../errors.js';
import type { Options } from '../../options.js';
import { userTagTemplates } from '../../plan.js';
import type { Plan } from '../../plan-types.js';
import { encodeTagsBase64, type Tag } from '../../tags/index.js';

/** Template parameters of the oci-image-builder pipeline: every value a string (SPEC 9, compat names). */
export type AdoParameters = Record<string, string>;

/** Names this tool sets itself; --ado-param may not redefine them. */
export const BUILTIN_PARAMETERS = [
  'RepoName', 'RepoOwner', 'JobType', 'PullNumber', 'PullBaseSHA', 'PullPullSHA', 'Name', 'Dockerfile', 'Context',
  'ExportTags', 'UseKanikoConfigFromPR', 'BuildArgs', 'Tags', 'Platforms', 'Target', 'BaseRef', 'Authorization',
] as const;

const HOW_TO_SET: Record<string, string> = {
  RepoName: 'the repository name: REPO_NAME in Prow/ADO, the event payload in GitHub Actions, --repo=org/repo outside CI',
  RepoOwner: 'the repository owner: REPO_OWNER in Prow/ADO, the event payload in GitHub Actions, --repo=org/repo outside CI',
  PullNumber: 'the pull request number: PULL_NUMBER',
  PullBaseSHA: 'the base commit SHA: PULL_BASE_SHA, GITHUB_SHA or --commit-sha',
  PullPullSHA: 'the pull request head SHA: PULL_PULL_SHA',
  Name: 'the image name: --name',
  Dockerfile: 'the Dockerfile path: --dockerfile',
  Context: 'the build context: --context',
};

/**
 * The user's tags as the plan rendered them: user tags come first in plan.tags, in flag order,
 * with duplicate values dropped; a template whose rendering was dropped is skipped by its name.
 */
export function userTags(plan: Plan, options: Options): Tag[] {
  const templates = userTagTemplates(options, new Problems());
  const out: Tag[] = [];
  let j = 0;
  for (const template of templates) {
    const tag = plan.tags[j];
    if (tag && tag.name === template.name) {
      out.push(tag);
      j++;
    }
  }
  return out;
}

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
 * Plan + Options → the pipeline's template parameters, in the order of SPEC 9. Pure.
 * Context and Dockerfile go as given on the command line: the pipeline checks the repository out itself.
 * BuildArgs carries only --build-arg: the pipeline derives COMMIT_SHA from PullBaseSHA/PullPullSHA and
 * TAG_* from ExportTags, and --env-file is refused with this backend; adding them would make BuildArgs never empty.
 * Tags carries the user tags rendered here, so that {{ .Env "X" }} reads this job's environment, not the agent's.
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

  set('RepoName', git.repositoryName, true);
  set('RepoOwner', git.repositoryOwner, true);
  set('JobType', git.jobType, true);
  if (git.isPullRequest) set('PullNumber', git.pullRequestNumber?.toString(), true);
  set('PullBaseSHA', git.baseCommitSHA, true);
  if (git.isPullRequest) set('PullPullSHA', git.pullHeadCommitSHA, true);
  // A preview only validates the YAML: --name is optional there, sent empty as the Go tool does.
  if (preview && !options.name) p.Name = '';
  else set('Name', options.name, true);
  set('Dockerfile', options.dockerfile, true);
  set('Context', options.context, true);
  p.ExportTags = String(options.exportTags);
  p.UseKanikoConfigFromPR = String(options.testKanikoBuildConfig);
  if (options.buildArgs.length > 0) p.BuildArgs = options.buildArgs.join(',');
  const tags = userTags(plan, options);
  if (tags.length > 0) {
    const encoded = problems.collect(() => encodeTagsBase64(tags));
    if (encoded !== undefined) p.Tags = encoded;
  }
  if (plan.platforms.length > 0) p.Platforms = plan.platforms.join(',');
  set('Target', plan.target, false);
  if (git.jobType === 'workflow_dispatch' || git.jobType === 'schedule') set('BaseRef', git.baseCommitRef, false);
  set('Authorization', options.oidcToken, false);

  const extra = extraParameters(options, problems);
  if (missing.length > 0) {
    problems.add(
      `the ADO pipeline needs parameters that are not known: ${missing.map((k) => `${k} (${HOW_TO_SET[k] ?? k})`).join(', ')}`,
    );
  }
  problems.throwIfAny();
  return { ...p, ...extra };
}
