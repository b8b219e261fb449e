import { describe, expect, it } from 'vitest';
import type { GitState } from '../src/ci/gitstate.js';
import { parseConfig } from '../src/config/load.js';
import { defaultOptions, type Options } from '../src/options.js';
import { buildPlan, destinationsFor, type PlanFiles } from '../src/plan.js';
import { backendFor, backendNamed } from '../src/backends/index.js';
import { InputError } from '../src/errors.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const BASE = '0123456789abcdef0123456789abcdef01234567';
const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';

function options(overrides: Partial<Options> = {}): Options {
  return { ...defaultOptions(), config: 'config.yaml', name: 'app', context: '/src', logDir: '/logs', ...overrides };
}

const push: GitState = { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'r', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
const pr: GitState = { ...push, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 7, pullHeadCommitSHA: HEAD };
const mergeGroup: GitState = { ...push, ciSystem: 'github-actions', jobType: 'merge_group', pullHeadCommitSHA: HEAD };

function plan(o: Partial<Options>, git: GitState, configText = 'registry: reg.io/prod\ndev-registry: reg.io/dev\n', files: PlanFiles = {}) {
  const { config } = parseConfig(configText, 'config.yaml');
  const opts = options(o);
  return buildPlan({ options: opts, config, gitState: git, backend: backendFor(opts, {}, config), env: {}, now: NOW, cwd: '/work', files, readFile: () => '' });
}

describe('destinations: dev registry for pull requests and merge groups, tags outer and repositories inner', () => {
  it.each([
    { git: push, expected: ['reg.io/prod/app:v20261125-01234567'] },
    { git: pr, expected: ['reg.io/dev/app:PR-7'] },
    { git: mergeGroup, expected: ['reg.io/dev/app:v20261125-01234567'] },
  ])('$git.jobType', ({ git, expected }) => {
    expect(plan({}, git).builds[0]?.destinations.map((d) => d.reference)).toEqual(expected);
  });

  it('falls back to registry for pull requests when dev-registry is not set', () => {
    expect(plan({}, pr, 'registry: reg.io/prod\n').builds[0]?.destinations.map((d) => d.reference)).toEqual(['reg.io/prod/app:PR-7']);
  });

  it('orders tags outer, repositories inner', () => {
    expect(destinationsFor('x', [{ name: 'a', value: '1' }, { name: 'b', value: '2' }], ['r1.io/p', 'r2.io/p']).map((d) => d.reference)).toEqual(['r1.io/p/x:1', 'r2.io/p/x:1', 'r1.io/p/x:2', 'r2.io/p/x:2']);
  });

  it('turns oci: and oci-archive: registries into absolute disk destinations', () => {
    expect(plan({ backend: 'buildah' }, push, 'registry: [oci:out/layout, oci-archive:/tmp/a.tar]\n').builds[0]?.destinations.map((d) => d.reference)).toEqual(['oci:/work/out/layout:v20261125-01234567', 'oci-archive:/tmp/a.tar:v20261125-01234567']);
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

describe('modes', () => {
  it('sign-only computes no tags and no builds', () => {
    const p = plan({ signOnly: true, imagesToSign: ['reg.io/prod/app:v1'], name: undefined }, push);
    expect([p.mode, p.tags, p.builds]).toEqual(['sign-only', [], []]);
  });

  it('parse-tags-only needs no registry and no name', () => {
    const p = plan({ parseTagsOnly: true, name: undefined }, pr, '{}');
    expect(p.tags).toEqual([{ name: 'default_tag', value: 'PR-7', origin: 'default' }]);
    expect(p.builds).toEqual([]);
  });

  it('build mode needs a registry', () => {
    expect(() => plan({}, push, '{}')).toThrow(/registry is not set/);
  });
});

describe('--env-file as the Go tool applies it (SPEC 7)', () => {
  const envFile = { path: '/src/envs', text: '# versions\nGOLANG_VERSION=1.22.5\n\nexport PULL_BASE_REF=from-file\nEMPTY=\n' };
  function planWith(o: Partial<Options>, env: Record<string, string>, backend: 'kaniko' | 'ado' = 'kaniko') {
    const { config } = parseConfig('registry: reg.io/prod\nado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n', 'c.yaml');
    const files = backend === 'ado' ? {} : { envFile };
    return buildPlan({ options: options({ envFile: 'envs', ...(backend === 'ado' ? { azureAccessToken: 'a-pat' } : {}), ...o }), config, gitState: push, backend: backendNamed(backend)!, env, now: NOW, cwd: '/work', files, readFile: () => '' });
  }

  it('entries reach {{ .Env }} and become build args', () => {
    const p = planWith({ tags: ['{{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}'] }, {});
    expect(p.tags[0]).toEqual({ name: 'EnvGOLANG_VERSION-ShortSHA', value: '1.22.5-01234567', origin: 'user' });
    expect(p.builds[0]?.buildArgs).toMatchObject({ GOLANG_VERSION: '1.22.5', PULL_BASE_REF: 'from-file', EMPTY: '' });
  });

  it('a name the environment already has is skipped: not overridden, not a build arg', () => {
    const p = planWith({ tags: ['ref={{ .Env "PULL_BASE_REF" }}'] }, { PULL_BASE_REF: 'main' });
    expect(p.tags[0]).toEqual({ name: 'ref', value: 'main', origin: 'user' });
    expect(p.builds[0]?.buildArgs).not.toHaveProperty('PULL_BASE_REF');
  });

  it('an environment variable set to "" still counts as present', () => {
    expect(planWith({}, { GOLANG_VERSION: '' }).builds[0]?.buildArgs).not.toHaveProperty('GOLANG_VERSION');
  });

  it('parse-tags-only reads it too', () => {
    expect(planWith({ parseTagsOnly: true, tags: ['go={{ .Env "GOLANG_VERSION" }}'] }, {}).tags[0]).toEqual({ name: 'go', value: '1.22.5', origin: 'user' });
  });

  it('with the ADO backend user tags are checked, not rendered: an Env value only the pipeline knows is no error', () => {
    const p = planWith({ tags: ['{{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}', 'latest'] }, {}, 'ado');
    expect(p.tags).toEqual([
      { name: 'EnvGOLANG_VERSION-ShortSHA', value: '{{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}', renderedBy: 'pipeline', origin: 'user' },
      { name: 'latest', value: 'latest', origin: 'user' },
      { name: 'default_tag', value: 'v20261125-01234567', origin: 'default' },
    ]);
    expect(p.builds[0]?.destinations.map((d) => d.reference)).toEqual(['reg.io/prod/app:latest', 'reg.io/prod/app:v20261125-01234567']);
  });

  it.each([
    ['an unknown field', '{{ .Version }}', /unknown field "Version"/],
    ['a syntax error', '{{ .ShortSHA', /syntax error/],
    ['a secret-looking variable', '{{ .Env "GITHUB_TOKEN" }}', /looks like a secret/],
  ])('with the ADO backend %s in a user tag is still exit 2', (_name, template, message) => {
    expect(() => planWith({ tags: [template] }, {}, 'ado')).toThrow(message);
  });
});

describe('one round of problems', () => {
  it('a plan problem and the builder\'s own refusal are reported together', () => {
    let error: unknown;
    try {
      plan({ platforms: ['linux/arm64'], buildArgs: ['1BAD=x'] }, push);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      expect.stringContaining('"1BAD" is not a valid build argument name'),
      expect.stringContaining('kaniko cannot build for other platforms'),
    ]);
  });
});

describe('names people choose are plain names', () => {
  it('--build-arg=__proto__=x and an env-file entry named constructor are build args like any other', () => {
    const p = plan({ buildArgs: ['__proto__=x', 'toString=y'], envFile: 'envs' }, push, undefined, { envFile: { path: '/src/envs', text: 'constructor=z\n' } });
    const args = p.builds[0]?.buildArgs ?? {};
    expect(Object.entries(args)).toEqual(expect.arrayContaining([['__proto__', 'x'], ['toString', 'y'], ['constructor', 'z']]));
    expect(JSON.parse(JSON.stringify(args))).toMatchObject({ toString: 'y', constructor: 'z' });
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
  });
});
