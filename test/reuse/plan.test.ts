import { afterAll, describe, expect, it } from 'vitest';
import { backendNamed } from '../../src/backends/index.js';
import type { GitState } from '../../src/ci/gitstate.js';
import { parseConfig } from '../../src/config/load.js';
import { scanInputs } from '../../src/inputs/index.js';
import { defaultOptions, type Options } from '../../src/options.js';
import { buildPlan, type PlanFiles } from '../../src/plan.js';
import { INPUTS_LABEL, inputsTag, reuseChoice, reusePlan } from '../../src/reuse/plan.js';
import { hostPlatform } from '../../src/inputs/platform.js';
import { makeContext } from '../inputs/fixture.js';
import { removeTempDirs } from '../support/tools.js';

afterAll(removeTempDirs);

const BASE = '0123456789abcdef0123456789abcdef01234567';
const push: GitState = { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'r', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: BASE };
const pr: GitState = { ...push, jobType: 'presubmit', isPullRequest: true, pullRequestNumber: 7, pullHeadCommitSHA: 'f'.repeat(40) };
const mergeGroup: GitState = { ...push, ciSystem: 'github-actions', jobType: 'merge_group', pullHeadCommitSHA: 'e'.repeat(40) };
const config = (text: string) => parseConfig(text, 'config.yaml').config;

describe('reuseChoice: the flag wins over config.yaml; off by default; a backend without the capability reuses nothing', () => {
  it.each<[string, boolean | undefined, string, string, { enabled: boolean; decidedBy: string; note?: string }]>([
    ['default: off', undefined, '', 'buildah', { enabled: false, decidedBy: 'default' }],
    ['config on', undefined, 'reuse: {enabled: true}', 'buildah', { enabled: true, decidedBy: 'config.yaml reuse.enabled' }],
    ['config off', undefined, 'reuse: {enabled: false}', 'kaniko', { enabled: false, decidedBy: 'default' }],
    ['--reuse over config off', true, 'reuse: {enabled: false}', 'kaniko', { enabled: true, decidedBy: '--reuse' }],
    ['--no-reuse over config on', false, 'reuse: {enabled: true}', 'buildkit', { enabled: false, decidedBy: '--reuse' }],
    [
      'config on with ADO: noted, off',
      undefined,
      'reuse: {enabled: true}',
      'ado',
      { enabled: false, decidedBy: 'config.yaml reuse.enabled', note: 'config.yaml: reuse.enabled is ignored: the ado backend does not reuse images; it builds every time' },
    ],
    ['--no-reuse with ADO: off, no note', false, 'reuse: {enabled: true}', 'ado', { enabled: false, decidedBy: '--reuse' }],
  ])('%s', (_name, reuse, text, backend, expected) => {
    expect(reuseChoice({ reuse }, config(text), backendNamed(backend)!)).toEqual(expected);
  });
});

describe('reusePlan: a run that pushes to registry also looks in dev-registry', () => {
  const on = { enabled: true, decidedBy: '--reuse' as const };
  it.each<[string, GitState, string, string[]]>([
    ['postsubmit: the dev registries', push, 'registry: r.io/prod\ndev-registry: [d.io/dev/, d2.io/dev]\n', ['d.io/dev', 'd2.io/dev']],
    ['pull request: it pushes to dev, nothing else', pr, 'registry: r.io/prod\ndev-registry: d.io/dev\n', []],
    ['merge group: it pushes to dev, nothing else', mergeGroup, 'registry: r.io/prod\ndev-registry: d.io/dev\n', []],
    ['no dev registry', push, 'registry: r.io/prod\n', []],
    ['a dev registry on disk is not looked in', push, 'registry: r.io/prod\ndev-registry: oci:/tmp/x\n', []],
  ])('%s', (_name, git, text, alsoFrom) => {
    expect(reusePlan(on, config(text), git).alsoFrom).toEqual(alsoFrom);
  });

  it('off: looks nowhere', () => {
    expect(reusePlan({ enabled: false, decidedBy: 'default' }, config('registry: r.io/p\ndev-registry: d.io/dev\n'), push)).toEqual({ enabled: false, decidedBy: 'default', alsoFrom: [], trusted: [] });
  });
});

describe('the plan with reuse on: each unit has its inputs and the inputs label; variants.yaml is an input when the context sends it', () => {
  const dockerfile = 'FROM r.io/base:1\nARG FLAVOUR\nCOPY . /app\n';
  async function plan(o: Partial<Options>, configText = 'registry: r.io/prod\nreuse: {enabled: true}\n') {
    const context = makeContext({ Dockerfile: dockerfile, 'a.txt': 'a\n', 'variants.yaml': 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: green}\n' });
    const files: PlanFiles = {
      dockerfile: `${context}/Dockerfile`,
      variants: { path: `${context}/variants.yaml`, text: 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: green}\n' },
      inputs: await scanInputs({ contextDir: context, dockerfilePath: 'Dockerfile' }),
    };
    const options = { ...defaultOptions(), config: 'c', name: 'app', context, backend: 'buildah', ...o };
    return buildPlan({ options, config: config(configText), gitState: push, backend: backendNamed('buildah')!, env: {}, now: new Date('2026-11-25T10:00:00Z'), cwd: '/', files, readFile: () => '' });
  }

  it('inputs per unit: declared args only, base images unresolved, the Dockerfile, a.txt and variants.yaml counted (COPY . ships it)', async () => {
    const p = await plan({});
    expect(p.reuse).toMatchObject({ enabled: true, decidedBy: 'config.yaml reuse.enabled', alsoFrom: [], trusted: [] });
    expect(p.reuse.settings).toEqual({ platforms: [hostPlatform()], labels: {}, annotations: {} });
    expect(p.builds.map((b) => b.inputs?.buildArgs)).toEqual([{ FLAVOUR: 'blue' }, { FLAVOUR: 'green' }]);
    const variantsBytes = 'blue: {FLAVOUR: blue}\ngreen: {FLAVOUR: green}\n'.length;
    for (const unit of p.builds) {
      expect(unit.inputs).toMatchObject({ files: 3, bytes: dockerfile.length + 2 + variantsBytes, baseImages: [{ name: 'r.io/base:1' }], resolved: false, reusable: true, platforms: [hostPlatform()] });
      expect(unit.labels[INPUTS_LABEL]).toBe(unit.inputs?.digest);
      expect(unit.buildArgs.COMMIT_SHA).toBe(BASE); // passed to the build, but no input: the Dockerfile does not declare it
    }
    expect(p.inputsScan?.context.entries.map((e) => e.path)).toEqual(['Dockerfile', 'a.txt', 'variants.yaml']);
    expect(p.builds[0]?.inputs?.digest).not.toBe(p.builds[1]?.inputs?.digest);
  });

  it('an undeclared build arg does not change the digest, a declared one does', async () => {
    const [before, undeclared, declared] = await Promise.all([plan({ variant: 'blue' }), plan({ variant: 'blue', buildArgs: ['OTHER=1'] }), plan({ variant: 'blue', buildArgs: ['FLAVOUR=red'] })]);
    expect(undeclared.builds[0]?.inputs?.digest).toBe(before.builds[0]?.inputs?.digest);
    expect(declared.builds[0]?.inputs?.digest).not.toBe(before.builds[0]?.inputs?.digest);
  });

  it('--label and --annotation values enter the digest; the origin labels do not', async () => {
    const [before, label, annotation, later] = await Promise.all([
      plan({ variant: 'blue' }),
      plan({ variant: 'blue', labels: ['team=a'] }),
      plan({ variant: 'blue', annotations: ['team=a'] }),
      plan({ variant: 'blue', commitSha: 'a'.repeat(40) }),
    ]);
    const digest = (p: typeof before) => p.builds[0]?.inputs?.digest;
    expect(new Set([digest(before), digest(label), digest(annotation)]).size).toBe(3);
    expect(digest(later)).toBe(digest(before)); // another commit: other origin labels, same inputs
    expect(later.builds[0]?.labels['org.opencontainers.image.revision']).not.toBe(before.builds[0]?.labels['org.opencontainers.image.revision']);
  });

  it('the platforms built enter the digest: --platform, else the host\'s', async () => {
    const [host, explicitHost, other] = await Promise.all([plan({ variant: 'blue' }), plan({ variant: 'blue', platforms: [hostPlatform()] }), plan({ variant: 'blue', platforms: ['linux/s390x'] })]);
    expect(explicitHost.builds[0]?.inputs?.digest).toBe(host.builds[0]?.inputs?.digest);
    expect(other.builds[0]?.inputs?.digest).not.toBe(host.builds[0]?.inputs?.digest);
  });

  it('reuse off: no inputs, no label, no scan kept', async () => {
    const p = await plan({ reuse: false });
    expect(p.reuse.enabled).toBe(false);
    expect(p.inputsScan).toBeUndefined();
    expect(p.builds.map((b) => [b.inputs, b.labels[INPUTS_LABEL]])).toEqual([[undefined, undefined], [undefined, undefined]]);
  });
});

describe('inputsTag', () => {
  it('is inputs-<hex>: a valid OCI tag', () => {
    const tag = inputsTag(`sha256:${'ab'.repeat(32)}`);
    expect(tag).toBe(`inputs-${'ab'.repeat(32)}`);
    expect(tag).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/);
  });
});
