import { adoBackend } from '../../../src/backends/ado/index.js';
import { describe, expect, it } from 'vitest';
import { adoParameters } from '../../../src/backends/ado/parameters.js';
import { adoRequest, describeAdoRequest } from '../../../src/backends/ado/request.js';
import type { GitState } from '../../../src/ci/gitstate.js';
import { parseConfig } from '../../../src/config/load.js';
import { InputError } from '../../../src/errors.js';
import { defaultOptions, type Options } from '../../../src/options.js';
import { buildPlan } from '../../../src/plan.js';
import type { Plan } from '../../../src/plan-types.js';

const NOW = new Date('2024-05-01T10:00:00Z');
const BASE = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const CONFIG = `
ado-config:
  ado-organization-url: https://dev.azure.com/my-org
  ado-project-name: my project
  ado-pipeline-id: 14902
`;

function options(overrides: Partial<Options> = {}): Options {
  return { ...defaultOptions(), config: 'config.yaml', name: 'test-infra/app', context: 'images/app', logDir: '/logs', backend: 'ado', dryRun: true, ...overrides };
}

const postsubmit: GitState = { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, baseCommitRef: 'refs/heads/main' };
const presubmit: GitState = { ...postsubmit, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 42, pullHeadCommitSHA: HEAD };

/** A real plan, as the CLI builds it: tags rendered, user tags first. */
function plan(o: Options, gitState: GitState = postsubmit, env: Record<string, string> = {}): Plan {
  return buildPlan({ options: o, config: parseConfig(CONFIG, 'config.yaml').config, gitState, backend: adoBackend, env, now: NOW, cwd: '/work', files: {}, readFile: () => 'trigger: none\n' });
}

const params = (o: Partial<Options> = {}, git?: GitState, env?: Record<string, string>) => adoParameters(plan(options(o), git, env), options(o));
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('adoParameters (SPEC 9: names and encodings the pipeline reads)', () => {
  it('a postsubmit: the required parameters, booleans as strings, Context and Dockerfile as given, the default platforms', () => {
    expect(params()).toEqual({
      RepoName: 'test-infra', RepoOwner: 'kyma-project', JobType: 'postsubmit', PullBaseSHA: BASE, BaseRef: 'refs/heads/main',
      Name: 'test-infra/app', Dockerfile: 'Dockerfile', Context: 'images/app', ExportTags: 'false', Platforms: 'linux/amd64,linux/arm64',
    });
  });

  it('keeps the order of SPEC 9', () => {
    const keys = Object.keys(params({
      exportTags: true, testKanikoBuildConfig: true, envFile: 'envs', buildArgs: ['A=1'], tags: ['latest'], platforms: ['linux/amd64'], target: 'prod',
      oidcToken: 'tok', useGoInternalSapModules: true, useRestrictedRegistry: true, adoParams: ['Extra=1'],
    }, presubmit));
    expect(keys).toEqual([
      'RepoName', 'RepoOwner', 'JobType', 'PullNumber', 'PullBaseSHA', 'PullPullSHA', 'BaseRef', 'Name', 'Dockerfile', 'Context', 'ExportTags',
      'UseKanikoConfigFromPR', 'EnvFile', 'BuildArgs', 'Tags', 'Platforms', 'Target', 'Authorization', 'UseGoInternalSAPModules', 'useRestrictedRegistry', 'Extra',
    ]);
  });

  it.each<[string, Partial<Options>, Record<string, string>]>([
    ['--commit-sha is the base SHA', { commitSha: 'abcdef1234567' }, { PullBaseSHA: 'abcdef1234567' }],
    ['--export-tags and --test-kaniko-build-config are "true"', { exportTags: true, testKanikoBuildConfig: true }, { ExportTags: 'true', UseKanikoConfigFromPR: 'true' }],
    ['--env-file goes as given: a path in the pipeline\'s checkout', { envFile: 'envs' }, { EnvFile: 'envs' }],
    ['--build-arg only, comma-joined in order; no COMMIT_SHA', { buildArgs: ['B=2', 'A=x=y'] }, { BuildArgs: 'B=2,A=x=y' }],
    ['--platform comma-joined', { platforms: ['linux/amd64'] }, { Platforms: 'linux/amd64' }],
    ['--target', { target: 'runtime' }, { Target: 'runtime' }],
    ['--oidc-token as Authorization', { oidcToken: 'eyJ.tok.en' }, { Authorization: 'eyJ.tok.en' }],
    ['the 2026 booleans are "true" when set', { useGoInternalSapModules: true, useRestrictedRegistry: true }, { UseGoInternalSAPModules: 'true', useRestrictedRegistry: 'true' }],
    ['user tags as written, not rendered; derived names', { tags: ['latest', 'sha=v{{ .ShortSHA }}'] }, { Tags: b64('latest=latest,sha=v{{ .ShortSHA }}') }],
    ['--tag-base64 tags after --tag', { tags: ['a=1'], tagBase64: b64('b=2') }, { Tags: b64('a=1,b=2') }],
    ['every user tag is sent, the pipeline drops duplicates', { tags: ['x=1', 'y=1'] }, { Tags: b64('x=1,y=1') }],
    ['Env templates go as written: the pipeline reads its env file', { tags: ['{{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}'] }, { Tags: b64('EnvGOLANG_VERSION-ShortSHA={{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}') }],
    ['--ado-param passes through; "=" in the value; the last repeated key wins', { adoParams: ['Custom=true', 'Q=a=b', 'Q=c'] }, { Custom: 'true', Q: 'c' }],
  ])('%s', (_name, o, expected) => {
    expect(params(o, postsubmit)).toMatchObject(expected);
  });

  it.each<[string, Partial<Options>, string[]]>([
    ['nothing optional unless given', {}, ['PullNumber', 'PullPullSHA', 'UseKanikoConfigFromPR', 'EnvFile', 'BuildArgs', 'Tags', 'Target', 'Authorization', 'UseGoInternalSAPModules', 'useRestrictedRegistry']],
    ['booleans that are false are not sent', { testKanikoBuildConfig: false, useGoInternalSapModules: false, useRestrictedRegistry: false }, ['UseKanikoConfigFromPR', 'UseGoInternalSAPModules', 'useRestrictedRegistry']],
  ])('%s', (_name, o, absent) => {
    const p = params(o, postsubmit);
    for (const key of absent) expect(p).not.toHaveProperty(key);
  });

  it('names every missing required parameter with where it comes from (exit 2)', () => {
    const local: GitState = { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
    const fn = () => params({}, local);
    expect(fn).toThrow(InputError);
    expect(fn).toThrow(/RepoName \(.*--repo=org\/repo outside CI\), RepoOwner/);
  });

  it('a preview does not need --name: Name is sent empty, as the Go tool does', () => {
    const o = options({ name: undefined, adoPreviewRun: true, adoPreviewRunYamlPath: 'p.yaml' });
    expect(adoParameters(plan(o), o, true).Name).toBe('');
  });

  it('refuses an --ado-param that would redefine a parameter image-builder sets', () => {
    expect(() => params({ adoParams: ['Authorization=x', 'Tags=y', 'EnvFile=z'] })).toThrow(/--ado-param Authorization: .*\n.*--ado-param Tags:.*\n.*--ado-param EnvFile:/);
  });

  it('refuses a tag the pipeline could not split back', () => {
    expect(() => params({ tags: ['a,b=1'] })).toThrow(/must not contain "=" or ","/);
  });
});

/** The git state of each CI system and event kind, as src/ci reads it, and the parameters the pipeline gets for it. */
describe('the parameter set per CI system and event kind', () => {
  const ref = 'refs/heads/main';
  const prow = { ciSystem: 'prow' as const, repositoryOwner: 'kyma-project', repositoryName: 'test-infra', baseCommitSHA: BASE };
  it.each<[string, GitState, Record<string, string>, string[]]>([
    ['Prow presubmit', { ...prow, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 42, pullHeadCommitSHA: HEAD, baseCommitRef: 'main' },
      { JobType: 'presubmit', PullNumber: '42', PullBaseSHA: BASE, PullPullSHA: HEAD, BaseRef: 'main' }, []],
    ['Prow postsubmit', { ...prow, jobType: 'postsubmit', isPullRequest: false, baseCommitRef: 'main' },
      { JobType: 'postsubmit', PullBaseSHA: BASE, BaseRef: 'main' }, ['PullNumber', 'PullPullSHA']],
    ['Prow postsubmit without PULL_BASE_REF', { ...prow, jobType: 'postsubmit', isPullRequest: false },
      { JobType: 'postsubmit', PullBaseSHA: BASE }, ['PullNumber', 'PullPullSHA', 'BaseRef']],
    ['GitHub pull_request_target', { ...prow, ciSystem: 'github-actions', jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 7, pullHeadCommitSHA: HEAD, baseCommitRef: 'refs/pull/7/merge' },
      { JobType: 'presubmit', PullNumber: '7', PullPullSHA: HEAD, BaseRef: 'refs/pull/7/merge' }, []],
    ['GitHub push', { ...prow, ciSystem: 'github-actions', jobType: 'postsubmit', isPullRequest: false, baseCommitRef: ref },
      { JobType: 'postsubmit', PullBaseSHA: BASE, BaseRef: ref }, ['PullNumber', 'PullPullSHA']],
    ['GitHub merge_group: PullNumber 0, the head SHA', { ...prow, ciSystem: 'github-actions', jobType: 'merge_group', isPullRequest: false, pullHeadCommitSHA: HEAD, baseCommitRef: 'refs/heads/gh-readonly-queue/main/pr-7-abc' },
      { JobType: 'merge_group', PullNumber: '0', PullBaseSHA: BASE, PullPullSHA: HEAD, BaseRef: 'refs/heads/gh-readonly-queue/main/pr-7-abc' }, []],
    ['GitHub workflow_dispatch', { ...prow, ciSystem: 'github-actions', jobType: 'workflow_dispatch', isPullRequest: false, baseCommitRef: ref },
      { JobType: 'workflow_dispatch', BaseRef: ref }, ['PullNumber', 'PullPullSHA']],
    ['GitHub schedule', { ...prow, ciSystem: 'github-actions', jobType: 'schedule', isPullRequest: false, baseCommitRef: ref },
      { JobType: 'schedule', BaseRef: ref }, ['PullNumber', 'PullPullSHA']],
    ['ADO merge_group (JOB_TYPE passed through)', { ...prow, ciSystem: 'azure-devops', jobType: 'merge_group', isPullRequest: false, pullHeadCommitSHA: HEAD },
      { JobType: 'merge_group', PullNumber: '0', PullPullSHA: HEAD }, ['BaseRef']],
    ['Jenkins pull request: BaseRef from CHANGE_BRANCH', { ...prow, ciSystem: 'jenkins', jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 3, pullHeadCommitSHA: HEAD, baseCommitRef: 'feature-x' },
      { JobType: 'presubmit', PullNumber: '3', PullPullSHA: HEAD, BaseRef: 'feature-x' }, []],
    ['Jenkins branch build', { ...prow, ciSystem: 'jenkins', jobType: 'postsubmit', isPullRequest: false },
      { JobType: 'postsubmit' }, ['PullNumber', 'PullPullSHA', 'BaseRef']],
  ])('%s', (_name, git, expected, absent) => {
    const p = params({}, git);
    expect(p).toMatchObject({ RepoName: 'test-infra', RepoOwner: 'kyma-project', ...expected });
    for (const key of absent) expect(p).not.toHaveProperty(key);
  });
});

describe('adoRequest and its --dry-run form', () => {
  it('reads ado-config and masks the OIDC token, secret-looking build args and the credential', () => {
    const o = options({ oidcToken: 'eyJ.oidc.tok', buildArgs: ['GREETING=hi', 'NPM_TOKEN=npm_1'], adoParams: ['API_KEY=k1'], azureAccessToken: 'pat-123456' });
    const request = adoRequest(plan(o), { options: o, env: {}, config: parseConfig(CONFIG, 'config.yaml').config, readFile: () => '' });
    expect(request.target).toEqual({ organizationUrl: 'https://dev.azure.com/my-org', project: 'my project', pipelineId: 14902 });
    expect(request).toMatchObject({ refreshIntervalMs: 30_000, timeoutMs: 3 * 3600_000, retry: { attempts: 3, delayMs: 5000 } });
    const shown = describeAdoRequest(request);
    expect(shown).toMatchObject({
      pipelineVersion: 'latest',
      call: 'POST https://dev.azure.com/my-org/my%20project/_apis/pipelines/14902/runs',
      body: { previewRun: false, templateParameters: { Authorization: '***', BuildArgs: 'GREETING=hi,NPM_TOKEN=***', API_KEY: '***' } },
      credential: { source: '--azure-access-token', token: '***' },
    });
    expect(JSON.stringify(shown)).not.toMatch(/pat-123456|eyJ\.oidc\.tok|npm_1|k1/);
  });

  it('without ado-config: exit 2 saying what to add', () => {
    const o = options();
    const config = parseConfig('registry: example.com/x\n', 'c.yaml').config;
    expect(() => buildPlan({ options: o, config, gitState: postsubmit, backend: adoBackend, env: {}, now: NOW, cwd: '/', files: {}, readFile: () => '' })).toThrow(/ado-config is not set/);
  });
});
