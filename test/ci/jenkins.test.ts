import { describe, expect, it } from 'vitest';
import type { Env, GitState } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { deps, inputErrorOf } from './support.js';

const BASE = '0d4c8e2a6b1f5d9c3e7a2b6f0c4d8e1a5b9c3f7d';
const HEAD = '8b2e6a0c4f8d2b6e0a4c8f2d6b0e4a8c2f6d0b4e';
const JENKINS: Env = { CI: 'true', JENKINS_HOME: '/var/jenkins_home', BUILD_NUMBER: '58' };
const REPO = { ciSystem: 'jenkins', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', buildNumber: '58' } as const;

describe('Jenkins git state', () => {
  it.each<[string, Env, GitState]>([
    [
      'branch build (https URL with .git)',
      { ...JENKINS, GIT_URL: 'https://github.com/kyma-project/test-infra.git', GIT_COMMIT: BASE },
      { ...REPO, jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE },
    ],
    [
      'pull request build (scp-like URL)',
      { ...JENKINS, GIT_URL: 'git@github.com:kyma-project/test-infra.git', CHANGE_ID: '77', GIT_COMMIT: HEAD, CHANGE_BASE_SHA: BASE, CHANGE_BRANCH: 'feature-x', CHANGE_TARGET: 'main' },
      { ...REPO, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 77, baseCommitSHA: BASE, pullHeadCommitSHA: HEAD, baseCommitRef: 'feature-x', branch: 'main' },
    ],
    [
      'URL without a scheme',
      { ...JENKINS, GIT_URL: 'github.com/kyma-project/test-infra.git', GIT_COMMIT: BASE },
      { ...REPO, jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE },
    ],
    [
      'URL without .git, with credentials, trailing slash',
      { ...JENKINS, GIT_URL: 'https://ci-bot@github.example.com/kyma-project/test-infra/', GIT_COMMIT: BASE },
      { ...REPO, repositoryUrl: 'https://github.example.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE },
    ],
    [
      'ssh:// URL, no BUILD_NUMBER',
      { CI: 'true', JENKINS_HOME: '/j', GIT_URL: 'ssh://git@github.com/kyma-project/test-infra', GIT_COMMIT: BASE },
      { ciSystem: 'jenkins', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE },
    ],
    [
      'ssh:// URL with a port: the web URL drops it',
      { ...JENKINS, GIT_URL: 'ssh://git@git.example.com:7999/kyma-project/test-infra.git', GIT_COMMIT: BASE },
      { ...REPO, repositoryUrl: 'https://git.example.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE },
    ],
  ])('%s', (_name, env, expected) => {
    expect(readGitState(env, deps())).toStrictEqual({ gitState: expected, warnings: [] });
  });

  it.each<[string, Env, string[]]>([
    ['nothing set', JENKINS, ['GIT_URL is not set (Jenkins)', 'GIT_COMMIT is not set']],
    ['URL without owner', { ...JENKINS, GIT_URL: 'https://github.com/test-infra.git', GIT_COMMIT: BASE }, ['GIT_URL="https://github.com/test-infra.git" does not name a repository']],
    [
      'URL without owner, a token in it: the message quotes it without the token',
      { ...JENKINS, GIT_URL: 'https://x-access-token:ghs_SECRET123@github.com/test-infra.git?t=ghs_SECRET456', GIT_COMMIT: BASE },
      ['GIT_URL="https://***@github.com/test-infra.git" does not name a repository'],
    ],
    ['pull request without commits', { ...JENKINS, GIT_URL: 'https://github.com/o/n.git', CHANGE_ID: '77', CHANGE_BRANCH: 'f' }, ['CHANGE_BASE_SHA is not set', 'GIT_COMMIT is not set']],
    ['pull request without its branch', { ...JENKINS, GIT_URL: 'https://github.com/o/n.git', CHANGE_ID: '77', GIT_COMMIT: HEAD, CHANGE_BASE_SHA: BASE }, ['CHANGE_BRANCH is not set']],
    ['CHANGE_ID not a number', { ...JENKINS, GIT_URL: 'https://github.com/o/n.git', CHANGE_ID: 'PR-77', GIT_COMMIT: HEAD, CHANGE_BASE_SHA: BASE, CHANGE_BRANCH: 'f' }, ['CHANGE_ID="PR-77" is not a pull request number']],
    ['invalid GIT_COMMIT', { ...JENKINS, GIT_URL: 'https://github.com/o/n.git', GIT_COMMIT: 'origin/main' }, ['GIT_COMMIT="origin/main" is not a commit SHA']],
  ])('%s → error names the variables', (_name, env, fragments) => {
    const err = inputErrorOf(env);
    expect(err.problems).toHaveLength(fragments.length);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
    expect(err.message).not.toContain('SECRET');
  });
});
