import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Env, GitState } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { deps, inputErrorOf } from './support.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/github/', import.meta.url));
const fixture = (event: string): string => `${FIXTURES}${event}.json`;
const payload = (event: string): Record<string, unknown> => JSON.parse(readFileSync(fixture(event), 'utf8')) as Record<string, unknown>;

const GHA: Env = { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_RUN_NUMBER: '317' };
const REPO = { ciSystem: 'github-actions', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra', buildNumber: '317' } as const;

/** Env for a fixture, with the GITHUB_SHA and GITHUB_REF GitHub sets with it (see the fixtures' README). */
function envFor(event: string, extra: Env = {}): Env {
  return { ...GHA, GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: fixture(event), ...extra };
}

/** Deps whose readFile serves one in-memory payload at /x/event.json. */
function inMemory(content: string) {
  return deps({ readFile: (path) => {
    if (path !== '/x/event.json') throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return content;
  } });
}
const AT = { GITHUB_EVENT_PATH: '/x/event.json' };

describe('GitHub Actions git state from the fixtures', () => {
  it.each<[string, Env, GitState]>([
    [
      'pull_request_target',
      envFor('pull_request_target', { GITHUB_REF: 'refs/heads/main' }),
      { ...REPO, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 1234, baseCommitSHA: '97aa13bed919442319a38436491289c5b9c5c851', pullHeadCommitSHA: '2d3c46f07e0bc877168f702fa9796882db271191', baseCommitRef: 'refs/heads/main', branch: 'main' },
    ],
    [
      'pull_request',
      envFor('pull_request', { GITHUB_REF: 'refs/pull/5678/merge', GITHUB_SHA: 'c0ffee0000000000000000000000000000000000' }),
      { ...REPO, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 5678, baseCommitSHA: 'f64993875b7d7bb13fc8aa2fa68b6bb2333ebebe', pullHeadCommitSHA: '5711fd1d5b84eabe8e545d770a4574982070ab8f', baseCommitRef: 'refs/pull/5678/merge', branch: 'main' },
    ],
    [
      'push',
      envFor('push', { GITHUB_REF: 'refs/heads/main' }),
      { ...REPO, jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: '616082eb6857dd9086463486a12564e3b9afbbf0', baseCommitRef: 'refs/heads/main', branch: 'main' },
    ],
    [
      'merge_group',
      envFor('merge_group', { GITHUB_SHA: 'bc4fcc98d7cf33388fcb13862086287fbb9238b5', GITHUB_REF: 'refs/heads/gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a' }),
      { ...REPO, jobType: 'merge_group', isPullRequest: false, baseCommitSHA: 'bc4fcc98d7cf33388fcb13862086287fbb9238b5', pullHeadCommitSHA: 'bc4fcc98d7cf33388fcb13862086287fbb9238b5', baseCommitRef: 'refs/heads/gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a', branch: 'main' },
    ],
    [
      'workflow_dispatch',
      envFor('workflow_dispatch', { GITHUB_SHA: '7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5', GITHUB_REF: 'refs/heads/main' }),
      { ...REPO, jobType: 'workflow_dispatch', isPullRequest: false, baseCommitSHA: '7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5', baseCommitRef: 'refs/heads/main', branch: 'main' },
    ],
    [
      'schedule',
      envFor('schedule', { GITHUB_SHA: '68a5bbf4c63f59164ce3aa0fd3bb0c0a30ff4a55', GITHUB_REF: 'refs/heads/main' }),
      { ...REPO, jobType: 'schedule', isPullRequest: false, baseCommitSHA: '68a5bbf4c63f59164ce3aa0fd3bb0c0a30ff4a55', baseCommitRef: 'refs/heads/main', branch: 'main' },
    ],
    [
      'push on GitHub Enterprise Server: GITHUB_SERVER_URL gives the repository URL',
      envFor('push', { GITHUB_REF: 'refs/heads/main', GITHUB_SERVER_URL: 'https://github.example.com/' }),
      { ...REPO, repositoryUrl: 'https://github.example.com/kyma-project/test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: '616082eb6857dd9086463486a12564e3b9afbbf0', baseCommitRef: 'refs/heads/main', branch: 'main' },
    ],
  ])('%s', (_name, env, expected) => {
    expect(readGitState(env, deps())).toStrictEqual({ gitState: expected, warnings: [] });
  });
});

describe('GitHub Actions payload variants', () => {
  const BARE = { ciSystem: 'github-actions', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', repositoryUrl: 'https://github.com/kyma-project/test-infra' } as const;

  it.each<[string, string, Record<string, unknown>, GitState]>([
    [
      'PR number only in pull_request.number',
      'pull_request',
      { ...payload('pull_request'), number: undefined },
      { ...BARE, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 5678, baseCommitSHA: 'f64993875b7d7bb13fc8aa2fa68b6bb2333ebebe', pullHeadCommitSHA: '5711fd1d5b84eabe8e545d770a4574982070ab8f', branch: 'main' },
    ],
    [
      'push with head_commit null takes after',
      'push',
      { ...payload('push'), head_commit: null, after: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
      { ...BARE, jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
    ],
  ])('%s (no GITHUB_REF, no GITHUB_RUN_NUMBER)', (_name, event, json, expected) => {
    const env = { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: event, ...AT };
    expect(readGitState(env, inMemory(JSON.stringify(json)))).toStrictEqual({ gitState: expected, warnings: [] });
  });
});

describe('GitHub Actions errors', () => {
  const pr = payload('pull_request');
  const prField = (patch: Record<string, unknown>) => JSON.stringify({ ...pr, pull_request: { ...(pr.pull_request as object), ...patch } });

  it.each<[string, Env, string | undefined, string[], number]>([
    ['unsupported event', { GITHUB_EVENT_NAME: 'issues', ...AT }, '{}', ['event "issues" (GITHUB_EVENT_NAME) is not supported', 'pull_request_target, pull_request, push, merge_group, workflow_dispatch, schedule'], 1],
    ['no event name, no path', {}, undefined, ['GITHUB_EVENT_NAME is not set', 'GITHUB_EVENT_PATH is not set'], 2],
    ['unreadable payload', { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/nope/event.json' }, '{}', ['GITHUB_EVENT_PATH=/nope/event.json: cannot read the event payload', 'ENOENT'], 1],
    ['invalid JSON', { GITHUB_EVENT_NAME: 'push', ...AT }, '{"ref": ', ['GITHUB_EVENT_PATH=/x/event.json: the event payload is not valid JSON'], 1],
    ['JSON that is not an object', { GITHUB_EVENT_NAME: 'push', ...AT }, '[]', ['GITHUB_EVENT_PATH=/x/event.json: the event payload is not a JSON object'], 1],
    ['missing base SHA', { GITHUB_EVENT_NAME: 'pull_request', ...AT }, prField({ base: { ref: 'main' } }), ['GITHUB_EVENT_PATH=/x/event.json: field pull_request.base.sha is missing'], 1],
    ['invalid head SHA', { GITHUB_EVENT_NAME: 'pull_request', ...AT }, prField({ head: { sha: 'feature' } }), ['field pull_request.head.sha is "feature", not a commit SHA'], 1],
    ['missing PR number', { GITHUB_EVENT_NAME: 'pull_request_target', ...AT }, JSON.stringify({ ...pr, number: undefined, pull_request: { ...(pr.pull_request as object), number: undefined } }), ['field number is missing'], 1],
    ['PR number a string', { GITHUB_EVENT_NAME: 'pull_request', ...AT }, JSON.stringify({ ...pr, number: '5678' }), ['field number is "5678", not a pull request number'], 1],
    ['missing repository', { GITHUB_EVENT_NAME: 'push', ...AT }, JSON.stringify({ ...payload('push'), repository: undefined }), ['field repository.owner.login is missing', 'field repository.name is missing'], 2],
    ['branch deleted', { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: fixture('push_branch_deleted') }, undefined, [`GITHUB_EVENT_PATH=${fixture('push_branch_deleted')}: field head_commit.id is missing`, 'after is all zeros', 'deleted a branch'], 1],
    ['push without commit', { GITHUB_EVENT_NAME: 'push', ...AT }, JSON.stringify({ ...payload('push'), head_commit: undefined, after: undefined }), ['field head_commit.id is missing (and so is after'], 1],
    ['merge_group without GITHUB_SHA/REF', { GITHUB_EVENT_NAME: 'merge_group', GITHUB_EVENT_PATH: fixture('merge_group') }, undefined, ['GITHUB_SHA is not set', 'GITHUB_REF is not set'], 2],
    ['merge_group without head_sha', { GITHUB_EVENT_NAME: 'merge_group', GITHUB_SHA: 'bc4fcc98', GITHUB_REF: 'refs/heads/x', ...AT }, JSON.stringify({ ...payload('merge_group'), merge_group: {} }), ['field merge_group.head_sha is missing', 'GITHUB_EVENT_NAME=merge_group matches the file'], 1],
    ['workflow_dispatch with invalid GITHUB_SHA', { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_SHA: 'HEAD', GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: fixture('workflow_dispatch') }, undefined, ['GITHUB_SHA="HEAD" is not a commit SHA'], 1],
    ['schedule without GITHUB_REF', { GITHUB_EVENT_NAME: 'schedule', GITHUB_SHA: '68a5bbf4', GITHUB_EVENT_PATH: fixture('schedule') }, undefined, ['GITHUB_REF is not set'], 1],
  ])('%s', (_name, env, content, fragments, count) => {
    const d = content === undefined ? deps() : inMemory(content);
    const err = inputErrorOf({ CI: 'true', GITHUB_ACTIONS: 'true', ...env }, d);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
    expect(err.problems).toHaveLength(count);
  });
});
