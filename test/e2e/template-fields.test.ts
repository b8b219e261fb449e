import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';

// The template fields HeadSHA, ShortHeadSHA and Branch (SPEC 5) through the real CLI with --parse-tags-only:
// every CI system and GitHub event kind, Go and Handlebars spelling, and the ways they fail (exit 2 naming the tag).

afterAll(removeTempDirs);

const CONFIG = writeConfig('registry: europe-docker.pkg.dev/kyma-project/prod\n');

const BASE = 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f';
const HEAD = 'aaaabbbbccccddddeeeeffff0000111122223333';
const QUEUE = 'refs/heads/gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a';

const prow = (extra: Record<string, string>) =>
  baseEnv({ CI: 'true', PROW_JOB_ID: 'a1b2', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', BUILD_ID: '77', ...extra });
const ado = (extra: Record<string, string>) =>
  baseEnv({ CI: 'true', BUILD_BUILDID: '5', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', ...extra });
// GITHUB_SHA and GITHUB_REF as test/fixtures/github/README.md gives them for each payload.
const github = (event: string, extra: Record<string, string> = {}) =>
  baseEnv({ CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: join(FIXTURES, 'github', `${event}.json`), GITHUB_REF: 'refs/heads/main', ...extra });
const jenkins = (extra: Record<string, string>) =>
  baseEnv({ CI: 'true', JENKINS_HOME: '/var/jenkins', GIT_URL: 'https://github.com/kyma-project/test-infra.git', BUILD_NUMBER: '12', ...extra });

const GO = ['--tag', 'head={{ .HeadSHA }}', '--tag', 'short={{.ShortHeadSHA}}', '--tag', 'branch={{ .Branch }}'];
const HANDLEBARS = ['--tag', 'head={{HeadSHA}}', '--tag', 'short={{ ShortHeadSHA }}', '--tag', 'branch={{Branch}}'];

async function parseTags(args: string[], env: Record<string, string>, cwd?: string) {
  return runCli(['--parse-tags-only', `--config=${CONFIG}`, ...args], { env, cwd });
}

/** The user tags of a successful run, as name=value. */
async function userTags(args: string[], env: Record<string, string>, count: number): Promise<string[]> {
  const r = await parseTags(args, env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ name: string; value: string }>).slice(0, count).map((t) => `${t.name}=${t.value}`);
}

/** A git repository with one commit and a detached HEAD: a local build that knows its commit but no branch. */
function detachedCheckout(): { dir: string; sha: string } {
  const dir = tempDir('ib-detached-');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'one');
  const sha = git('rev-parse', 'HEAD');
  git('checkout', '-q', '--detach', sha);
  return { dir, sha };
}

/** push.json as GitHub sends it for a pushed tag. */
function tagPushPayload(): string {
  const path = join(tempDir('ib-event-'), 'push.json');
  const json = JSON.parse(readFileSync(join(FIXTURES, 'github', 'push.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...json, ref: 'refs/tags/v1.2.3', base_ref: 'refs/heads/main' }));
  return path;
}

describe('HeadSHA, ShortHeadSHA and Branch through the real CLI', () => {
  it.each([
    {
      system: 'Prow presubmit: the PR head, PULL_BASE_REF',
      env: prow({ JOB_TYPE: 'presubmit', PULL_NUMBER: '42', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, PULL_BASE_REF: 'main' }),
      expected: [`head=${HEAD}`, 'short=aaaabbbb', 'branch=main'],
    },
    {
      system: 'Prow postsubmit: the base SHA, PULL_BASE_REF',
      env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'release-1.2' }),
      expected: [`head=${BASE}`, 'short=d9e0b24a', 'branch=release-1.2'],
    },
    {
      system: 'GitHub pull_request_target: pull_request.head.sha, pull_request.base.ref',
      env: github('pull_request_target'),
      expected: ['head=2d3c46f07e0bc877168f702fa9796882db271191', 'short=2d3c46f0', 'branch=main'],
    },
    {
      system: 'GitHub pull_request: the base branch, not GITHUB_REF (refs/pull/…)',
      env: github('pull_request', { GITHUB_REF: 'refs/pull/5678/merge' }),
      expected: ['head=5711fd1d5b84eabe8e545d770a4574982070ab8f', 'short=5711fd1d', 'branch=main'],
    },
    {
      system: 'GitHub push: head_commit.id, GITHUB_REF',
      env: github('push'),
      expected: ['head=616082eb6857dd9086463486a12564e3b9afbbf0', 'short=616082eb', 'branch=main'],
    },
    {
      system: 'GitHub merge_group: GITHUB_SHA, merge_group.base_ref (not the queue branch)',
      env: github('merge_group', { GITHUB_SHA: 'bc4fcc98d7cf33388fcb13862086287fbb9238b5', GITHUB_REF: QUEUE }),
      expected: ['head=bc4fcc98d7cf33388fcb13862086287fbb9238b5', 'short=bc4fcc98', 'branch=main'],
    },
    {
      system: 'GitHub workflow_dispatch: GITHUB_SHA, GITHUB_REF',
      env: github('workflow_dispatch', { GITHUB_SHA: '7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5' }),
      expected: ['head=7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5', 'short=7ae395d4', 'branch=main'],
    },
    {
      system: 'GitHub schedule: GITHUB_SHA, GITHUB_REF',
      env: github('schedule', { GITHUB_SHA: '68a5bbf4c63f59164ce3aa0fd3bb0c0a30ff4a55' }),
      expected: ['head=68a5bbf4c63f59164ce3aa0fd3bb0c0a30ff4a55', 'short=68a5bbf4', 'branch=main'],
    },
    {
      system: 'Azure DevOps presubmit: PULL_PULL_SHA, PULL_BASE_REF',
      env: ado({ JOB_TYPE: 'presubmit', PULL_NUMBER: '42', PULL_BASE_SHA: BASE, PULL_PULL_SHA: HEAD, PULL_BASE_REF: 'main' }),
      expected: [`head=${HEAD}`, 'short=aaaabbbb', 'branch=main'],
    },
    {
      system: 'Azure DevOps merge_group: the base SHA, the branch the queue targets',
      env: ado({ JOB_TYPE: 'merge_group', PULL_BASE_SHA: BASE, PULL_PULL_SHA: BASE, PULL_BASE_REF: QUEUE }),
      expected: [`head=${BASE}`, 'short=d9e0b24a', 'branch=main'],
    },
    {
      system: 'Azure DevOps workflow_dispatch: PULL_BASE_REF as the pipeline passes GITHUB_REF',
      env: ado({ JOB_TYPE: 'workflow_dispatch', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'refs/heads/release-2.3' }),
      expected: [`head=${BASE}`, 'short=d9e0b24a', 'branch=release-2.3'],
    },
    {
      system: 'Jenkins pull request: GIT_COMMIT, CHANGE_TARGET',
      env: jenkins({ CHANGE_ID: '9', GIT_COMMIT: HEAD, CHANGE_BASE_SHA: BASE, CHANGE_BRANCH: 'feature-9', CHANGE_TARGET: 'main' }),
      expected: [`head=${HEAD}`, 'short=aaaabbbb', 'branch=main'],
    },
    {
      system: 'Jenkins branch build: GIT_COMMIT, GIT_BRANCH without origin/',
      env: jenkins({ GIT_COMMIT: BASE, GIT_BRANCH: 'origin/release-1.2' }),
      expected: [`head=${BASE}`, 'short=d9e0b24a', 'branch=release-1.2'],
    },
    {
      system: 'outside CI: PULL_BASE_SHA, PULL_BASE_REF',
      env: baseEnv({ PULL_BASE_SHA: BASE, PULL_BASE_REF: 'main' }),
      expected: [`head=${BASE}`, 'short=d9e0b24a', 'branch=main'],
    },
  ])('$system', async ({ env, expected }) => {
    expect(await userTags(GO, env, 3)).toEqual(expected);
    expect(await userTags(HANDLEBARS, env, 3)).toEqual(expected);
  });

  it('--commit-sha is the commit built: HeadSHA and CommitSHA are both the override', async () => {
    const override = 'abcdef1234567890abcdef1234567890abcdef12';
    const tags = await userTags(['--commit-sha', override, '--tag', 'h={{ .ShortHeadSHA }}-{{ .Branch }}', '--tag', 'c=c-{{ShortSHA}}'], github('push'), 2);
    expect(tags).toEqual(['h=abcdef12-main', 'c=c-abcdef12']);
    // In a pull request too: the commit built is the override, as the COMMIT_SHA build arg says.
    expect(await userTags(['--commit-sha', override, '--tag', 'h={{ .ShortHeadSHA }}', '--tag', 'c=c-{{ShortSHA}}'], github('pull_request'), 2)).toEqual(['h=abcdef12', 'c=c-abcdef12']);
  });

  it('outside CI in a detached checkout: HeadSHA is its HEAD; an empty Branch renders empty inside a longer value', async () => {
    const { dir, sha } = detachedCheckout();
    const r = await parseTags([`--context=${dir}`, '--tag', 'h={{ .HeadSHA }}', '--tag', 'x=x-{{ .Branch }}'], baseEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).slice(0, 2)).toEqual([{ name: 'h', value: sha }, { name: 'x', value: 'x-' }]);
  });

  it.each([
    { what: 'a detached checkout outside CI', env: baseEnv(), detached: true },
    { what: 'a GitHub tag push', env: github('push', { GITHUB_REF: 'refs/tags/v1.2.3' }), payload: true },
    { what: 'a Jenkins tag build', env: jenkins({ GIT_COMMIT: BASE, TAG_NAME: 'v1.2.3', BRANCH_NAME: 'v1.2.3' }) },
    { what: 'a Prow postsubmit without PULL_BASE_REF', env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE }) },
  ])('{{ .Branch }} on $what: exit 2 naming the tag and the empty Branch, in both spellings', async ({ env, detached, payload }) => {
    const args = detached ? [`--context=${detachedCheckout().dir}`] : [];
    const runEnv = payload ? { ...env, GITHUB_EVENT_PATH: tagPushPayload() } : env;
    for (const template of ['{{ .Branch }}', '{{Branch}}']) {
      const r = await parseTags([...args, '--tag', `release=${template}`], runEnv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`tag "release" (template ${JSON.stringify(template)}): renders to an empty value: Branch is empty (no branch is known for this run`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a branch with "/" makes no valid tag: exit 2 naming the tag (SPEC 5 allows no "/")', async () => {
    const r = await parseTags(['--tag', 'b={{ .Branch }}-{{ .ShortSHA }}'], prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'feature/x' }));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('tag "b"');
    expect(r.stderr).toContain('value "feature/x-d9e0b24a" is not a valid OCI tag ("/" is not allowed');
  });

  it('a space in a branch becomes "-"', async () => {
    expect(await userTags(['--tag', 'b={{ .Branch }}'], prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'release 1.2' }), 1)).toEqual(['b=release-1.2']);
  });

  it.each([
    { typed: '{{ .HeadSha }}', meant: 'HeadSHA' },
    { typed: '{{HeadSha}}', meant: 'HeadSHA' },
    { typed: '{{ .ShortHeadSha }}', meant: 'ShortHeadSHA' },
    { typed: '{{ .branch }}', meant: 'Branch' },
  ])('an unknown field $typed: exit 2 naming the tag, did you mean $meant?', async ({ typed, meant }) => {
    const r = await parseTags(['--tag', `x=${typed}`], prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE, PULL_BASE_REF: 'main' }));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`tag "x" (template ${JSON.stringify(typed)}): unknown field`);
    expect(r.stderr).toContain(`(did you mean ${meant}?)`);
    expect(r.stderr).toContain('known fields: CommitSHA, ShortSHA, HeadSHA, ShortHeadSHA, Branch, Date, PRNumber, Env "NAME"');
  });
});
