import { describe, expect, it } from 'vitest';
import type { GitState } from '../../src/ci/gitstate.js';
import { parseConfig } from '../../src/config/load.js';
import { selectSigners } from '../../src/sign/select.js';

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
  ])('%s', (_, gitState, names) => {
    expect(selectSigners(config, gitState).map((s) => s.name)).toEqual(names);
  });

  it('a config without sign-config selects nothing', () => {
    expect(selectSigners(parseConfig('registry: r.example/prod\n', 'c.yaml').config, git({}))).toEqual([]);
  });

  it.each([
    ['an unknown signer type', '[{name: x, type: gpg, config: {}}]', 'unknown signer type "gpg" (known: notary, cosign)'],
    ['an unknown secret type', '[{name: x, type: notary, config: {endpoint: "https://x.example/", secret: {path: /x, type: vault}}}]', 'unknown secret type "vault" (known: token, signify, signify-mtls)'],
  ])('%s is a config error naming it', (_, signers, message) => {
    expect(() => parseConfig(`registry: r.example/p\nsign-config: {signers: ${signers}}\n`, 'config.yaml')).toThrow(message);
  });
});
