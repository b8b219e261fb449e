import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { defaultOptions, type Options } from '../../src/options.js';
import { allBackends, BACKEND_CHOICE, BACKEND_NAMES, backendFor, backendNamed, backendOptionProblems, backendPlanProblems } from '../../src/backends/index.js';
import { helpText } from '../../src/cli.js';
import type { Backend } from '../../src/backends/backend.js';
import { makePlan } from '../support/plan-factory.js';

function options(overrides: Partial<Options> = {}): Options {
  return { ...defaultOptions(), config: 'config.yaml', name: 'app', ...overrides };
}

describe('the registry of backends', () => {
  it('names every backend once; --help and --backend derive from it', async () => {
    expect(BACKEND_NAMES).toEqual(allBackends().map((b) => b.name));
    expect(new Set(BACKEND_NAMES).size).toBe(BACKEND_NAMES.length);
    for (const name of BACKEND_NAMES) expect(backendNamed(name)?.name).toBe(name);
    expect(backendNamed('docker')).toBeUndefined();
    const help = (await helpText('test')).replace(/\s+/g, ' ');
    for (const name of BACKEND_NAMES) expect(help).toContain(name);
    expect(help).toContain(`--backend ${BACKEND_CHOICE}`);
  });

  it('every backend declares all capabilities', () => {
    for (const backend of allBackends()) {
      expect(Object.keys(backend.capabilities).sort(), backend.name).toEqual(['diskDestinations', 'localInputs', 'needsRegistry', 'platforms', 'reuse', 'secrets', 'signsItself', 'variants']);
    }
  });
});

describe('backend choice', () => {
  it.each([
    [{ backend: 'buildah' }, {}, 'buildah'],
    [{ buildInAdo: true }, {}, 'ado'],
    [{}, { USE_BUILDKIT: 'true' }, 'buildkit'],
    [{}, { USE_BUILDKIT: 'TRUE' }, 'buildkit'],
    [{}, { USE_BUILDKIT: 'false' }, 'kaniko'],
    [{}, {}, 'kaniko'],
  ])('%j with %j → %s', (o, env, expected) => {
    expect(backendFor(options(o), env, parseConfig('registry: reg.io/prod\n', 'c.yaml').config).name).toBe(expected);
  });
});

describe('backend choice with config.yaml (SPEC 8)', () => {
  const ado = 'ado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p, ado-pipeline-id: 1}\n';
  it.each<[string, Partial<Options>, Record<string, string>, string, string]>([
    ['ado-config and no registry: the 2026 tool always builds in ADO', {}, {}, ado, 'ado'],
    ['ado-config and a registry: kaniko as before', {}, {}, `registry: r.io/x\n${ado}`, 'kaniko'],
    ['USE_BUILDKIT wins over the config', {}, { USE_BUILDKIT: 'true' }, ado, 'buildkit'],
    ['--backend wins over everything', { backend: 'buildah' }, { USE_BUILDKIT: 'true' }, ado, 'buildah'],
    ['no ado-config, no registry: kaniko (and a registry problem later)', {}, {}, 'cache: {enabled: false}\n', 'kaniko'],
  ])('%s', (_name, o, env, configText, expected) => {
    expect(backendFor(options(o), env, parseConfig(configText, 'c.yaml').config).name).toBe(expected);
  });
});

describe('what a backend lacks is a problem naming one that has it', () => {
  const cases = allBackends().flatMap((backend) => [
    { backend, what: 'platforms', plan: makePlan({ platforms: ['linux/arm64'] }), refused: !backend.capabilities.platforms, message: /cannot build for other platforms \(--platform linux\/arm64\): use --backend \w+/ },
    { backend, what: 'a disk destination', plan: makePlan({}, { destinations: ['oci:/out/layout:v1'] }), refused: !backend.capabilities.diskDestinations, message: /cannot write to oci:\/out\/layout:v1: use --backend \w+ for oci: and oci-archive: destinations/ },
    {
      backend,
      what: 'build secrets',
      plan: makePlan({ secrets: [{ id: 'npm', src: '/run/secrets/npm' }, { id: 'gh', env: 'GH_TOKEN' }] }),
      refused: !backend.capabilities.secrets,
      message: /cannot mount build secrets \(--secret npm, gh\): use --backend \w+ \(or --backend \w+\) for RUN --mount=type=secret, or drop --secret/,
    },
  ]);
  it.each(cases)('$backend.name and $what', ({ backend, plan, refused, message }) => {
    const problems = backendPlanProblems(backend, { ...plan, backend: backend.name, backendInputs: undefined });
    if (refused) expect(problems.join('\n')).toMatch(message);
    else expect(problems.join('\n')).not.toMatch(message);
  });

  it('the backend suggested has the capability', () => {
    const plan = makePlan({ platforms: ['linux/arm64'], secrets: [{ id: 'npm', env: 'NPM_TOKEN' }] }, { destinations: ['oci:/out/layout:v1'] });
    for (const backend of allBackends().filter((b) => !b.capabilities.platforms || !b.capabilities.diskDestinations || !b.capabilities.secrets)) {
      for (const problem of backendPlanProblems(backend, plan)) {
        const suggested = backendNamed(/--backend (\w+)/.exec(problem)?.[1] ?? '') as Backend;
        expect(suggested, problem).toBeDefined();
        const capability = problem.includes('platforms') ? 'platforms' : problem.includes('--secret') ? 'secrets' : 'diskDestinations';
        expect(suggested.capabilities[capability], problem).toBe(true);
      }
    }
  });

  it('kaniko and ADO refuse --secret, naming buildah and buildkit', () => {
    const plan = makePlan({ secrets: [{ id: 'npm', env: 'NPM_TOKEN' }] });
    for (const name of ['kaniko', 'ado']) {
      expect(backendPlanProblems(backendNamed(name)!, { ...plan, backend: name })).toContain(
        `${name} cannot mount build secrets (--secret npm): use --backend buildah (or --backend buildkit) for RUN --mount=type=secret, or drop --secret`,
      );
    }
  });
});

describe('flag rules that depend on the backend', () => {
  it.each(allBackends().map((backend) => ({ backend })))('--variant with $backend.name follows its variants capability', ({ backend }) => {
    const problems = backendOptionProblems(options({ variant: 'x' }), backend, true);
    expect(problems.some((p) => p.startsWith('--variant is not supported'))).toBe(!backend.capabilities.variants);
  });

  it('--variant is no problem when nothing is built', () => {
    for (const backend of allBackends()) expect(backendOptionProblems(options({ variant: 'x' }), backend, false)).toEqual([]);
  });

  it('a flag that needs its backend is refused with any other one, and names it', () => {
    const ado = backendNamed('ado')!;
    const o = options({ adoPreviewRun: true, adoPreviewRunYamlPath: 'p.yaml' });
    expect(backendOptionProblems(o, ado, false)).toEqual([]);
    for (const other of allBackends().filter((b) => b !== ado)) {
      expect(backendOptionProblems(o, other, false)).toEqual(['--ado-preview-run needs the ADO backend; add --build-in-ado=true or --backend=ado']);
    }
  });
});
