import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import type { Config } from '../config/schema.js';
import type { Options } from '../options.js';
import type { Plan } from '../plan-types.js';
import { adoBackend } from './ado/index.js';
import type { Backend } from './backend.js';
import { buildahBackend } from './buildah.js';
import { buildkitBackend } from './buildkit.js';
import { kanikoBackend } from './kaniko.js';

/** The one registry of backends, in the order --help lists them. Adding a backend: one file and one line here. */
const BACKENDS: readonly Backend[] = [kanikoBackend, buildkitBackend, buildahBackend, adoBackend];

export const BACKEND_NAMES: readonly string[] = BACKENDS.map((b) => b.name);

export function allBackends(): readonly Backend[] {
  return BACKENDS;
}

export function backendNamed(name: string): Backend | undefined {
  return BACKENDS.find((b) => b.name === name);
}

/** How --help explains the choice made by backendFor. */
export const BACKEND_CHOICE = `build backend: ${BACKEND_NAMES.join(', ')} (default: ado when config.yaml has ado-config and no registry, buildkit with USE_BUILDKIT=true, else kaniko)`;

/**
 * --backend, else --build-in-ado, else USE_BUILDKIT=true, else ado when config.yaml has ado-config and no registry
 * (the 2026 tool always builds in ADO and its job files name no backend), else kaniko (compat).
 */
export function backendFor(o: Options, env: Env, config: Config | undefined): Backend {
  const named = (name: string): Backend => backendNamed(name) ?? kanikoBackend;
  if (o.backend) return named(o.backend);
  if (o.buildInAdo) return adoBackend;
  if (env.USE_BUILDKIT?.toLowerCase() === 'true') return buildkitBackend;
  if (config?.['ado-config'] && config.registry.length === 0) return adoBackend;
  return kanikoBackend;
}

/** The flag rules every backend adds, for the chosen one and for the others (a flag that needs its backend). */
export function backendOptionProblems(o: Options, chosen: Backend, building: boolean): string[] {
  const problems: string[] = [];
  if (building && o.variant !== undefined && !chosen.capabilities.variants) {
    problems.push(`--variant is not supported with the ${chosen.name} backend, which builds no variants; drop --variant or use another --backend`);
  }
  if (building && o.reuse === true && !chosen.capabilities.reuse) {
    const able = BACKENDS.filter((b) => b.capabilities.reuse).map((b) => b.name);
    problems.push(`--reuse is not supported with the ${chosen.name} backend, which does not reuse images; drop --reuse, or build with --backend ${able.join(', --backend ')}`);
  }
  for (const backend of BACKENDS) problems.push(...(backend.optionProblems?.(o, backend === chosen) ?? []));
  return problems;
}

/** What the backend refuses in a build plan: the capabilities it lacks, then its own rules. */
export function backendPlanProblems(backend: Backend, plan: Plan): string[] {
  const problems: string[] = [];
  const { capabilities } = backend;
  // The alternatives a message suggests: backends of the same kind (another local builder for a local build) when
  // there are, else any; most capable first.
  const able = (can: (b: Backend) => boolean): string[] => {
    const all = BACKENDS.filter((b) => b !== backend && can(b)).sort((a, b) => capabilityCount(b) - capabilityCount(a));
    const same = all.filter((b) => b.capabilities.localInputs === capabilities.localInputs);
    return (same.length > 0 ? same : all).map((b) => b.name);
  };
  if (!capabilities.platforms && plan.platforms.length > 0) {
    const [first, ...more] = able((b) => b.capabilities.platforms);
    problems.push(
      `${backend.name} cannot build for other platforms (--platform ${plan.platforms.join(',')}): ` +
        `use --backend ${first}${more.length > 0 ? ` (or ${more.map((m) => `--backend ${m}`).join(', ')})` : ''} to build for several platforms`,
    );
  }
  if (!capabilities.secrets && plan.secrets.length > 0) {
    const [first, ...more] = able((b) => b.capabilities.secrets);
    problems.push(
      `${backend.name} cannot mount build secrets (--secret ${plan.secrets.map((s) => s.id).join(', ')}): ` +
        `use --backend ${first}${more.length > 0 ? ` (or ${more.map((m) => `--backend ${m}`).join(', ')})` : ''} for RUN --mount=type=secret, or drop --secret`,
    );
  }
  if (!capabilities.diskDestinations) {
    const [first] = able((b) => b.capabilities.diskDestinations);
    for (const destination of plan.builds.flatMap((unit) => unit.destinations).filter((d) => d.kind === 'disk')) {
      problems.push(`${backend.name} cannot write to ${destination.reference}: use --backend ${first} for oci: and oci-archive: destinations`);
    }
  }
  problems.push(...backend.validate(plan));
  return problems;
}

const capabilityCount = (b: Backend): number => Object.values(b.capabilities).filter(Boolean).length;

/** Where the spawn looks for a program named without a path when the environment has no PATH (Node's child_process). */
const DEFAULT_PATH = '/usr/bin:/bin';

/**
 * Why the backend's builder cannot start on this machine, naming the backends whose builders can; nothing for a
 * backend that builds elsewhere. Resolved as the spawn resolves it: a path from the working directory, else PATH.
 */
export function executableProblems(backend: Backend, env: Env, cwd: string): string[] {
  const wanted = backend.executable?.(env);
  if (wanted === undefined) return [];
  const why = unusable(wanted.file, env, cwd);
  if (why === undefined) return [];
  const here = BACKENDS.filter((b) => b !== backend)
    .sort((a, b) => capabilityCount(b) - capabilityCount(a))
    .filter((b) => {
      const executable = b.executable?.(env);
      return executable !== undefined && unusable(executable.file, env, cwd) === undefined;
    })
    .map((b) => b.name);
  const [first, ...more] = here;
  const instead =
    first === undefined
      ? ''
      : `; this machine has ${[here.slice(0, -1).join(', '), here.at(-1)].filter(Boolean).join(' and ')}: use --backend=${first}${more.length > 0 ? ` (or ${more.map((m) => `--backend=${m}`).join(', ')})` : ''}`;
  return [`${backend.name}: its executable ${wanted.file} ${why} (${wanted.hint})${instead}`];
}

function unusable(file: string, env: Env, cwd: string): string | undefined {
  if (file.includes('/')) return fileProblem(path.resolve(cwd, file));
  const search = env.PATH ?? DEFAULT_PATH;
  // An empty entry is the working directory, as for execvp.
  if (search.split(':').some((dir) => fileProblem(path.resolve(cwd, dir, file)) === undefined)) return undefined;
  return `is not on PATH (${search})`;
}

function fileProblem(file: string): string | undefined {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    return 'does not exist';
  }
  if (!isFile) return 'is not executable (it is not a file)';
  try {
    accessSync(file, constants.X_OK);
    return undefined;
  } catch {
    return 'is not executable (chmod +x it)';
  }
}
