import { describe, expect, it } from 'vitest';
import { adoParameters } from '../../src/backends/ado/parameters.js';
import { adoRequest, describeAdoRequest } from '../../src/backends/ado/request.js';
import type { GitState } from '../../src/ci/gitstate.js';
import { parseConfig } from '../../src/config/load.js';
import { InputError } from '../../src/errors.js';
import type { Options } from '../../src/options.js';
import { buildPlan } from '../../src/plan.js';
import type { Plan } from '../../src/plan-types.js';

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
  return {
    config: 'config.yaml', name: 'test-infra/app', context: 'images/app', dockerfile: 'Dockerfile', tags: [], buildArgs: [], platforms: [],
    exportTags: false, logDir: '/logs', silent: false, backend: 'ado', buildInAdo: false, adoPreviewRun: false, testKanikoBuildConfig: false,
    parseTagsOnly: false, signOnly: false, imagesToSign: [], adoParams: [], dryRun: false, debug: false,
    ...overrides,
  };
}

const postsubmit: GitState = { ciSystem: 'prow', repositoryOwner: 'kyma-project', repositoryName: 'test-infra', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE, baseCommitRef: 'refs/heads/main' };
const presubmit: GitState = { ...postsubmit, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 42, pullHeadCommitSHA: HEAD };

/** A real plan, as the CLI builds it: tags rendered, user tags first. */
function plan(o: Options, gitState: GitState = postsubmit, env: Record<string, string> = {}): Plan {
  return buildPlan({ options: o, config: parseConfig(CONFIG, 'config.yaml').config, gitState, env, now: NOW, cwd: '/work', files: {} });
}

const params = (o: Partial<Options> = {}, git?: GitState, env?: Record<string, string>) => adoParameters(plan(options(o), git, env), options(o));
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('adoParameters (SPEC 9: names and encodings the pipeline reads)', () => {
  it('a postsubmit: the required parameters, booleans as strings, Context and Dockerfile as given, nothing optional', () => {
    expect(params()).toEqual({
      RepoName: 'test-infra', RepoOwner: 'kyma-project', JobType: 'postsubmit', PullBaseSHA: BASE, Name: 'test-infra/app',
      Dockerfile: 'Dockerfile', Context: 'images/app', ExportTags: 'false', UseKanikoConfigFromPR: 'false',
    });
  });

  it('keeps the order of SPEC 9', () => {
    const keys = Object.keys(params({ exportTags: true, buildArgs: ['A=1'], tags: ['latest'], platforms: ['linux/amd64'], target: 'prod', oidcToken: 'tok', adoParams: ['Extra=1'] }, presubmit));
    expect(keys).toEqual(['RepoName', 'RepoOwner', 'JobType', 'PullNumber', 'PullBaseSHA', 'PullPullSHA', 'Name', 'Dockerfile', 'Context', 'ExportTags', 'UseKanikoConfigFromPR', 'BuildArgs', 'Tags', 'Platforms', 'Target', 'Authorization', 'Extra']);
  });

  it.each<[string, Partial<Options>, GitState, Record<string, string>]>([
    ['a pull request adds PullNumber and PullPullSHA', {}, presubmit, { JobType: 'presubmit', PullNumber: '42', PullBaseSHA: BASE, PullPullSHA: HEAD }],
    ['workflow_dispatch sends BaseRef', {}, { ...postsubmit, jobType: 'workflow_dispatch' }, { JobType: 'workflow_dispatch', BaseRef: 'refs/heads/main' }],
    ['schedule sends BaseRef', {}, { ...postsubmit, jobType: 'schedule' }, { JobType: 'schedule', BaseRef: 'refs/heads/main' }],
    ['merge_group keeps its job type', {}, { ...postsubmit, jobType: 'merge_group', pullHeadCommitSHA: HEAD }, { JobType: 'merge_group' }],
    ['--commit-sha is the base SHA', { commitSha: 'abcdef1234567' }, postsubmit, { PullBaseSHA: 'abcdef1234567' }],
    ['--export-tags and --test-kaniko-build-config are "true"', { exportTags: true, testKanikoBuildConfig: true }, postsubmit, { ExportTags: 'true', UseKanikoConfigFromPR: 'true' }],
    ['--build-arg only, comma-joined in order; no COMMIT_SHA', { buildArgs: ['B=2', 'A=x=y'] }, postsubmit, { BuildArgs: 'B=2,A=x=y' }],
    ['--platform comma-joined', { platforms: ['linux/amd64', 'linux/arm64'] }, postsubmit, { Platforms: 'linux/amd64,linux/arm64' }],
    ['--target', { target: 'runtime' }, postsubmit, { Target: 'runtime' }],
    ['--oidc-token as Authorization', { oidcToken: 'eyJ.tok.en' }, postsubmit, { Authorization: 'eyJ.tok.en' }],
    ['user tags only, rendered, base64 of name=value', { tags: ['latest', 'sha=v{{ .ShortSHA }}'] }, postsubmit, { Tags: b64('latest=latest,sha=v01234567') }],
    ['--tag-base64 tags after --tag', { tags: ['a=1'], tagBase64: b64('b=2') }, postsubmit, { Tags: b64('a=1,b=2') }],
    ['a user tag equal to another is sent once', { tags: ['x=1', 'y=1', 'z=2'] }, postsubmit, { Tags: b64('x=1,z=2') }],
    ['a user tag equal to the default tag is still sent', { tags: ['mine=v20240501-01234567'] }, postsubmit, { Tags: b64('mine=v20240501-01234567') }],
    ['Env templates read this job\'s environment', { tags: ['{{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}'] }, postsubmit, { Tags: b64('EnvGOLANG_VERSION-ShortSHA=1.22-01234567') }],
    ['--ado-param passes through; "=" in the value; the last repeated key wins', { adoParams: ['UseGoInternalSAPModules=true', 'Q=a=b', 'Q=c'] }, postsubmit, { UseGoInternalSAPModules: 'true', Q: 'c' }],
  ])('%s', (_name, o, git, expected) => {
    expect(params(o, git, { GOLANG_VERSION: '1.22' })).toMatchObject(expected);
  });

  it.each<[string, Partial<Options>, GitState, string[]]>([
    ['no PR keys outside pull requests', {}, postsubmit, ['PullNumber', 'PullPullSHA', 'BaseRef']],
    ['no BaseRef for postsubmit', {}, postsubmit, ['BaseRef']],
    ['no Tags without user tags (the default tag is the pipeline\'s)', {}, presubmit, ['Tags']],
    ['no BuildArgs, Platforms, Target, Authorization unless given', {}, postsubmit, ['BuildArgs', 'Platforms', 'Target', 'Authorization']],
  ])('%s', (_name, o, git, absent) => {
    const p = params(o, git);
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
    expect(() => params({ adoParams: ['Authorization=x', 'Tags=y'] })).toThrow(/--ado-param Authorization: .*\n.*--ado-param Tags:/);
  });

  it('refuses a tag the pipeline could not split back', () => {
    expect(() => params({ tags: ['a,b=1'] })).toThrow(/must not contain "=" or ","/);
  });
});

describe('adoRequest and its --dry-run form', () => {
  it('reads ado-config and masks the OIDC token, secret-looking build args and the credential', () => {
    const o = options({ oidcToken: 'eyJ.oidc.tok', buildArgs: ['GREETING=hi', 'NPM_TOKEN=npm_1'], adoParams: ['API_KEY=k1'], azureAccessToken: 'pat-123456' });
    const request = adoRequest(plan(o), o, {});
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
    const p = buildPlan({ options: o, config: parseConfig('registry: example.com/x\n', 'c.yaml').config, gitState: postsubmit, env: {}, now: NOW, cwd: '/', files: {} });
    expect(() => adoRequest(p, o, {})).toThrow(/ado-config is not set/);
  });
});
