import { dirname, join, resolve } from 'node:path';
import type { Env, GitState } from './ci/gitstate.js';
import type { Config } from './config/schema.js';
import { InputError, Problems } from './errors.js';
import { parseBuildArg, parseEnvFile, parseVariants } from './buildargs.js';
import type { Options } from './options.js';
import type { BackendName, BuildUnit, Mode, Plan } from './plan-types.js';
import { diskTransport, isImageName, parseReference } from './reference.js';
import { selectSigners, skippedSigners } from './sign/select.js';
import { checkTagValue, computeTags, parseTagBase64, parseTagFlag, type Tag, type TagTemplate } from './tags/index.js';

/** File contents the plan needs, read by the caller (the plan itself touches no disk). */
export interface PlanFiles {
  variants?: { path: string; text: string };
  envFile?: { path: string; text: string };
}

export interface PlanInput {
  options: Options;
  config: Config;
  gitState: GitState;
  env: Env;
  now: Date;
  cwd: string;
  files: PlanFiles;
}

export function modeOf(o: Options): Mode {
  if (o.signOnly) return 'sign-only';
  if (o.parseTagsOnly) return 'parse-tags-only';
  return 'build';
}

/** --backend, else --build-in-ado, else USE_BUILDKIT=true, else kaniko (compat). */
export function backendOf(o: Options, env: Env): BackendName {
  if (o.backend) return o.backend;
  if (o.buildInAdo) return 'ado';
  if (env.USE_BUILDKIT?.toLowerCase() === 'true') return 'buildkit';
  return 'kaniko';
}

/** Where variants.yaml and the --env-file live: the Dockerfile's folder. */
export function dockerfileDir(o: Options, cwd: string): string {
  return dirname(join(resolve(cwd, o.context), o.dockerfile));
}

/** --commit-sha overrides the base SHA the CI context gives. */
export function withCommitOverride(git: GitState, commitSha: string | undefined): GitState {
  return commitSha ? { ...git, baseCommitSHA: commitSha } : git;
}

export function userTagTemplates(o: Options, problems: Problems): TagTemplate[] {
  const fromFlags = o.tags.map((t) => problems.collect(() => parseTagFlag(t)));
  const fromBase64 = o.tagBase64 ? problems.collect(() => parseTagBase64(o.tagBase64 ?? '')) ?? [] : [];
  return [...fromFlags, ...fromBase64].filter((t): t is TagTemplate => t !== undefined);
}

/** Options + Config + GitState → Plan. Pure; every problem is reported in one InputError. */
export function buildPlan(input: PlanInput): Plan {
  const { options: o, config, env, now, cwd } = input;
  const problems = new Problems();
  const mode = modeOf(o);
  const gitState = withCommitOverride(input.gitState, o.commitSha);
  const backend = backendOf(o, env);
  const needTags = mode !== 'sign-only';

  const tags: Tag[] = needTags
    ? problems.collect(() => {
        const userTags = userTagTemplates(o, problems);
        return computeTags({
          userTags,
          settings: {
            defaultCommitTag: config['default-commit-tag'],
            defaultPrTag: config['default-pr-tag'],
            defaultMergeGroupTag: config['default-merge-group-tag'],
            additionalPrTag: config['additional-pr-tag'],
          },
          gitState,
          env,
          now,
        });
      }) ?? []
    : [];

  const pr = gitState.isPullRequest || gitState.jobType === 'merge_group';
  const repositories = (pr && config['dev-registry'].length > 0 ? config['dev-registry'] : config.registry).map((repo) => {
    const disk = diskTransport(repo);
    return disk ? `${disk.transport}:${resolve(cwd, disk.path)}` : repo;
  });

  let builds: BuildUnit[] = [];
  if (mode === 'build') {
    if (o.name !== undefined && !isImageName(o.name)) {
      problems.add(`--name "${o.name}" is not a valid image name; use lowercase letters, digits, "/", ".", "_" and "-", e.g. test-infra/ginkgo`);
    }
    if (repositories.length === 0 && backend !== 'ado') {
      problems.add(`config.yaml: registry is not set; set registry (and dev-registry for pull requests) to where images are pushed`);
    }
    builds = problems.collect(() => buildUnits(input, gitState, tags, repositories)) ?? [];
  }
  problems.throwIfAny();

  return {
    mode,
    gitState,
    name: o.name,
    context: resolve(cwd, o.context),
    dockerfile: o.dockerfile,
    tags,
    repositories,
    backend,
    platforms: o.platforms,
    target: o.target,
    cache: {
      enabled: config.cache.enabled,
      cacheRepo: config.cache['cache-repo'],
      cacheRunLayers: config.cache['cache-run-layers'],
      cacheCopyLayers: config.cache['cache-copy-layers'],
    },
    reproducible: config.reproducible,
    logFormat: config['log-format'],
    logDir: resolve(cwd, o.logDir),
    silent: o.silent,
    builds,
    signers: selectSigners(config, gitState),
    skippedSigners: skippedSigners(config, gitState),
    adoConfig: config['ado-config'],
    imagesToSign: o.imagesToSign,
  };
}

function buildUnits(input: PlanInput, git: GitState, tags: Tag[], repositories: string[]): BuildUnit[] {
  const { options: o, files } = input;
  const problems = new Problems();
  const logDir = resolve(input.cwd, o.logDir);

  const envFileArgs = files.envFile ? problems.collect(() => parseEnvFile(files.envFile!.text, files.envFile!.path)) ?? {} : {};
  const flagArgs: Record<string, string> = {};
  for (const raw of o.buildArgs) {
    const entry = problems.collect(() => parseBuildArg(raw));
    if (entry) flagArgs[entry[0]] = entry[1];
  }
  const variants = files.variants ? problems.collect(() => parseVariants(files.variants!.text, files.variants!.path)) : undefined;
  if (o.variant !== undefined && !variants?.has(o.variant)) {
    const known = variants ? [...variants.keys()].join(', ') || 'none' : 'no variants.yaml beside the Dockerfile';
    problems.add(`--variant "${o.variant}" is not defined (known: ${known}); check ${files.variants?.path ?? 'variants.yaml'}`);
  }
  problems.throwIfAny();

  const commitSHA = (git.isPullRequest && !o.commitSha ? git.pullHeadCommitSHA : undefined) ?? git.baseCommitSHA;
  const unit = (variant: string | undefined, variantArgs: Record<string, string>): BuildUnit => {
    const unitTags = variant === undefined ? tags : tags.map((t) => ({ name: t.name, value: `${t.value}-${variant}` }));
    for (const t of unitTags) problems.collect(() => checkTagValue(t, variant ? `variant ${variant}` : undefined));
    const exported = o.exportTags ? Object.fromEntries(unitTags.map((t) => [`TAG_${t.name}`, t.value])) : {};
    return {
      variant,
      tags: unitTags,
      destinations: destinationsFor(o.name ?? '', unitTags, repositories, problems),
      buildArgs: { ...envFileArgs, ...exported, ...(commitSHA ? { COMMIT_SHA: commitSHA } : {}), ...variantArgs, ...flagArgs },
      logFile: join(logDir, `build_${variant ?? 'build'}.log`),
    };
  };

  const units = !variants || variants.size === 0
    ? [unit(undefined, {})]
    : [...variants].filter(([name]) => o.variant === undefined || name === o.variant).map(([name, args]) => unit(name, args));
  problems.throwIfAny();
  return units;
}

/** `<repository>/<name>:<tag>` for every tag and repository (tags outer, repositories inner). */
export function destinationsFor(name: string, tags: Tag[], repositories: string[], problems?: Problems): string[] {
  const out: string[] = [];
  const bad = new Set<string>();
  for (const tag of tags) {
    for (const repo of repositories) {
      const disk = diskTransport(repo);
      if (disk) {
        // buildah's spelling: the tag becomes the layout's ref.name annotation.
        out.push(`${disk.transport}:${disk.path}:${tag.value}`);
        continue;
      }
      const ref = `${repo.replace(/\/+$/, '')}/${name}:${tag.value}`;
      if (!parseReference(ref) && !bad.has(repo)) {
        bad.add(repo);
        const problem = `destination "${ref}" is not a valid image reference; check registry "${repo}" in config.yaml (host[:port]/path, lowercase) and --name`;
        if (problems) problems.add(problem);
        else throw new InputError(problem);
      }
      out.push(ref);
    }
  }
  return out;
}
