import type { Env, GitState, JobType } from './gitstate.js';
import { EnvReader, gitState, throwProblems } from './vars.js';

const JOB_TYPES: readonly JobType[] = ['presubmit', 'postsubmit'];

/**
 * Prow and Azure DevOps share Prow's job variables (the ADO pipeline is called with them):
 * REPO_OWNER, REPO_NAME, JOB_TYPE, PULL_NUMBER, PULL_BASE_SHA, PULL_PULL_SHA.
 */
export function readProwGitState(env: Env, ciSystem: 'prow' | 'azure-devops'): GitState {
  const vars = new EnvReader(env, ciSystem === 'prow' ? 'Prow' : 'Azure DevOps');
  const repositoryOwner = vars.required('REPO_OWNER', 'the repository owner, e.g. REPO_OWNER=kyma-project');
  const repositoryName = vars.required('REPO_NAME', 'the repository name, e.g. REPO_NAME=test-infra');
  const jobType = readJobType(vars);
  const isPullRequest = jobType === 'presubmit';
  const pullRequestNumber = isPullRequest ? vars.pullNumber('PULL_NUMBER') : undefined;
  const baseCommitSHA = vars.sha('PULL_BASE_SHA', 'commit the job builds (the base branch commit for a presubmit)');
  const pullHeadCommitSHA = isPullRequest ? vars.sha('PULL_PULL_SHA', 'head commit of the pull request') : undefined;
  if (jobType === undefined) throwProblems(vars.problems);
  vars.problems.throwIfAny();

  const baseCommitRef =
    ciSystem === 'prow'
      ? vars.optional('PULL_BASE_REF')
      : (vars.optional('PULL_BASE_REF') ?? vars.optional('BUILD_SOURCEBRANCH'));
  const buildNumber = vars.optional(ciSystem === 'prow' ? 'BUILD_ID' : 'BUILD_BUILDNUMBER');
  return gitState({
    ciSystem,
    repositoryOwner,
    repositoryName,
    jobType,
    isPullRequest,
    pullRequestNumber,
    baseCommitSHA,
    pullHeadCommitSHA,
    baseCommitRef,
    buildNumber,
  });
}

function readJobType(vars: EnvReader): JobType | undefined {
  const value = vars.required('JOB_TYPE', 'presubmit or postsubmit');
  if (value === undefined) return undefined;
  if (!JOB_TYPES.includes(value as JobType)) {
    vars.problems.add(
      `environment variable JOB_TYPE=${JSON.stringify(value)} is not supported (${vars.system}): set it to presubmit or postsubmit`,
    );
    return undefined;
  }
  return value as JobType;
}
