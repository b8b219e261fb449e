import type { Env, GitStateRead, JobType } from './gitstate.js';
import { isRecord } from '../support/json.js';
import { branchOfRef, mergeQueueTarget } from './branch.js';
import { EnvReader, GITHUB_SERVER, gitStateRead, repositoryUrl, throwProblems } from './vars.js';

const JOB_TYPES: readonly JobType[] = ['presubmit', 'postsubmit', 'merge_group', 'workflow_dispatch', 'schedule'];

/**
 * Prow and Azure DevOps share Prow's job variables (the ADO pipeline is called with them):
 * REPO_OWNER, REPO_NAME, JOB_TYPE, PULL_NUMBER, PULL_BASE_SHA, PULL_PULL_SHA, PULL_BASE_REF.
 * The pipeline passes GitHub's event kinds through: merge_group as in GitHub Actions (the head SHA is PULL_PULL_SHA),
 * workflow_dispatch and schedule build the base SHA as a postsubmit does.
 */
export function readProwGitState(env: Env, ciSystem: 'prow' | 'azure-devops'): GitStateRead {
  const vars = new EnvReader(env, ciSystem === 'prow' ? 'Prow' : 'Azure DevOps');
  const repositoryOwner = vars.required('REPO_OWNER', 'the repository owner, e.g. REPO_OWNER=kyma-project');
  const repositoryName = vars.required('REPO_NAME', 'the repository name, e.g. REPO_NAME=test-infra');
  const jobType = readJobType(vars);
  const isPullRequest = jobType === 'presubmit';
  const pullRequestNumber = isPullRequest ? vars.pullNumber('PULL_NUMBER') : undefined;
  const baseCommitSHA = vars.sha('PULL_BASE_SHA', 'commit the job builds (the base branch commit for a presubmit)');
  const pullHeadCommitSHA =
    jobType === 'presubmit' || jobType === 'merge_group'
      ? vars.sha('PULL_PULL_SHA', jobType === 'presubmit' ? 'head commit of the pull request' : 'head commit of the merge group')
      : undefined;
  if (jobType === undefined) throwProblems(vars.problems);
  vars.problems.throwIfAny();

  // Not ADO's BUILD_SOURCEBRANCH: that is the pipeline's own branch, not the built repository's.
  const baseCommitRef = vars.optional('PULL_BASE_REF');
  // Inside the ADO pipeline a merge group's PULL_BASE_REF is the queue's branch (GITHUB_REF), not its target.
  const branch = jobType === 'merge_group' ? mergeQueueTarget(branchOfRef(baseCommitRef)) : branchOfRef(baseCommitRef);
  const buildNumber = vars.optional(ciSystem === 'prow' ? 'BUILD_ID' : 'BUILD_BUILDNUMBER');
  return gitStateRead(
    {
      ciSystem,
      repositoryOwner,
      repositoryName,
      repositoryUrl: repositoryWebUrl(vars, repositoryOwner, repositoryName),
      jobType,
      isPullRequest,
      pullRequestNumber,
      baseCommitSHA,
      pullHeadCommitSHA,
      baseCommitRef,
      branch,
      buildNumber,
    },
    vars.warnings,
  );
}

function readJobType(vars: EnvReader): JobType | undefined {
  const value = vars.required('JOB_TYPE', JOB_TYPES.join(', '));
  if (value === undefined) return undefined;
  if (!JOB_TYPES.includes(value as JobType)) {
    vars.problems.add(
      `environment variable JOB_TYPE=${JSON.stringify(value)} is not supported (${vars.system}): set it to one of ${JOB_TYPES.join(', ')}`,
    );
    return undefined;
  }
  return value as JobType;
}

/** Prow's JOB_SPEC names the repository's web page (refs.repo_link), e.g. on a GitHub Enterprise host; without one, github.com. */
function repositoryWebUrl(vars: EnvReader, owner: string | undefined, name: string | undefined): string | undefined {
  const link = jobSpecRepoLink(vars);
  if (link === undefined || link === null || link === '') return repositoryUrl(GITHUB_SERVER, owner, name);
  // A clone link may carry a token (https://x-access-token:…@host/o/r): it is never published as it is.
  const url = vars.sourceUrl(typeof link === 'string' ? link : undefined, 'JOB_SPEC refs.repo_link', 'https://github.example.com/<owner>/<name>');
  return url?.replace(/\/+$/, '');
}

/** refs.repo_link of JOB_SPEC as given; undefined when JOB_SPEC is unset or not JSON. */
function jobSpecRepoLink(vars: EnvReader): unknown {
  let spec: unknown;
  try {
    spec = JSON.parse(vars.optional('JOB_SPEC') ?? 'null');
  } catch {
    return undefined;
  }
  return isRecord(spec) && isRecord(spec.refs) ? spec.refs.repo_link : undefined;
}
