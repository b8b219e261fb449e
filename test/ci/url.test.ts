import { describe, expect, it } from 'vitest';
import type { Env, GitState } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';
import { publicUrl } from '../../src/ci/url.js';
import { ciRun } from '../../src/sign/provenance-ci.js';
import { deps } from './support.js';

const TOKEN = 'ghs_sourceUrlToken4Kq9';
const BASE = '3f6c2e8a9b1d4c7e0f2a5b8c1d4e7f0a3b6c9d2e';

describe('publicUrl: the one rule for a URL that is published (labels, annotations, provenance)', () => {
  it.each<[string | undefined, string | undefined]>([
    [`https://x-access-token:${TOKEN}@github.com/o/r`, 'https://github.com/o/r'],
    [`https://x-access-token:${TOKEN}@github.com/o/r?token=${TOKEN}#L10`, 'https://github.com/o/r'],
    [`https://u:${TOKEN}@ghe.example`, 'https://ghe.example/'],
    [`http://${TOKEN}@git.example:8080/o/r/`, 'http://git.example:8080/o/r/'],
    ['https://github.com/o/r?', 'https://github.com/o/r'],
    ['https://github.com/o/r#', 'https://github.com/o/r'],
    ['HTTPS://GitHub.com/o/r', 'https://github.com/o/r'],
    ['https://jenkins.example/job/app/7/?delay=0', 'https://jenkins.example/job/app/7/'],
    [`https://u:${TOKEN}@ghe example`, undefined],
    ['https://', undefined],
    ['git@github.com:o/r.git', undefined],
    [`ssh://git:${TOKEN}@github.com/o/r`, undefined],
    ['file:///etc/passwd', undefined],
    ['not a url', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('publicUrl(%j) = %j', (text, expected) => {
    expect(publicUrl(text)).toBe(expected);
  });
});

const PROW: Env = { CI: 'true', PROW_JOB_ID: 'x', REPO_OWNER: 'o', REPO_NAME: 'r', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE };
const jobSpec = (repoLink: unknown): string => JSON.stringify({ type: 'postsubmit', refs: { org: 'o', repo: 'r', repo_link: repoLink } });
const GITHUB: Env = {
  CI: 'true',
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_EVENT_PATH: new URL('../fixtures/github/push.json', import.meta.url).pathname,
  GITHUB_REF: 'refs/heads/main',
};
const JENKINS: Env = { CI: 'true', JENKINS_HOME: '/j', GIT_COMMIT: BASE };

describe("the repository URL of every CI system goes through the rule; one that cannot be cleaned is left out with a warning", () => {
  it.each<[string, Env, string | undefined, string[]]>([
    ['Prow: JOB_SPEC repo_link with a token and a query', { ...PROW, JOB_SPEC: jobSpec(`https://x-access-token:${TOKEN}@github.com/o/r/?token=${TOKEN}#x`) }, 'https://github.com/o/r', []],
    ['Prow: a plain repo_link', { ...PROW, JOB_SPEC: jobSpec('https://github.tools.example/o/r') }, 'https://github.tools.example/o/r', []],
    ['Prow: no repo_link: github.com', { ...PROW, JOB_SPEC: JSON.stringify({ refs: { org: 'o' } }) }, 'https://github.com/o/r', []],
    ['Prow: an empty repo_link counts as none', { ...PROW, JOB_SPEC: jobSpec('') }, 'https://github.com/o/r', []],
    [
      'Prow: a repo_link that is not a URL',
      { ...PROW, JOB_SPEC: jobSpec(`https://x-access-token:${TOKEN}@github tools/o/r`) },
      undefined,
      ['JOB_SPEC refs.repo_link (Prow) is not an http(s) URL: the source of the image (org.opencontainers.image.source, provenance) is left out'],
    ],
    ['Prow: an scp-like repo_link', { ...PROW, JOB_SPEC: jobSpec('git@github.com:o/r.git') }, undefined, ['JOB_SPEC refs.repo_link (Prow) is not an http(s) URL']],
    ['Prow: a repo_link that is not a string', { ...PROW, JOB_SPEC: jobSpec(42) }, undefined, ['JOB_SPEC refs.repo_link (Prow) is not an http(s) URL']],
    ['GitHub Enterprise: GITHUB_SERVER_URL with a token and a query', { ...GITHUB, GITHUB_SERVER_URL: `https://u:${TOKEN}@ghe.example/?t=${TOKEN}` }, 'https://ghe.example/kyma-project/test-infra', []],
    ['GitHub Enterprise: GITHUB_SERVER_URL with a path', { ...GITHUB, GITHUB_SERVER_URL: 'https://ghe.example/git/' }, 'https://ghe.example/git/kyma-project/test-infra', []],
    [
      'GitHub Enterprise: GITHUB_SERVER_URL that is not a URL',
      { ...GITHUB, GITHUB_SERVER_URL: `https://u:${TOKEN}@ghe example` },
      undefined,
      ['environment variable GITHUB_SERVER_URL (GitHub Actions) is not an http(s) URL: the source of the image (org.opencontainers.image.source, provenance) is left out', 'e.g. https://github.example.com'],
    ],
    ['Jenkins: GIT_URL with a token, a query and a fragment', { ...JENKINS, GIT_URL: `https://x-access-token:${TOKEN}@github.com/o/r.git?ref=main#x` }, 'https://github.com/o/r', []],
    ['Jenkins: GIT_URL with a host that is not one', { ...JENKINS, GIT_URL: `https://x-access-token:${TOKEN}@git example.com/o/r.git` }, undefined, ['environment variable GIT_URL (Jenkins) is not an http(s) URL']],
  ])('%s', (_name, env, url, warnings) => {
    const read = readGitState(env, deps());
    expect(read.gitState.repositoryUrl).toBe(url);
    expect(read.warnings).toHaveLength(warnings.length === 0 ? 0 : 1);
    for (const fragment of warnings) expect(read.warnings[0]).toContain(fragment);
    // The warning never repeats the value: it may hold a token.
    expect(JSON.stringify(read)).not.toContain(TOKEN);
  });

  it('Jenkins: owner and name from a GIT_URL with a query', () => {
    const { gitState } = readGitState({ ...JENKINS, GIT_URL: `https://github.com/o/r.git?token=${TOKEN}` }, deps());
    expect(gitState).toMatchObject({ repositoryOwner: 'o', repositoryName: 'r', repositoryUrl: 'https://github.com/o/r' });
  });
});

describe('provenance applies the rule to what it is given', () => {
  const git = (fields: Partial<GitState>): GitState => ({ ciSystem: 'prow', jobType: 'postsubmit', isPullRequest: false, repositoryOwner: 'o', repositoryName: 'r', ...fields });
  const OURS = 'https://github.com/kyma-project/test-infra/image-builder/ci';

  it.each<[string, Partial<GitState>, Env, { builderId: string; sourceUrl: string | undefined }]>([
    ['a repository URL with a token', { repositoryUrl: `https://x-access-token:${TOKEN}@github.com/o/r?x=${TOKEN}` }, {}, { builderId: `${OURS}/prow`, sourceUrl: 'https://github.com/o/r' }],
    ['no repository URL in CI: none (github.com is only the guess of a local run)', {}, {}, { builderId: `${OURS}/prow`, sourceUrl: undefined }],
    ['a local run with --repo: github.com', { ciSystem: 'local' }, {}, { builderId: `${OURS}/local`, sourceUrl: 'https://github.com/o/r' }],
    [
      'GitHub: a GITHUB_SERVER_URL with a token and a query',
      { ciSystem: 'github-actions', repositoryUrl: 'https://ghe.example/o/r' },
      { GITHUB_SERVER_URL: `https://u:${TOKEN}@ghe.example?t=${TOKEN}`, GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '5' },
      { builderId: 'https://ghe.example/o/r/actions/runs/5', sourceUrl: 'https://ghe.example/o/r' },
    ],
    [
      'GitHub: a GITHUB_SERVER_URL that is not a URL: no job page, never github.com',
      { ciSystem: 'github-actions' },
      { GITHUB_SERVER_URL: 'https://ghe example', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '5' },
      { builderId: `${OURS}/github-actions`, sourceUrl: undefined },
    ],
    [
      'Jenkins: BUILD_URL with a user and a query',
      { ciSystem: 'jenkins', repositoryUrl: 'https://git.example/o/r' },
      { BUILD_URL: `https://u:${TOKEN}@jenkins.example/job/app/7/?token=${TOKEN}` },
      { builderId: 'https://jenkins.example/job/app/7/', sourceUrl: 'https://git.example/o/r' },
    ],
  ])('%s', (_name, fields, env, expected) => {
    const run = ciRun(git(fields), env);
    expect({ builderId: run.builderId, sourceUrl: run.sourceUrl }).toEqual(expected);
    expect(JSON.stringify(run)).not.toContain(TOKEN);
  });
});
