import { describe, expect, it } from 'vitest';
import type { GitState } from '../../src/ci/gitstate.js';
import { parseConfig } from '../../src/config/load.js';
import { describeSkip, selectSigners, signerSelection } from '../../src/sign/select.js';

const { config } = parseConfig(
  `
registry: r.example/prod
sign-config:
  enabled-signers:
    "*": [b-all, a-post]
    org/repo: [c-repo, b-all]
    other/repo: [d-other]
  signers:
    - {name: a-post, type: notary, job-type: [postsubmit], config: {endpoint: "https://a.example/", secret: {path: /a, type: token}}}
    - {name: b-all, type: notary, config: {endpoint: "https://b.example/", secret: {path: /b, type: signify}}}
    - {name: c-repo, type: notary, config: {endpoint: "https://c.example/", secret: {path: /c, type: signify-mtls}}}
    - {name: d-other, type: notary, config: {endpoint: "https://d.example/", secret: {path: /d, type: token}}}
`,
  'config.yaml',
);

const git = (overrides: Partial<GitState>): GitState => ({ ciSystem: 'prow', jobType: 'postsubmit', isPullRequest: false, ...overrides });

describe('selectSigners (verifying src/sign/select.ts against SPEC 10)', () => {
  it.each([
    ['"*" plus the repository\'s, each once, in config order', git({ repositoryOwner: 'org', repositoryName: 'repo' }), ['a-post', 'b-all', 'c-repo']],
    ['another repository gets its own', git({ repositoryOwner: 'other', repositoryName: 'repo' }), ['a-post', 'b-all', 'd-other']],
    ['job-type filters in CI', git({ repositoryOwner: 'org', repositoryName: 'repo', jobType: 'presubmit', isPullRequest: true }), ['b-all', 'c-repo']],
    ['outside CI a job-type signer never runs (--repo still picks repository signers)', git({ ciSystem: 'local', repositoryOwner: 'org', repositoryName: 'repo' }), ['b-all', 'c-repo']],
    ['no repository: only "*"', git({}), ['a-post', 'b-all']],
    ['inside the ADO pipeline workflow_dispatch is a postsubmit', git({ ciSystem: 'azure-devops', jobType: 'workflow_dispatch' }), ['a-post', 'b-all']],
    ['inside the ADO pipeline schedule is a postsubmit', git({ ciSystem: 'azure-devops', jobType: 'schedule' }), ['a-post', 'b-all']],
    ['inside the ADO pipeline merge_group is not', git({ ciSystem: 'azure-devops', jobType: 'merge_group' }), ['b-all']],
    ['in GitHub Actions the event kind is compared as it is', git({ ciSystem: 'github-actions', jobType: 'workflow_dispatch' }), ['b-all']],
  ])('%s', (_, gitState, names) => {
    expect(selectSigners(config, gitState).map((s) => s.name)).toEqual(names);
  });

  it('a config without sign-config selects nothing', () => {
    expect(selectSigners(parseConfig('registry: r.example/prod\n', 'c.yaml').config, git({}))).toEqual([]);
  });

  it('a config without sign-config skips nothing', () => {
    expect(signerSelection(parseConfig('registry: r.example/prod\n', 'c.yaml').config, git({}))).toEqual({ selected: [], skipped: [] });
  });

  it.each([
    ['an unknown signer type', '[{name: x, type: gpg, config: {}}]', 'unknown signer type "gpg" (known: notary, cosign)'],
    ['an unknown secret type', '[{name: x, type: notary, config: {endpoint: "https://x.example/", secret: {path: /x, type: vault}}}]', 'unknown secret type "vault" (known: token, signify, signify-mtls)'],
  ])('%s is a config error naming it', (_, signers, message) => {
    expect(() => parseConfig(`registry: r.example/p\nsign-config: {signers: ${signers}}\n`, 'config.yaml')).toThrow(message);
  });
});

const { config: wide } = parseConfig(
  `
registry: r.example/prod
sign-config:
  enabled-signers:
    "*": [signify-prod, any-ci, release]
    org/repo: [repo-notary]
    org/other: [repo-notary]
    third/repo: [third]
  signers:
    - {name: signify-prod, type: notary, job-type: [postsubmit], config: {endpoint: "https://a.example/", secret: {path: /a, type: signify}}}
    - {name: any-ci, type: notary, config: {endpoint: "https://b.example/"}}
    - {name: release, type: cosign, job-type: [postsubmit, workflow_dispatch, schedule], config: {key: /k}}
    - {name: repo-notary, type: notary, config: {endpoint: "https://c.example/", secret: {path: /c, type: token}}}
    - {name: third, type: notary, job-type: [merge_group], config: {endpoint: "https://d.example/", secret: {path: /d, type: token}}}
    - {name: spare, type: notary, config: {endpoint: "https://e.example/", secret: {path: /e, type: token}}}
`,
  'config.yaml',
);

describe('signerSelection: every configured signer either runs or is skipped with its reason (SPEC 11)', () => {
  const inRepo = (owner: string, name: string, overrides: Partial<GitState> = {}) => git({ repositoryOwner: owner, repositoryName: name, ...overrides });
  it.each<[string, GitState, string[], string[]]>([
    [
      'postsubmit in org/repo',
      inRepo('org', 'repo'),
      ['signify-prod', 'any-ci', 'release', 'repo-notary'],
      [
        'third skipped: enabled for third/repo, this is org/repo',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'presubmit in org/repo',
      inRepo('org', 'repo', { jobType: 'presubmit', isPullRequest: true }),
      ['any-ci', 'repo-notary'],
      [
        'signify-prod skipped: runs for postsubmit, this is presubmit',
        'release skipped: runs for postsubmit or workflow_dispatch or schedule, this is presubmit',
        'third skipped: enabled for third/repo, this is org/repo',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'merge_group in third/repo',
      inRepo('third', 'repo', { jobType: 'merge_group' }),
      ['any-ci', 'third'],
      [
        'signify-prod skipped: runs for postsubmit, this is merge_group',
        'release skipped: runs for postsubmit or workflow_dispatch or schedule, this is merge_group',
        'repo-notary skipped: enabled for org/repo, org/other, this is third/repo',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'workflow_dispatch (GitHub Actions) in org/other',
      inRepo('org', 'other', { ciSystem: 'github-actions', jobType: 'workflow_dispatch' }),
      ['any-ci', 'release', 'repo-notary'],
      [
        'signify-prod skipped: runs for postsubmit, this is workflow_dispatch',
        'third skipped: enabled for third/repo, this is org/other',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'schedule: compared literally, not as postsubmit',
      inRepo('org', 'repo', { ciSystem: 'github-actions', jobType: 'schedule' }),
      ['any-ci', 'release', 'repo-notary'],
      [
        'signify-prod skipped: runs for postsubmit, this is schedule',
        'third skipped: enabled for third/repo, this is org/repo',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'outside CI with --repo: job-type signers never run',
      inRepo('org', 'repo', { ciSystem: 'local' }),
      ['any-ci', 'repo-notary'],
      [
        'signify-prod skipped: runs for postsubmit jobs in CI, this run is outside CI',
        'release skipped: runs for postsubmit or workflow_dispatch or schedule jobs in CI, this run is outside CI',
        'third skipped: enabled for third/repo, this is org/repo',
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
    [
      'outside CI without --repo: the repository is unknown; the repository reason comes first',
      git({ ciSystem: 'local' }),
      ['any-ci'],
      [
        'signify-prod skipped: runs for postsubmit jobs in CI, this run is outside CI',
        'release skipped: runs for postsubmit or workflow_dispatch or schedule jobs in CI, this run is outside CI',
        "repo-notary skipped: enabled for org/repo, org/other, this run's repository is unknown (outside CI, pass --repo=org/repo)",
        "third skipped: enabled for third/repo, this run's repository is unknown (outside CI, pass --repo=org/repo)",
        'spare skipped: not enabled for any repository (list it under sign-config.enabled-signers)',
      ],
    ],
  ])('%s', (_, gitState, selected, skipped) => {
    const selection = signerSelection(wide, gitState);
    expect(selection.selected.map((s) => s.name)).toEqual(selected);
    expect(selection.skipped.map(describeSkip)).toEqual(skipped);
    expect(selectSigners(wide, gitState)).toEqual(selection.selected);
  });
});
