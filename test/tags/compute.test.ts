import { describe, expect, it } from 'vitest';
import type { GitState, JobType } from '../../src/ci/gitstate.js';
import { InputError } from '../../src/errors.js';
import { computeTags, type TagSettings, type TagTemplate } from '../../src/tags/index.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const now = new Date('2026-11-25T10:00:00Z');

function gitState(jobType: JobType, extra: Partial<GitState> = {}): GitState {
  const isPullRequest = jobType === 'presubmit';
  return {
    ciSystem: 'github-actions',
    jobType,
    isPullRequest,
    pullRequestNumber: isPullRequest ? 42 : undefined,
    baseCommitSHA: SHA,
    ...extra,
  };
}

const configured: TagSettings = {
  defaultCommitTag: { name: 'default_tag', value: 'c-{{ .ShortSHA }}' },
  defaultPrTag: { name: 'default_tag', value: 'pr-{{ .PRNumber }}' },
  defaultMergeGroupTag: {
    name: 'default_tag',
    value: '0.0.0-MG.{{ .ShortSHA }}',
    validation: '^0\\.0\\.0-MG\\.[0-9a-f]{8}$',
  },
  additionalPrTag: { name: 'semver_pr_tag', value: 'v{{ .PRNumber }}-PR', validation: '^v[0-9]+-PR$' },
};

const tags = (jobType: JobType, settings: TagSettings, userTags: TagTemplate[] = []): string[] =>
  computeTags({ userTags, settings, gitState: gitState(jobType), env: {}, now }).map((t) => `${t.name}=${t.value}`);

describe('computeTags defaults', () => {
  it.each<[JobType, string[]]>([
    ['postsubmit', ['default_tag=v20261125-01234567']],
    ['presubmit', ['default_tag=PR-42']],
    ['merge_group', ['default_tag=v20261125-01234567']],
    ['workflow_dispatch', ['default_tag=v20261125-01234567']],
    ['schedule', ['default_tag=v20261125-01234567']],
  ])('built-in default for %s', (jobType, expected) => {
    expect(tags(jobType, {})).toEqual(expected);
  });

  it.each<[JobType, string[]]>([
    ['postsubmit', ['default_tag=c-01234567']],
    ['presubmit', ['semver_pr_tag=v42-PR', 'default_tag=pr-42']],
    ['merge_group', ['default_tag=0.0.0-MG.01234567']],
    ['workflow_dispatch', ['default_tag=c-01234567']],
  ])('configured defaults for %s', (jobType, expected) => {
    expect(tags(jobType, configured)).toEqual(expected);
  });

  it('uses the commit tag for merge groups without a merge group tag', () => {
    expect(tags('merge_group', { defaultCommitTag: configured.defaultCommitTag })).toEqual(['default_tag=c-01234567']);
  });

  it.each<[JobType, string[]]>([
    ['presubmit', ['semver_pr_tag=v42-PR', 'default_tag=PR-42']],
    ['postsubmit', ['default_tag=v20261125-01234567']],
    ['merge_group', ['default_tag=v20261125-01234567']],
  ])('additional PR tag only for pull requests: %s', (jobType, expected) => {
    expect(tags(jobType, { additionalPrTag: configured.additionalPrTag })).toEqual(expected);
  });
});

describe('computeTags order and duplicates', () => {
  const user: TagTemplate[] = [
    { name: 'latest', value: 'latest' },
    { name: 'ref', value: '{{ .Env "PULL_BASE_REF" }}-{{ .ShortSHA }}' },
  ];

  it('puts user tags first, then the additional PR tag, then the default (the 2026 tool\'s order)', () => {
    const result = computeTags({
      userTags: user,
      settings: configured,
      gitState: gitState('presubmit'),
      env: { PULL_BASE_REF: 'main' },
      now,
    });
    expect(result).toEqual([
      { name: 'latest', value: 'latest', origin: 'user' },
      { name: 'ref', value: 'main-01234567', origin: 'user' },
      { name: 'semver_pr_tag', value: 'v42-PR', origin: 'additional-pr' },
      { name: 'default_tag', value: 'pr-42', origin: 'default' },
    ]);
  });

  it.each<[string, TagTemplate[], string[]]>([
    ['same user tag twice', [{ name: 'a', value: 'x' }, { name: 'b', value: 'x' }], ['a=x', 'default_tag=v20261125-01234567']],
    ['user tag equal to the default', [{ name: 'mine', value: 'v{{.Date}}-{{.ShortSHA}}' }], ['mine=v20261125-01234567']],
    ['different templates, same value', [{ name: 'a', value: '{{ShortSHA}}' }, { name: 'b', value: '{{ .ShortSHA }}' }], ['a=01234567', 'default_tag=v20261125-01234567']],
  ])('keeps duplicate values once: %s', (_case, userTags, expected) => {
    expect(tags('postsubmit', {}, userTags)).toEqual(expected);
  });
});

describe('computeTags problems', () => {
  function problemsOf(fn: () => unknown): string[] {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return (err as InputError).problems;
    }
    throw new Error('expected an InputError');
  }

  it.each<[JobType]>([['postsubmit'], ['presubmit'], ['merge_group']])('requires a base SHA (%s)', (jobType) => {
    const problems = problemsOf(() =>
      computeTags({ userTags: [], settings: {}, gitState: gitState(jobType, { baseCommitSHA: undefined }), env: {}, now }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('commit SHA could not be determined');
    expect(problems[0]).toContain('PULL_BASE_SHA');
    expect(problems[0]).toContain('--commit-sha');
  });

  it('reports every problem of every tag together', () => {
    const problems = problemsOf(() =>
      computeTags({
        userTags: [
          { name: 'a', value: '{{ .Foo }}' },
          { name: 'b', value: '{{ .Env "ADO_PAT" }}' },
          { name: 'c', value: 'bad/tag' },
        ],
        settings: { defaultCommitTag: { name: 'default_tag', value: 'x{{ .ShortSHA }}', validation: '^y' } },
        gitState: gitState('postsubmit'),
        env: { ADO_PAT: 'secret-value' },
        now,
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^tag "a" .*unknown field "Foo"/);
    expect(problems[1]).toMatch(/^tag "b" .*Env "ADO_PAT" is refused/);
    expect(problems[2]).toMatch(/^tag "c" .*not a valid OCI tag/);
    expect(problems[3]).toMatch(/^tag "default_tag" .*does not match its validation "\^y"/);
    expect(problems.join('\n')).not.toContain('secret-value');
  });

  it('reports a missing SHA once, together with other problems', () => {
    const problems = problemsOf(() =>
      computeTags({
        userTags: [{ name: 'a', value: '{{ .Foo }}' }, { name: 'b', value: '{{ .CommitSHA }}' }],
        settings: {},
        gitState: gitState('postsubmit', { baseCommitSHA: undefined }),
        env: {},
        now,
      }),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('commit SHA could not be determined');
    expect(problems[1]).toContain('unknown field "Foo"');
  });
});
