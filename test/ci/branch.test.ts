import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { branchOfRef, mergeQueueTarget } from '../../src/ci/branch.js';
import type { Env } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { deps } from './support.js';

// The branch behind the Branch template field (SPEC 5): what a pull request or merge group targets, else what was pushed.

const FIXTURES = fileURLToPath(new URL('../fixtures/github/', import.meta.url));
const BASE = '3f6c2e8a9b1d4c7e0f2a5b8c1d4e7f0a3b6c9d2e';
const HEAD = 'e91a7c3b5d2f8e0a6c4b1d9f7e5a3c1b8d6f4e2a';
const QUEUE = 'refs/heads/gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a';

describe('branchOfRef and mergeQueueTarget', () => {
  it.each<[string | undefined, string | undefined]>([
    ['refs/heads/main', 'main'],
    ['refs/heads/feature/x', 'feature/x'],
    ['main', 'main'],
    ['release-1.2', 'release-1.2'],
    ['refs/tags/v1.2.3', undefined],
    ['refs/pull/5678/merge', undefined],
    ['refs/heads/', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('branchOfRef(%j) = %j', (ref, branch) => {
    expect(branchOfRef(ref)).toBe(branch);
  });

  it.each<[string | undefined, string | undefined]>([
    ['gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a', 'main'],
    ['gh-readonly-queue/release/1.2/pr-7-abcdef1', 'release/1.2'],
    ['main', 'main'],
    ['gh-readonly-queue/main', 'gh-readonly-queue/main'],
    [undefined, undefined],
  ])('mergeQueueTarget(%j) = %j', (branch, target) => {
    expect(mergeQueueTarget(branch)).toBe(target);
  });
});

const github = (event: string, extra: Env = {}): Env => ({
  CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: `${FIXTURES}${event}.json`, GITHUB_SHA: BASE, GITHUB_REF: 'refs/heads/main', ...extra,
});
const prow = (jobType: string, extra: Env = {}): Env => ({
  CI: 'true', PROW_JOB_ID: 'x', REPO_OWNER: 'o', REPO_NAME: 'n', JOB_TYPE: jobType, PULL_NUMBER: '1', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, ...extra,
});
const ado = (jobType: string, extra: Env = {}): Env => ({ ...prow(jobType, extra), PROW_JOB_ID: undefined, BUILD_BUILDID: '5' });
const jenkins = (extra: Env): Env => ({ CI: 'true', JENKINS_HOME: '/j', GIT_URL: 'https://github.com/o/n.git', GIT_COMMIT: HEAD, ...extra });
const jenkinsPR = (extra: Env = {}): Env => jenkins({ CHANGE_ID: '9', CHANGE_BASE_SHA: BASE, CHANGE_BRANCH: 'feature-9', ...extra });

describe('the branch each CI system gives', () => {
  it.each<[string, Env, string | undefined]>([
    ['GitHub pull_request: pull_request.base.ref, not GITHUB_REF', github('pull_request', { GITHUB_REF: 'refs/pull/5678/merge' }), 'main'],
    ['GitHub pull_request_target: pull_request.base.ref', github('pull_request_target'), 'main'],
    ['GitHub push: GITHUB_REF without refs/heads/', github('push', { GITHUB_REF: 'refs/heads/feature/x' }), 'feature/x'],
    ['GitHub push of a tag: no branch', github('push', { GITHUB_REF: 'refs/tags/v1.2.3' }), undefined],
    ['GitHub push without GITHUB_REF: no branch', github('push', { GITHUB_REF: undefined }), undefined],
    ['GitHub merge_group: merge_group.base_ref, not the queue branch', github('merge_group', { GITHUB_REF: QUEUE }), 'main'],
    ['GitHub workflow_dispatch: GITHUB_REF', github('workflow_dispatch', { GITHUB_REF: 'refs/heads/release-2.3' }), 'release-2.3'],
    ['GitHub workflow_dispatch on a tag: no branch', github('workflow_dispatch', { GITHUB_REF: 'refs/tags/v2.3.0' }), undefined],
    ['GitHub schedule: GITHUB_REF (the default branch)', github('schedule'), 'main'],
    ['Prow presubmit: PULL_BASE_REF, the target', prow('presubmit', { PULL_BASE_REF: 'main' }), 'main'],
    ['Prow postsubmit: PULL_BASE_REF', prow('postsubmit', { PULL_BASE_REF: 'release-1.2' }), 'release-1.2'],
    ['Prow postsubmit without PULL_BASE_REF: no branch', prow('postsubmit'), undefined],
    ['ADO presubmit: PULL_BASE_REF', ado('presubmit', { PULL_BASE_REF: 'main' }), 'main'],
    ['ADO workflow_dispatch: a full ref, as the pipeline passes GITHUB_REF', ado('workflow_dispatch', { PULL_BASE_REF: 'refs/heads/release-2.3' }), 'release-2.3'],
    ['ADO schedule on a tag ref: no branch', ado('schedule', { PULL_BASE_REF: 'refs/tags/v1' }), undefined],
    ['ADO merge_group: the branch the queue targets', ado('merge_group', { PULL_BASE_REF: QUEUE }), 'main'],
    ['ADO merge_group given the target itself', ado('merge_group', { PULL_BASE_REF: 'main' }), 'main'],
    ['Jenkins pull request: CHANGE_TARGET, not CHANGE_BRANCH', jenkinsPR({ CHANGE_TARGET: 'main', GIT_BRANCH: 'PR-9' }), 'main'],
    ['Jenkins pull request without CHANGE_TARGET: no branch', jenkinsPR({ BRANCH_NAME: 'PR-9' }), undefined],
    ['Jenkins branch build: GIT_BRANCH without origin/', jenkins({ GIT_BRANCH: 'origin/feature/x' }), 'feature/x'],
    ['Jenkins multibranch: GIT_BRANCH as the branch name', jenkins({ GIT_BRANCH: 'main' }), 'main'],
    ['Jenkins without GIT_BRANCH: BRANCH_NAME', jenkins({ BRANCH_NAME: 'release-1.2' }), 'release-1.2'],
    ['Jenkins tag build: no branch', jenkins({ TAG_NAME: 'v1.2.3', BRANCH_NAME: 'v1.2.3', GIT_BRANCH: 'v1.2.3' }), undefined],
    ['outside CI: PULL_BASE_REF', { PULL_BASE_SHA: BASE, PULL_BASE_REF: 'main' }, 'main'],
    ['outside CI without PULL_BASE_REF: no branch (git is not asked)', { PULL_BASE_SHA: BASE }, undefined],
  ])('%s → %j', (_name, env, branch) => {
    const { gitState } = readGitState(env, deps());
    expect(gitState.branch).toBe(branch);
    expect(Object.hasOwn(gitState, 'branch')).toBe(branch !== undefined);
  });

  it('a payload without the base branch is no error: Branch is just unknown', () => {
    const read = (event: string, patch: (json: Record<string, Record<string, unknown>>) => void) => {
      const json = JSON.parse(readFileSync(`${FIXTURES}${event}.json`, 'utf8')) as Record<string, Record<string, unknown>>;
      patch(json);
      return readGitState({ ...github(event), GITHUB_EVENT_PATH: '/x/event.json' }, deps({ readFile: () => JSON.stringify(json) })).gitState;
    };
    expect(read('pull_request', (j) => { (j.pull_request!.base as Record<string, unknown>).ref = null; }).branch).toBeUndefined();
    expect(read('merge_group', (j) => { delete j.merge_group!.base_ref; }).branch).toBeUndefined();
    expect(read('merge_group', (j) => { j.merge_group!.base_ref = 42; }).branch).toBeUndefined();
  });
});
