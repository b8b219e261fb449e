import { describe, expect, it } from 'vitest';
import type { Env, GitState } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { deps, inputErrorOf } from './support.js';

const BASE = '3f6c2e8a9b1d4c7e0f2a5b8c1d4e7f0a3b6c9d2e';
const HEAD = 'e91a7c3b5d2f8e0a6c4b1d9f7e5a3c1b8d6f4e2a';

const PROW: Env = { CI: 'true', PROW_JOB_ID: 'b7c1e2d4-0000-4000-8000-1234567890ab', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', BUILD_ID: '1790000000000000000' };
const ADO: Env = { CI: 'true', BUILD_BUILDID: '240117', BUILD_BUILDNUMBER: '20250512.3', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra' };

describe('Prow and Azure DevOps git state', () => {
  it.each<[string, Env, GitState]>([
    [
      'Prow presubmit',
      { ...PROW, JOB_TYPE: 'presubmit', PULL_NUMBER: '1234', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, PULL_BASE_REF: 'main' },
      { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 1234, baseCommitSHA: BASE, pullHeadCommitSHA: HEAD, baseCommitRef: 'main', branch: 'main', buildNumber: '1790000000000000000' },
    ],
    [
      'Prow postsubmit ignores PR variables',
      { ...PROW, JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_NUMBER: 'junk', PULL_PULL_SHA: 'junk', PULL_BASE_REF: 'main' },
      { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, baseCommitRef: 'main', branch: 'main', buildNumber: '1790000000000000000' },
    ],
    [
      'Prow postsubmit without ref nor build id, short SHA kept as given',
      { CI: 'TRUE', PROW_JOB_ID: 'x', REPO_OWNER: 'o', REPO_NAME: 'n', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'ABCDEF1' },
      { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'n', repositoryUrl: 'https://github.com/o/n', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: 'ABCDEF1' },
    ],
    [
      'ADO presubmit: BUILD_SOURCEBRANCH is the pipeline\'s own branch, never the ref',
      { ...ADO, JOB_TYPE: 'presubmit', PULL_NUMBER: '42', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, BUILD_SOURCEBRANCH: 'refs/heads/main' },
      { ciSystem: 'azure-devops', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 42, baseCommitSHA: BASE, pullHeadCommitSHA: HEAD, buildNumber: '20250512.3' },
    ],
    [
      'ADO postsubmit takes PULL_BASE_REF',
      { ...ADO, JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'release-1.2', BUILD_SOURCEBRANCH: 'refs/heads/main' },
      { ciSystem: 'azure-devops', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, baseCommitRef: 'release-1.2', branch: 'release-1.2', buildNumber: '20250512.3' },
    ],
    [
      'ADO merge_group (the pipeline passes GitHub\'s event kind): head SHA from PULL_PULL_SHA, no PR number, the branch the queue targets',
      { ...ADO, JOB_TYPE: 'merge_group', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, PULL_BASE_REF: 'refs/heads/gh-readonly-queue/main/pr-1-x' },
      { ciSystem: 'azure-devops', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'merge_group', isPullRequest: false, baseCommitSHA: BASE, pullHeadCommitSHA: HEAD, baseCommitRef: 'refs/heads/gh-readonly-queue/main/pr-1-x', branch: 'main', buildNumber: '20250512.3' },
    ],
    [
      'ADO workflow_dispatch builds the base SHA, as a postsubmit',
      { ...ADO, JOB_TYPE: 'workflow_dispatch', PULL_BASE_SHA: BASE, PULL_NUMBER: '', PULL_PULL_SHA: '' },
      { ciSystem: 'azure-devops', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'workflow_dispatch', isPullRequest: false, baseCommitSHA: BASE, buildNumber: '20250512.3' },
    ],
    [
      'ADO schedule builds the base SHA, as a postsubmit',
      { ...ADO, JOB_TYPE: 'schedule', PULL_BASE_SHA: BASE },
      { ciSystem: 'azure-devops', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'schedule', isPullRequest: false, baseCommitSHA: BASE, buildNumber: '20250512.3' },
    ],
    [
      'Prow on another host: JOB_SPEC refs.repo_link gives the repository URL',
      { ...PROW, JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, JOB_SPEC: JSON.stringify({ type: 'postsubmit', refs: { org: 'kyma-project', repo: 'test-infra', repo_link: 'https://github.tools.example/kyma-project/test-infra' } }) },
      { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.tools.example/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, buildNumber: '1790000000000000000' },
    ],
    [
      'Prow with a JOB_SPEC that is not JSON: github.com',
      { ...PROW, JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, JOB_SPEC: '{not json' },
      { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, buildNumber: '1790000000000000000' },
    ],
  ])('%s', (_name, env, expected) => {
    expect(readGitState(env, deps())).toStrictEqual({ gitState: expected, warnings: [] });
  });

  it.each<[string, Env, string[]]>([
    ['nothing set', { CI: 'true', PROW_JOB_ID: 'x' }, ['REPO_OWNER is not set (Prow)', 'REPO_NAME is not set', 'JOB_TYPE is not set', 'PULL_BASE_SHA is not set']],
    ['empty counts as unset', { ...PROW, REPO_OWNER: '', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE }, ['REPO_OWNER is not set']],
    ['unknown job type', { ...PROW, JOB_TYPE: 'periodic', PULL_BASE_SHA: BASE }, ['JOB_TYPE="periodic" is not supported (Prow)', 'presubmit, postsubmit, merge_group, workflow_dispatch, schedule']],
    ['merge_group without its head SHA', { ...ADO, JOB_TYPE: 'merge_group', PULL_BASE_SHA: BASE }, ['PULL_PULL_SHA is not set', 'head commit of the merge group']],
    ['presubmit without PR variables', { ...PROW, JOB_TYPE: 'presubmit', PULL_BASE_SHA: BASE }, ['PULL_NUMBER is not set', 'PULL_PULL_SHA is not set']],
    ['PR number not an integer', { ...PROW, JOB_TYPE: 'presubmit', PULL_NUMBER: '12a', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD }, ['PULL_NUMBER="12a" is not a pull request number']],
    ['PR number zero', { ...PROW, JOB_TYPE: 'presubmit', PULL_NUMBER: '0', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD }, ['PULL_NUMBER="0"']],
    ['PR number negative', { ...PROW, JOB_TYPE: 'presubmit', PULL_NUMBER: '-3', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD }, ['PULL_NUMBER="-3"']],
    ['invalid SHAs', { ...ADO, JOB_TYPE: 'presubmit', PULL_NUMBER: '1', PULL_BASE_SHA: 'main', PULL_PULL_SHA: 'abc123' }, ['PULL_BASE_SHA="main" is not a commit SHA (Azure DevOps)', 'PULL_PULL_SHA="abc123" is not a commit SHA', '7 to 64 hexadecimal']],
    ['SHA too long', { ...PROW, JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'a'.repeat(65) }, ['PULL_BASE_SHA="aaaa']],
  ])('%s → error names the variables', (_name, env, fragments) => {
    const err = inputErrorOf(env);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it('collects every problem into one error', () => {
    const err = inputErrorOf({ CI: 'true', PROW_JOB_ID: 'x', JOB_TYPE: 'presubmit', PULL_NUMBER: 'x', PULL_PULL_SHA: 'y' });
    expect(err.problems).toEqual([
      expect.stringContaining('REPO_OWNER'),
      expect.stringContaining('REPO_NAME'),
      expect.stringContaining('PULL_NUMBER'),
      expect.stringContaining('PULL_BASE_SHA'),
      expect.stringContaining('PULL_PULL_SHA'),
    ]);
    expect(err.exitCode).toBe(2);
  });
});
