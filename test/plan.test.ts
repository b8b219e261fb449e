import { describe, expect, it } from 'vitest';
import type { GitState } from '../src/ci/gitstate.js';
import { parseConfig } from '../src/config/load.js';
import type { Options } from '../src/options.js';
import { backendOf, buildPlan, destinationsFor, type PlanFiles } from '../src/plan.js';
import { InputError } from '../src/errors.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const BASE = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';

function options(overrides: Partial<Options> = {}): Options {
  return {
    config: 'config.yaml', name: 'app', context: '/src', dockerfile: 'Dockerfile', tags: [], buildArgs: [], platforms: [],
    exportTags: false, logDir: '/logs', silent: false, buildInAdo: false, adoPreviewRun: false, testKanikoBuildConfig: false,
    parseTagsOnly: false, signOnly: false, imagesToSign: [], adoParams: [], dryRun: false, debug: false, ...overrides,
  };
}

const push: GitState = { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'r', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
const pr: GitState = { ...push, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 7, pullHeadCommitSHA: HEAD };
const mergeGroup: GitState = { ...push, ciSystem: 'github-actions', jobType: 'merge_group', pullHeadCommitSHA: HEAD };

function plan(o: Partial<Options>, git: GitState, configText = 'registry: reg.io/prod\ndev-registry: reg.io/dev\n', files: PlanFiles = {}) {
  const { config } = parseConfig(configText, 'config.yaml');
  return buildPlan({ options: options(o), config, gitState: git, env: {}, now: NOW, cwd: '/work', files });
}

describe('destinations: dev registry for pull requests and merge groups, tags outer and repositories inner', () => {
  it.each([
    { git: push, expected: ['reg.io/prod/app:v20261125-01234567'] },
    { git: pr, expected: ['reg.io/dev/app:PR-7'] },
    { git: mergeGroup, expected: ['reg.io/dev/app:v20261125-01234567'] },
  ])('$git.jobType', ({ git, expected }) => {
    expect(plan({}, git).builds[0]?.destinations).toEqual(expected);
  });

  it('falls back to registry for pull requests when dev-registry is not set', () => {
    expect(plan({}, pr, 'registry: reg.io/prod\n').builds[0]?.destinations).toEqual(['reg.io/prod/app:PR-7']);
  });

  it('orders tags outer, repositories inner', () => {
    expect(destinationsFor('x', [{ name: 'a', value: '1' }, { name: 'b', value: '2' }], ['r1.io/p', 'r2.io/p'])).toEqual(['r1.io/p/x:1', 'r2.io/p/x:1', 'r1.io/p/x:2', 'r2.io/p/x:2']);
  });

  it('turns oci: and oci-archive: registries into absolute disk destinations', () => {
    expect(plan({}, push, 'registry: [oci:out/layout, oci-archive:/tmp/a.tar]\n').builds[0]?.destinations).toEqual(['oci:/work/out/layout:v20261125-01234567', 'oci-archive:/tmp/a.tar:v20261125-01234567']);
  });

  it('refuses an invalid registry, naming it', () => {
    expect(() => plan({}, push, 'registry: "Reg.io/UPPER"\n')).toThrow(/registry "Reg.io\/UPPER"/);
  });
});

describe('build arguments, lowest precedence first: env file, TAG_*, COMMIT_SHA, variant ARGs, --build-arg', () => {
  const files: PlanFiles = {
    envFile: { path: '/src/envs', text: 'A=env\nB=env\nC=env\nCOMMIT_SHA=env\n' },
    variants: { path: '/src/variants.yaml', text: 'v1: {B: variant, C: variant}\n' },
  };
  it.each([
    { name: 'push', git: push, commit: BASE },
    { name: 'pull request: the PR head is built', git: pr, commit: HEAD },
  ])('$name', ({ git, commit }) => {
    const p = plan({ buildArgs: ['C=flag', 'D=x=y'], exportTags: true, envFile: 'envs' }, git, undefined, files);
    const tag = git.isPullRequest ? 'PR-7-v1' : 'v20261125-01234567-v1';
    expect(p.builds[0]?.buildArgs).toEqual({ A: 'env', B: 'variant', C: 'flag', D: 'x=y', COMMIT_SHA: commit, TAG_default_tag: tag });
  });

  it('takes --commit-sha over the CI context for tags and COMMIT_SHA', () => {
    const p = plan({ commitSha: 'abcdef1234567890' }, pr);
    expect(p.builds[0]?.buildArgs.COMMIT_SHA).toBe('abcdef1234567890');
    expect(p.gitState.baseCommitSHA).toBe('abcdef1234567890');
  });

  it.each([
    [['NOVALUE'], /"NOVALUE" has no value/],
    [['1BAD=x'], /"1BAD" is not a valid build argument name/],
  ])('refuses --build-arg %s', (buildArgs, message) => {
    expect(() => plan({ buildArgs }, push)).toThrow(message);
  });

  it('refuses an env file line without "=", naming the line', () => {
    expect(() => plan({ envFile: 'envs' }, push, undefined, { envFile: { path: '/src/envs', text: 'A=1\n\njunk\n' } })).toThrow(/\/src\/envs:3/);
  });
});

describe('variants', () => {
  const files: PlanFiles = { variants: { path: '/src/variants.yaml', text: "main: {K: '1.31'}\n'1.30': {K: '1.30'}\n" } };
  it('builds every variant with suffixed tags and its own log file', () => {
    const p = plan({ tags: ['latest'] }, push, undefined, files);
    expect(p.builds.map((b) => [b.variant, b.tags.map((t) => t.value), b.buildArgs.K, b.logFile])).toEqual([
      ['main', ['latest-main', 'v20261125-01234567-main'], '1.31', '/logs/build_main.log'],
      ['1.30', ['latest-1.30', 'v20261125-01234567-1.30'], '1.30', '/logs/build_1.30.log'],
    ]);
  });

  it('builds only --variant', () => {
    expect(plan({ variant: '1.30' }, push, undefined, files).builds.map((b) => b.variant)).toEqual(['1.30']);
  });

  it.each([
    [{ variant: 'nope' }, files, /--variant "nope" is not defined \(known: main, 1.30\)/],
    [{ variant: 'x' }, {}, /no variants.yaml/],
    [{}, { variants: { path: '/v.yaml', text: '- a\n' } }, /expected a mapping/],
    [{}, { variants: { path: '/v.yaml', text: 'a: {K: [1]}\n' } }, /K must be a string/],
  ])('refuses %j', (o, f, message) => {
    expect(() => plan(o, push, undefined, f)).toThrow(message);
  });

  it('refuses a variant suffix that breaks the OCI tag grammar', () => {
    const long = { variants: { path: '/v.yaml', text: `${'v'.repeat(120)}: {K: x}\n` } };
    expect(() => plan({}, push, undefined, long)).toThrow(InputError);
  });
});

describe('backend choice', () => {
  it.each([
    [{ backend: 'buildah' as const }, {}, 'buildah'],
    [{ buildInAdo: true }, {}, 'ado'],
    [{}, { USE_BUILDKIT: 'true' }, 'buildkit'],
    [{}, { USE_BUILDKIT: 'TRUE' }, 'buildkit'],
    [{}, { USE_BUILDKIT: 'false' }, 'kaniko'],
    [{}, {}, 'kaniko'],
  ])('%j with %j → %s', (o, env, expected) => {
    expect(backendOf(options(o), env)).toBe(expected);
  });
});

describe('modes', () => {
  it('sign-only computes no tags and no builds', () => {
    const p = plan({ signOnly: true, imagesToSign: ['reg.io/prod/app:v1'], name: undefined }, push);
    expect([p.mode, p.tags, p.builds]).toEqual(['sign-only', [], []]);
  });

  it('parse-tags-only needs no registry and no name', () => {
    const p = plan({ parseTagsOnly: true, name: undefined }, pr, '{}');
    expect(p.tags).toEqual([{ name: 'default_tag', value: 'PR-7' }]);
    expect(p.builds).toEqual([]);
  });

  it('build mode needs a registry', () => {
    expect(() => plan({}, push, '{}')).toThrow(/registry is not set/);
  });
});
