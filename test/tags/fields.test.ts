import { describe, expect, it } from 'vitest';
import type { GitState, JobType } from '../../src/ci/gitstate.js';
import { InputError } from '../../src/errors.js';
import { computeTags, renderTag, type TemplateData } from '../../src/tags/index.js';
import { inputMessage } from '../support/errors.js';

// HeadSHA, ShortHeadSHA and Branch (SPEC 5): the commit built and the branch, in both template spellings.

const BASE = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const OVERRIDE = 'abcdef1234567890abcdef1234567890abcdef12';
const data: TemplateData = { commitSHA: BASE, headSHA: HEAD, branch: 'main', prNumber: 42, date: new Date('2026-11-25T10:00:00Z'), env: {} };

const render = (value: string, d: TemplateData = data): string => renderTag({ name: 't', value }, d).value;


describe('the fields HeadSHA, ShortHeadSHA, Branch', () => {
  it.each([
    ['{{ .HeadSHA }}', '{{HeadSHA}}', HEAD],
    ['{{ .ShortHeadSHA }}', '{{ShortHeadSHA}}', 'fedcba98'],
    ['{{ .Branch }}', '{{Branch}}', 'main'],
    ['{{.Branch}}-{{.ShortHeadSHA}}', '{{Branch}}-{{ShortHeadSHA}}', 'main-fedcba98'],
    ['{{- .Branch -}} x', '{{~Branch~}} x', 'mainx'],
    ['{{ .ShortSHA }}-{{ .ShortHeadSHA }}', '{{ShortSHA}}-{{ShortHeadSHA}}', '01234567-fedcba98'],
  ])('Go %j and Handlebars %j both render %j', (go, hbs, expected) => {
    expect(render(go)).toBe(expected);
    expect(render(hbs)).toBe(expected);
  });

  it('HeadSHA is the base SHA when no head is given', () => {
    expect(render('{{ .HeadSHA }}-{{ .CommitSHA }}', { ...data, headSHA: undefined })).toBe(`${BASE}-${BASE}`);
  });

  it('HeadSHA needs a commit SHA, as ShortSHA does', () => {
    const message = inputMessage(() => renderTag({ name: 'h', value: 'x-{{ .ShortHeadSHA }}' }, { ...data, commitSHA: undefined, headSHA: undefined }));
    expect(message).toContain('tag "h"');
    expect(message).toContain('uses ShortHeadSHA, but the commit SHA could not be determined');
  });

  it('replaces spaces in a branch name by "-"', () => {
    expect(render('{{ .Branch }}', { ...data, branch: 'release 1.2' })).toBe('release-1.2');
  });

  it('an empty Branch renders empty (SPEC 5): x-{{ .Branch }} is "x-"', () => {
    expect(render('x-{{ .Branch }}', { ...data, branch: undefined })).toBe('x-');
  });

  it.each([['{{ .Branch }}'], ['{{Branch}}']])('%j without a branch is an error naming the tag and the empty field', (value) => {
    const message = inputMessage(() => renderTag({ name: 'b', value }, { ...data, branch: undefined }));
    expect(message).toMatch(/^tag "b" \(template .*\): renders to an empty value: Branch is empty \(no branch is known for this run: a tag build, or outside CI without PULL_BASE_REF\)/);
  });

  it('an empty value names every empty field and variable it reads', () => {
    const message = inputMessage(() => renderTag({ name: 'e', value: '{{ .PRNumber }}{{ .Env "UNSET" }}{{ .Branch }}' }, { ...data, prNumber: undefined, branch: '' }));
    expect(message).toContain('Branch is empty (no branch is known');
    expect(message).toContain('PRNumber is empty (this run is not a pull request)');
    expect(message).toContain('Env "UNSET" is unset or empty');
  });

  it('a branch with "/" is no valid tag: an error naming the tag, saying why', () => {
    const message = inputMessage(() => renderTag({ name: 'b', value: '{{ .Branch }}-{{ .ShortSHA }}' }, { ...data, branch: 'feature/x' }));
    expect(message).toContain('tag "b"');
    expect(message).toContain('value "feature/x-01234567" is not a valid OCI tag ("/" is not allowed: a branch such as feature/x cannot be a tag)');
  });
});

describe('an unknown field suggests the one meant', () => {
  it.each([
    ['HeadSha', 'HeadSHA'],
    ['headsha', 'HeadSHA'],
    ['HeadSHa', 'HeadSHA'],
    ['ShortHeadSha', 'ShortHeadSHA'],
    ['branch', 'Branch'],
    ['Brnach', 'Branch'],
    ['Branc', 'Branch'],
    ['ShortSha', 'ShortSHA'],
    ['CommitSha', 'CommitSHA'],
    ['PrNumber', 'PRNumber'],
    ['Dat', 'Date'],
  ])('%s → did you mean %s? (both spellings)', (typed, meant) => {
    for (const value of [`{{ .${typed} }}`, `{{${typed}}}`]) {
      const message = inputMessage(() => renderTag({ name: 'x', value }, data));
      expect(message).toContain(`tag "x" (template ${JSON.stringify(value)}): unknown field "${typed}" (did you mean ${meant}?); known fields: `);
      expect(message).toContain('HeadSHA, ShortHeadSHA, Branch');
    }
  });

  it('env "X" suggests Env', () => {
    expect(inputMessage(() => render('{{ .env "X" }}'))).toContain('unknown field "env" (did you mean Env?)');
  });

  it.each([['Foo'], ['printf'], ['BranchName'], ['SHA']])('%s: no suggestion when nothing is near', (typed) => {
    const message = inputMessage(() => render(`{{ .${typed} }}`));
    expect(message).toContain(`unknown field "${typed}"; known fields:`);
    expect(message).not.toContain('did you mean');
  });
});

function gitState(jobType: JobType, extra: Partial<GitState> = {}): GitState {
  const isPullRequest = jobType === 'presubmit';
  return { ciSystem: 'prow', jobType, isPullRequest, pullRequestNumber: isPullRequest ? 7 : undefined, baseCommitSHA: BASE, ...extra };
}

const USER = [{ name: 'head', value: '{{ .HeadSHA }}' }, { name: 'short', value: '{{ShortHeadSHA}}' }, { name: 'branch', value: '{{ .Branch }}' }];
const now = new Date('2026-11-25T10:00:00Z');
const userValues = (git: GitState, commitOverride?: string): string[] =>
  computeTags({ userTags: USER, settings: {}, gitState: git, env: {}, now, commitOverride })
    .filter((t) => t.origin === 'user')
    .map((t) => `${t.name}=${t.value}`);

describe('computeTags: HeadSHA is the commit built, Branch the git state\'s', () => {
  it.each<[string, GitState, string[]]>([
    ['presubmit: the pull request head', gitState('presubmit', { pullHeadCommitSHA: HEAD, branch: 'main' }), [`head=${HEAD}`, 'short=fedcba98', 'branch=main']],
    ['merge_group: the base SHA (SPEC 5: a pull request\'s head, else the base)', gitState('merge_group', { pullHeadCommitSHA: HEAD, branch: 'main' }), [`head=${BASE}`, 'short=01234567', 'branch=main']],
    ['postsubmit: the base SHA', gitState('postsubmit', { branch: 'release-1.2' }), [`head=${BASE}`, 'short=01234567', 'branch=release-1.2']],
    ['workflow_dispatch', gitState('workflow_dispatch', { branch: 'main' }), [`head=${BASE}`, 'short=01234567', 'branch=main']],
    ['schedule', gitState('schedule', { branch: 'main' }), [`head=${BASE}`, 'short=01234567', 'branch=main']],
  ])('%s', (_name, git, expected) => {
    expect(userValues(git)).toEqual(expected);
  });

  it('--commit-sha is the commit built: HeadSHA is the override, also in a pull request', () => {
    const overridden = gitState('presubmit', { pullHeadCommitSHA: HEAD, baseCommitSHA: OVERRIDE, branch: 'main' });
    expect(userValues(overridden, OVERRIDE)).toEqual([`head=${OVERRIDE}`, 'short=abcdef12', 'branch=main']);
  });

  it('no branch: one error naming the Branch tag; the others render', () => {
    let problems: string[] = [];
    try {
      computeTags({ userTags: USER, settings: {}, gitState: gitState('postsubmit'), env: {}, now });
    } catch (err) {
      problems = (err as InputError).problems;
    }
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^tag "branch" .*renders to an empty value: Branch is empty/);
  });
});
