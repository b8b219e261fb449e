import { describe, expect, it } from 'vitest';
import type { Env, GitState, GitStateDeps } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { deps, inputErrorOf } from './support.js';

const HEAD = '4e9d1a7c3b5f8e2d6a0c4b9f7e1d3a5c8b2f6e0d';
const PINNED = '9c0b7a5e3d1f2c4b6a8e0d7f5c3a1b9e2d4f6a8c';

describe('git state outside CI', () => {
  it.each<[string, Env, Partial<GitStateDeps>, GitState]>([
    ['HEAD of the context', {}, { gitHead: () => `${HEAD}\n` }, { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: HEAD }],
    ['PULL_BASE_SHA wins over HEAD', { PULL_BASE_SHA: PINNED }, { gitHead: () => HEAD }, { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: PINNED }],
    ['not a git repository', {}, {}, { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false }],
    ['--repo gives owner and name', { CI: 'false' }, { repo: 'kyma-project/test-infra', gitHead: () => HEAD }, { ciSystem: 'local', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: HEAD }],
    ['CI variables other than CI=true are ignored', { GITHUB_ACTIONS: 'true', PROW_JOB_ID: 'x', JOB_TYPE: 'presubmit' }, { gitHead: () => HEAD }, { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: HEAD }],
  ])('%s', (_name, env, overrides, expected) => {
    expect(readGitState(env, deps(overrides))).toStrictEqual({ gitState: expected, warnings: [] });
  });

  it('does not run git when PULL_BASE_SHA is set', () => {
    const gitHead = () => {
      throw new Error('git must not run');
    };
    expect(readGitState({ PULL_BASE_SHA: PINNED }, deps({ gitHead })).gitState.baseCommitSHA).toBe(PINNED);
  });

  it.each<[string, Env, Partial<GitStateDeps>, string[]]>([
    ['malformed --repo', {}, { repo: 'test-infra' }, ['--repo "test-infra" is not a repository', 'kyma-project/test-infra']],
    ['--repo with too many parts', {}, { repo: 'a/b/c' }, ['--repo "a/b/c"']],
    ['invalid PULL_BASE_SHA and --repo together', { PULL_BASE_SHA: 'v1.2.3' }, { repo: '/x' }, ['--repo "/x"', 'PULL_BASE_SHA="v1.2.3" is not a commit SHA']],
    ['git printing something else', {}, { gitHead: () => 'HEAD' }, ['git rev-parse HEAD', 'set PULL_BASE_SHA']],
  ])('%s → error names the source', (_name, env, overrides, fragments) => {
    const err = inputErrorOf(env, deps(overrides));
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });
});
