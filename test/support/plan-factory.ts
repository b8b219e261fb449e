import { parseDestination, type Destination } from '../../src/reference.js';
import type { BuildUnit, Plan } from '../../src/plan-types.js';

/** A destination as the planner parses it; throws for a text that names none. */
export function destination(text: string): Destination {
  const parsed = parseDestination(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

/** A unit as the planner makes it: destinations = tags × repositories, tag values suffixed with -<variant>. */
export function makeUnit(
  plan: Pick<Plan, 'name' | 'tags' | 'repositories' | 'logDir'>,
  options: { variant?: string; buildArgs?: Record<string, string>; destinations?: string[]; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): BuildUnit {
  const suffix = options.variant === undefined ? '' : `-${options.variant}`;
  const tags = plan.tags.map((tag) => ({ name: tag.name, value: `${tag.value}${suffix}` }));
  return {
    ...(options.variant === undefined ? {} : { variant: options.variant }),
    tags,
    destinations: (options.destinations ?? tags.flatMap((tag) => plan.repositories.map((repo) => `${repo}/${plan.name}:${tag.value}`))).map(destination),
    buildArgs: { COMMIT_SHA: '0123456789abcdef0123456789abcdef01234567', ...options.buildArgs },
    labels: options.labels ?? {},
    annotations: options.annotations ?? {},
    logFile: `${plan.logDir}/build_${options.variant ?? 'build'}.log`,
    ...(options.labels ? { labels: options.labels } : {}),
  };
}

/** A build plan with one unit (no variants) unless `builds` is given; override any field. */
export function makePlan(overrides: Partial<Plan> = {}, unit: Parameters<typeof makeUnit>[1] = {}): Plan {
  const base: Plan = {
    mode: 'build',
    gitState: { ciSystem: 'local', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: '0123456789abcdef0123456789abcdef01234567' },
    name: 'test-infra/app',
    context: '/src/app',
    dockerfile: 'Dockerfile',
    tags: [{ name: 'default_tag', value: 'v20240101-01234567' }],
    userTags: [],
    repositories: ['europe-docker.pkg.dev/kyma-project/prod'],
    backend: 'kaniko',
    dryRun: false,
    platforms: [],
    secrets: [],
    cache: { enabled: false, cacheRunLayers: false, cacheCopyLayers: false },
    reproducible: false,
    logDir: '/logs/artifacts',
    silent: true,
    builds: [],
    reuse: { enabled: false, decidedBy: 'default', alsoFrom: [], trusted: [] },
    signers: [],
    skippedSigners: [],
    imagesToSign: [],
    provenance: true,
    outputs: {},
    ...overrides,
  };
  return overrides.builds ? base : { ...base, builds: [makeUnit(base, unit)] };
}
