import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readGitState, type Env, type GitState } from '../src/ci/index.js';
import { parseConfig } from '../src/config/load.js';
import { Problems } from '../src/errors.js';
import { dockerfileLabelKeys } from '../src/inputs/dockerfile.js';
import { createdTime, OCI, originMetadata, parseKeyValues, unitMetadata } from '../src/labels.js';
import { defaultOptions, type Options } from '../src/options.js';
import { buildPlan, type PlanFiles } from '../src/plan.js';
import { backendFor, backendNamed, backendOptionProblems } from '../src/backends/index.js';
import { inputProblems } from './support/errors.js';

const NOW = new Date('2026-11-25T10:00:00.123Z');
const BASE = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const GITHUB = fileURLToPath(new URL('./fixtures/github/', import.meta.url));
const TOKEN = 'ghs_labelSourceToken6Tm1';

const push: GitState = { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'r', repositoryUrl: 'https://github.com/o/r', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
const pr: GitState = { ...push, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 7, pullHeadCommitSHA: HEAD };

function plan(o: Partial<Options>, git: GitState, extra: { env?: Env; files?: PlanFiles; config?: string } = {}) {
  const { config } = parseConfig(extra.config ?? 'registry: reg.io/prod\n', 'config.yaml');
  const opts: Options = { ...defaultOptions(), config: 'config.yaml', name: 'app', context: '/src', logDir: '/logs', ...o };
  return buildPlan({ options: opts, config, gitState: git, backend: backendFor(opts, {}, config), env: extra.env ?? {}, now: NOW, cwd: '/work', files: extra.files ?? {}, readFile: () => '' });
}
const unit = (...args: Parameters<typeof plan>) => plan(...args).builds[0]!;

describe('the origin of an image, from the CI context and the tags', () => {
  it('a postsubmit: source, the base commit, the build time, the default tag as version and ref.name; labels and annotations alike', () => {
    const expected = {
      [OCI.source]: 'https://github.com/o/r',
      [OCI.revision]: BASE,
      [OCI.created]: '2026-11-25T10:00:00Z',
      [OCI.version]: 'v20261125-01234567',
      [OCI.refName]: 'v20261125-01234567',
    };
    expect(unit({}, push)).toMatchObject({ labels: expected, annotations: expected });
  });

  it.each([
    { name: 'pull request: the PR head, as COMMIT_SHA', git: pr, o: {}, revision: HEAD },
    { name: 'postsubmit: the base commit', git: push, o: {}, revision: BASE },
    { name: '--commit-sha overrides both', git: pr, o: { commitSha: 'abcdef1' }, revision: 'abcdef1' },
  ])('revision, $name', ({ git, o, revision }) => {
    const u = unit(o, git);
    expect(u.labels[OCI.revision]).toBe(revision);
    expect(u.buildArgs.COMMIT_SHA).toBe(revision);
  });

  it.each([
    { name: 'the first user tag', tags: ['first=v1.2.3', 'second=v2'], version: 'v1.2.3' },
    { name: 'the default tag without user tags (a PR: PR-<n>)', tags: [], version: 'PR-7' },
  ])('version and ref.name are $name', ({ tags, version }) => {
    const u = unit({ tags }, pr);
    expect(u.annotations).toMatchObject({ [OCI.version]: version, [OCI.refName]: version });
  });

  it('a variant states its own suffixed tag', () => {
    const files: PlanFiles = { variants: { path: '/src/variants.yaml', text: 'arm: {A: b}\n' } };
    expect(unit({ tags: ['v1'] }, push, { files }).labels[OCI.version]).toBe('v1-arm');
  });

  it.each([
    { name: 'SOURCE_DATE_EPOCH set', env: { SOURCE_DATE_EPOCH: '1700000000' }, created: '2023-11-14T22:13:20Z' },
    { name: 'SOURCE_DATE_EPOCH=0', env: { SOURCE_DATE_EPOCH: '0' }, created: '1970-01-01T00:00:00Z' },
    { name: 'SOURCE_DATE_EPOCH empty: the build time', env: { SOURCE_DATE_EPOCH: '' }, created: '2026-11-25T10:00:00Z' },
    { name: 'unset: the build time', env: {}, created: '2026-11-25T10:00:00Z' },
  ])('created, $name', ({ env, created }) => {
    expect(createdTime(env, NOW)).toBe(created);
    expect(unit({}, push, { env }).labels[OCI.created]).toBe(created);
  });

  it.each(['yesterday', '-1', '1.5', '99999999999999'])('SOURCE_DATE_EPOCH=%s is exit 2, with the other problems', (epoch) => {
    const problems = inputProblems(() => plan({ labels: ['x'] }, push, { env: { SOURCE_DATE_EPOCH: epoch } }));
    expect(problems).toEqual([expect.stringContaining('--label "x" is not KEY=VALUE'), expect.stringMatching(/^environment variable SOURCE_DATE_EPOCH=".*" is not a Unix time: set it to whole seconds since 1970-01-01 UTC/)]);
  });

  it('a context without a repository (a local run without --repo) states no source', () => {
    const local: GitState = { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
    expect(Object.keys(unit({}, local).labels)).toEqual([OCI.revision, OCI.created, OCI.version, OCI.refName]);
  });

  it('the ADO pipeline builds from its own checkout: nothing in its units', () => {
    const u = unit({ backend: 'ado', dryRun: true }, push, { config: 'ado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n' });
    expect(u).toMatchObject({ labels: {}, annotations: {} });
  });
});

describe('source per CI system (readGitState → plan)', () => {
  const PROW = { CI: 'true', PROW_JOB_ID: 'x', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE };
  it.each<[string, Env, string]>([
    ['GitHub Actions', { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: `${GITHUB}push.json` }, 'https://github.com/kyma-project/test-infra'],
    ['GitHub Enterprise Server', { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: `${GITHUB}push.json`, GITHUB_SERVER_URL: 'https://ghe.example.com' }, 'https://ghe.example.com/kyma-project/test-infra'],
    ['Prow', PROW, 'https://github.com/kyma-project/test-infra'],
    ['Prow with JOB_SPEC refs.repo_link', { ...PROW, JOB_SPEC: '{"refs":{"repo_link":"https://github.tools.example/kyma-project/test-infra"}}' }, 'https://github.tools.example/kyma-project/test-infra'],
    ['Azure DevOps', { CI: 'true', BUILD_BUILDID: '1', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: BASE }, 'https://github.com/kyma-project/test-infra'],
    ['Jenkins', { CI: 'true', JENKINS_HOME: '/j', GIT_URL: 'git@git.example.com:kyma-project/test-infra.git', GIT_COMMIT: BASE }, 'https://git.example.com/kyma-project/test-infra'],
    ['Prow with a token and a query in refs.repo_link', { ...PROW, JOB_SPEC: `{"refs":{"repo_link":"https://x-access-token:${TOKEN}@github.com/kyma-project/test-infra?t=${TOKEN}"}}` }, 'https://github.com/kyma-project/test-infra'],
    ['GitHub Enterprise Server with a token in GITHUB_SERVER_URL', { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: `${GITHUB}push.json`, GITHUB_SERVER_URL: `https://u:${TOKEN}@ghe.example.com` }, 'https://ghe.example.com/kyma-project/test-infra'],
    ['Jenkins with a token in GIT_URL', { CI: 'true', JENKINS_HOME: '/j', GIT_URL: `https://x-access-token:${TOKEN}@git.example.com/kyma-project/test-infra.git`, GIT_COMMIT: BASE }, 'https://git.example.com/kyma-project/test-infra'],
  ])('%s', (_name, env, source) => {
    const { gitState: git } = readGitState(env, { readFile: (path) => readFileSync(path, 'utf8'), gitHead: () => undefined });
    const u = unit({}, git);
    expect(u.labels[OCI.source]).toBe(source);
    expect(u.annotations[OCI.source]).toBe(source);
  });

  it.each<[string, string, string | undefined]>([
    ['a user and a token', `https://x-access-token:${TOKEN}@github.com/o/r`, 'https://github.com/o/r'],
    ['a query and a fragment', `https://github.com/o/r?token=${TOKEN}#x`, 'https://github.com/o/r'],
    ['not an http(s) URL: left out', `git@github.com:o/r.git`, undefined],
    ['not a URL: left out', `https://x:${TOKEN}@git hub.com/o/r`, undefined],
  ])('a git state made elsewhere: the source label is cleaned too (%s)', (_name, repositoryUrl, source) => {
    const origin = originMetadata({ gitState: { ...push, repositoryUrl }, revision: BASE, created: '2026-11-25T10:00:00Z', tags: [] });
    expect(origin[OCI.source]).toBe(source);
    expect(JSON.stringify(origin)).not.toContain(TOKEN);
  });
});

describe('--label and --annotation', () => {
  it('a user --label wins over the origin label, an --annotation over the origin annotation; each stays on its own side', () => {
    const u = unit({ labels: [`${OCI.source}=https://example.com/mirror`, 'team=infra'], annotations: [`${OCI.version}=9.9`, 'note=a=b,c'] }, push);
    expect(u.labels).toMatchObject({ [OCI.source]: 'https://example.com/mirror', [OCI.version]: 'v20261125-01234567', team: 'infra' });
    expect(u.annotations).toMatchObject({ [OCI.source]: 'https://github.com/o/r', [OCI.version]: '9.9', note: 'a=b,c' });
    expect(u.labels.note).toBeUndefined();
    expect(u.annotations.team).toBeUndefined();
  });

  it.each([
    { name: 'KEY=VALUE', values: ['a=1'], out: { a: '1' } },
    { name: 'an empty value', values: ['a='], out: { a: '' } },
    { name: '"=" inside the value', values: ['a=b=c'], out: { a: 'b=c' } },
    { name: 'a later value of a key wins', values: ['a=1', 'a=2'], out: { a: '2' } },
    { name: 'reverse-domain, slash and colon keys', values: ['com.example/x-y_z:1=v'], out: { 'com.example/x-y_z:1': 'v' } },
  ])('accepts $name', ({ values, out }) => {
    const problems = new Problems();
    expect({ ...parseKeyValues('label', values, problems) }).toEqual(out);
    expect(() => problems.throwIfAny()).not.toThrow();
  });

  it('the ADO backend refuses both: its pipeline takes none', () => {
    const o: Options = { ...defaultOptions(), backend: 'ado', labels: ['a=1'], annotations: ['b=2'] };
    expect(backendOptionProblems(o, backendNamed('ado')!, true)).toEqual([
      '--label is not supported with the ado backend: its pipeline builds the image and takes no labels or annotations; drop --label or use another --backend',
      '--annotation is not supported with the ado backend: its pipeline builds the image and takes no labels or annotations; drop --annotation or use another --backend',
    ]);
    expect(backendOptionProblems(o, backendNamed('buildah')!, true)).toEqual([]);
  });

  it('reports every bad value of both flags in one round (exit 2)', () => {
    const problems = inputProblems(() => plan({ labels: ['novalue', '=x', 'a b=1'], annotations: ['.dot=1', 'ok=1', 'q'] }, push));
    expect(problems).toEqual([
      '--label "novalue" is not KEY=VALUE: write --label=novalue=<value> (or --label=novalue= for an empty value)',
      '--label "=x" has no key: write --label=<key>=<value>, e.g. --label=org.opencontainers.image.title=app',
      '--label key "a b" is not a valid key: use letters, digits and . _ - / :, starting with a letter or digit, e.g. com.example.team',
      '--annotation key ".dot" is not a valid key: use letters, digits and . _ - / :, starting with a letter or digit, e.g. com.example.team',
      '--annotation "q" is not KEY=VALUE: write --annotation=q=<value> (or --annotation=q= for an empty value)',
    ]);
  });
});

describe('a LABEL the Dockerfile sets wins over the origin label', () => {
  it.each([
    { name: 'in the last stage', text: `FROM scratch\nLABEL ${OCI.version}="mine" other=1\n`, keys: [OCI.version, 'other'] },
    { name: 'quoted key, continued line', text: `FROM scratch\nLABEL "${OCI.source}"=x \\\n  ${OCI.revision}=y\n`, keys: [OCI.source, OCI.revision] },
    { name: 'in a stage the last one is built FROM', text: `FROM scratch AS base\nLABEL a=1\nFROM base\nLABEL b=2\n`, keys: ['b', 'a'] },
    { name: 'not in a builder stage the image does not start from', text: `FROM scratch AS build\nLABEL a=1\nFROM scratch\nCOPY --from=build / /\n`, keys: [] },
    { name: 'the --target stage, not the later ones', text: `FROM scratch AS one\nLABEL a=1\nFROM one AS two\nLABEL b=2\n`, target: 'ONE', keys: ['a'] },
  ])('$name', ({ text, target, keys }) => {
    expect([...dockerfileLabelKeys(text, target)]).toEqual(keys);
  });

  it('the plan drops that origin label and keeps its annotation; a user --label still wins', () => {
    const files: PlanFiles = { dockerfile: '/src/Dockerfile', dockerfileText: `FROM scratch\nLABEL ${OCI.version}=mine ${OCI.source}=mine\n` };
    const u = unit({ labels: [`${OCI.source}=user`] }, push, { files });
    expect(u.labels[OCI.version]).toBeUndefined();
    expect(u.labels[OCI.source]).toBe('user');
    expect(u.annotations[OCI.version]).toBe('v20261125-01234567');
  });

  it('unitMetadata in one table', () => {
    const origin = originMetadata({ gitState: push, revision: BASE, created: 'T', tags: [{ name: 'd', value: 'v1', origin: 'default' }] });
    expect(unitMetadata(origin, { labels: { x: '1' }, annotations: { y: '2' } }, new Set([OCI.created]))).toEqual({
      labels: { [OCI.source]: 'https://github.com/o/r', [OCI.revision]: BASE, [OCI.version]: 'v1', [OCI.refName]: 'v1', x: '1' },
      annotations: { ...origin, y: '2' },
    });
  });
});
