import { describe, expect, it } from 'vitest';
import type { GitState } from '../../src/ci/gitstate.js';
import { publicUrl } from '../../src/ci/url.js';
import { ciRun } from '../../src/sign/provenance-ci.js';
import { BUILD_TYPE, canonicalImage, provenanceStatement, type ProvenanceInput } from '../../src/sign/provenance.js';
import { pushedAttestations } from '../../src/sign/provenance-run.js';
import { makePlan } from '../support/plan-factory.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const BASE = `sha256:${'cd'.repeat(32)}`;
const git = (fields: Partial<GitState>): GitState => ({ ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: SHA, repositoryOwner: 'org', repositoryName: 'repo', ...fields });

describe('the CI run a statement names: builder id (job URL where there is one), invocation id, repository', () => {
  it.each<[string, Partial<GitState>, Record<string, string>, ReturnType<typeof ciRun>]>([
    [
      'GitHub Actions: the run page with its attempt, GITHUB_RUN_ID, the server of GITHUB_SERVER_URL',
      { ciSystem: 'github-actions', repositoryUrl: 'https://github.example/org/repo' },
      { GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'org/repo', GITHUB_RUN_ID: '987', GITHUB_RUN_ATTEMPT: '2', GITHUB_RUN_NUMBER: '12' },
      { builderId: 'https://github.example/org/repo/actions/runs/987/attempts/2', invocationId: '987', sourceUrl: 'https://github.example/org/repo' },
    ],
    [
      'GitHub Actions without GITHUB_RUN_ID: our URI for the system, github.com',
      { ciSystem: 'github-actions', repositoryUrl: 'https://github.com/org/repo' },
      {},
      { builderId: 'https://github.com/kyma-project/test-infra/image-builder/ci/github-actions', sourceUrl: 'https://github.com/org/repo' },
    ],
    [
      'Prow: BUILD_ID (no job page in the environment)',
      { ciSystem: 'prow', repositoryUrl: 'https://github.com/org/repo' },
      { BUILD_ID: '1790000000000', PROW_JOB_ID: 'a-b-c' },
      { builderId: 'https://github.com/kyma-project/test-infra/image-builder/ci/prow', invocationId: '1790000000000', sourceUrl: 'https://github.com/org/repo' },
    ],
    [
      'Azure DevOps: the build results page, BUILD_BUILDID',
      { ciSystem: 'azure-devops', repositoryUrl: 'https://github.com/org/repo' },
      { SYSTEM_COLLECTIONURI: 'https://dev.azure.com/hyperspace/', SYSTEM_TEAMPROJECT: 'kyma images', BUILD_BUILDID: '4455' },
      { builderId: 'https://dev.azure.com/hyperspace/kyma%20images/_build/results?buildId=4455', invocationId: '4455', sourceUrl: 'https://github.com/org/repo' },
    ],
    [
      'Jenkins: BUILD_URL, BUILD_ID, the GIT_URL without its credentials',
      { ciSystem: 'jenkins', repositoryUrl: 'https://git.example/org/repo' },
      { BUILD_URL: 'https://jenkins.example/job/app/7/', BUILD_ID: '7', GIT_URL: 'https://ci-bot:ghp_jenkinsToken123@git.example/org/repo.git' },
      { builderId: 'https://jenkins.example/job/app/7/', invocationId: '7', sourceUrl: 'https://git.example/org/repo' },
    ],
    [
      'Jenkins with an scp-like GIT_URL: the owner/name on github.com',
      { ciSystem: 'jenkins', repositoryUrl: 'https://github.com/org/repo' },
      { GIT_URL: 'git@github.com:org/repo.git' },
      { builderId: 'https://github.com/kyma-project/test-infra/image-builder/ci/jenkins', sourceUrl: 'https://github.com/org/repo' },
    ],
    [
      'local without --repo: no repository, no invocation',
      { ciSystem: 'local', repositoryOwner: undefined, repositoryName: undefined },
      { BUILD_ID: 'ignored-outside-ci' },
      { builderId: 'https://github.com/kyma-project/test-infra/image-builder/ci/local' },
    ],
  ])('%s', (_name, fields, env, expected) => {
    expect(ciRun(git(fields), env)).toEqual(expected);
  });

  it.each([
    ['https://user:pw@host/x#frag', 'https://host/x'],
    ['git@host:org/repo.git', undefined],
    ['file:///etc/passwd', undefined],
    ['not a url', undefined],
  ])('publicUrl(%j) = %j', (text, expected) => {
    expect(publicUrl(text)).toBe(expected);
  });
});

describe('canonicalImage: Docker names as their registries know them', () => {
  it.each([
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['bitnami/kubectl', 'docker.io/bitnami/kubectl'],
    ['localhost/app:1', 'localhost/app:1'],
    ['127.0.0.1:5000/fixtures/shell:1', '127.0.0.1:5000/fixtures/shell:1'],
    ['europe-docker.pkg.dev/kyma-project/prod/base@sha256:00', 'europe-docker.pkg.dev/kyma-project/prod/base@sha256:00'],
  ])('%s → %s', (name, expected) => expect(canonicalImage(name)).toBe(expected));
});

function input(overrides: Partial<ProvenanceInput> = {}): ProvenanceInput {
  const plan = makePlan({ context: '/src/app', dockerfile: '/src/app/build/Dockerfile', platforms: ['linux/amd64'], target: 'final', backend: 'buildah' }, { buildArgs: { NPM_TOKEN: 'npm_secretValue123', GO_VERSION: '1.22' } });
  return {
    subject: { name: 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app', digest: DIGEST },
    plan,
    unit: plan.builds[0]!,
    baseImages: [{ name: 'golang:1.22', digest: BASE }, { name: 'registry.example/base:$UNSET' }],
    ci: ciRun(plan.gitState, {}),
    version: '1.2.3',
    startedOn: '2026-01-02T03:04:05.000Z',
    finishedOn: '2026-01-02T03:09:05.000Z',
    ...overrides,
  };
}

describe('provenanceStatement: SLSA v1 in an in-toto Statement v1, pure', () => {
  it('subject, build definition and run details from the plan and the run', () => {
    expect(provenanceStatement(input())).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app', digest: { sha256: 'ab'.repeat(32) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: BUILD_TYPE,
          externalParameters: {
            name: 'test-infra/app',
            dockerfile: 'build/Dockerfile',
            context: '/src/app',
            tags: ['v20240101-01234567'],
            platforms: ['linux/amd64'],
            target: 'final',
            buildArgs: ['COMMIT_SHA', 'GO_VERSION', 'NPM_TOKEN'],
          },
          internalParameters: { ciSystem: 'local', jobType: 'postsubmit', backend: 'buildah' },
          resolvedDependencies: [
            { name: 'source', digest: { gitCommit: SHA } },
            { uri: 'docker://docker.io/library/golang:1.22', digest: { sha256: 'cd'.repeat(32) } },
            { uri: 'docker://registry.example/base:$UNSET' },
          ],
        },
        runDetails: {
          builder: { id: 'https://github.com/kyma-project/test-infra/image-builder/ci/local', version: { 'image-builder': '1.2.3' } },
          metadata: { startedOn: '2026-01-02T03:04:05.000Z', finishedOn: '2026-01-02T03:09:05.000Z' },
        },
      },
    });
  });

  it.each<[string, Partial<GitState>, Record<string, unknown>]>([
    ['a pull request: the head commit built, on the repository', { ciSystem: 'prow', isPullRequest: true, jobType: 'presubmit', pullHeadCommitSHA: HEAD }, { uri: 'git+https://github.com/org/repo', digest: { gitCommit: HEAD } }],
    ['a merge group: the base commit (what the plan builds)', { ciSystem: 'prow', jobType: 'merge_group', pullHeadCommitSHA: HEAD }, { uri: 'git+https://github.com/org/repo', digest: { gitCommit: SHA } }],
    ['no commit known: the repository alone', { ciSystem: 'prow', baseCommitSHA: undefined }, { uri: 'git+https://github.com/org/repo' }],
  ])('source dependency, %s', (_name, fields, expected) => {
    // As Prow's git state has it: the repository URL comes from the CI context, never guessed in CI.
    const plan = makePlan({ gitState: git({ repositoryUrl: 'https://github.com/org/repo', ...fields }) });
    const statement = provenanceStatement(input({ plan, unit: plan.builds[0]!, ci: ciRun(plan.gitState, {}) }));
    expect(statement.predicate.buildDefinition.resolvedDependencies[0]).toEqual(expected);
  });

  it('variants: each statement names its variant and its own tags', () => {
    const plan = makePlan({}, { variant: 'go1.22' });
    const statement = provenanceStatement(input({ plan, unit: plan.builds[0]! }));
    expect(statement.predicate.buildDefinition.externalParameters).toMatchObject({ variant: 'go1.22', tags: ['v20240101-01234567-go1.22'] });
  });

  it('never holds a build-arg value, token, key or password that the run knows', () => {
    const secrets = ['npm_secretValue123', 'ghp_jenkinsToken123', 'registry-pw-x9', '-----BEGIN', 'oidc.jwt.token'];
    const plan = makePlan({ gitState: git({ ciSystem: 'jenkins' }) }, { buildArgs: { NPM_TOKEN: secrets[0]!, REGISTRY_PASSWORD: secrets[2]!, KEY: `${secrets[3]} EC PRIVATE KEY-----` } });
    const env = { GIT_URL: `https://bot:${secrets[1]}@git.example/org/repo.git`, BUILD_URL: `https://bot:${secrets[2]}@jenkins.example/job/1/`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: secrets[4]!, COSIGN_PASSWORD: secrets[2]! };
    const text = JSON.stringify(provenanceStatement(input({ plan, unit: plan.builds[0]!, ci: ciRun(plan.gitState, env) })));
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
    expect(text).toContain('"buildArgs":["COMMIT_SHA","KEY","NPM_TOKEN","REGISTRY_PASSWORD"]');
  });

  it('build secrets: their ids, sorted, never where their values are; none, no field', () => {
    const plan = makePlan({ secrets: [{ id: 'npm', src: '/home/ci/.npmrc' }, { id: 'gh', env: 'GH_TOKEN' }] });
    const statement = provenanceStatement(input({ plan, unit: plan.builds[0]! }));
    expect(statement.predicate.buildDefinition.externalParameters.secrets).toEqual(['gh', 'npm']);
    expect(JSON.stringify(statement)).not.toMatch(/npmrc|GH_TOKEN/);
    expect(provenanceStatement(input()).predicate.buildDefinition.externalParameters).not.toHaveProperty('secrets');
  });
});

describe('pushedAttestations: one statement per pushed repository and digest', () => {
  it('tags of one digest share a statement; another repository gets its own; disk and digest-less pushes get none', () => {
    const plan = makePlan({ repositories: ['127.0.0.1:5000/a', '127.0.0.1:5000/b'], tags: [{ name: 'v', value: '1' }, { name: 'w', value: '2' }] });
    const pushed = [
      ...plan.builds[0]!.destinations.map((d) => ({ reference: d.reference, digest: DIGEST })),
      { reference: 'oci-archive:/out/app.tar:1', digest: DIGEST },
      { reference: '127.0.0.1:5000/c/test-infra/app:1' },
    ];
    const facts = { plan, env: {}, version: '1', startedOn: 's', finishedOn: 'f' };
    const attestations = pushedAttestations(facts, [{ ok: true, pushed, logFile: '' }], [[{ name: 'golang:1.22', digest: BASE }]]);
    expect(attestations.map((a) => a.image)).toEqual([`127.0.0.1:5000/a/test-infra/app@${DIGEST}`, `127.0.0.1:5000/b/test-infra/app@${DIGEST}`]);
    expect(attestations[1]?.statement).toMatchObject({ subject: [{ name: '127.0.0.1:5000/b/test-infra/app', digest: { sha256: 'ab'.repeat(32) } }] });
  });
});
