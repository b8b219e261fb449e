import { join, resolve } from 'node:path';
import type { Env, GitState } from './ci/gitstate.js';
import type { Config } from './config/schema.js';
import { InputError, Problems } from './errors.js';
import { parseBuildArg, parseEnvFile, parseVariants } from './buildargs.js';
import type { Options } from './options.js';
import type { BuildUnit, Mode, Plan } from './plan-types.js';
import type { Backend } from './backends/backend.js';
import { backendPlanProblems } from './backends/index.js';
import { diskTransport, isImageName, parseDestination, type Destination } from './reference.js';
import { selectSigners, skippedSigners } from './sign/select.js';
import { checkTagValue, computeTags, parseTagBase64, parseTagFlag, type Tag, type TagTemplate } from './tags/index.js';
import { dict } from './support/dict.js';
import { dockerfileLabelKeys } from './inputs/dockerfile.js';
import { createdTime, originMetadata, parseKeyValues, unitMetadata, type ImageMetadata } from './labels.js';
import type { InputsScan, InputsSource } from './inputs/index.js';
import { reuseChoice, reusePlan, withInputs, type InputsSettings } from './reuse/plan.js';
import type { Trusted } from './reuse/trusted.js';
import { hostPlatform } from './inputs/platform.js';
import type { BuildSecret } from './build-secrets.js';

/** File contents the plan needs, read by the caller (the plan itself touches no disk). */
export interface PlanFiles {
  /** The Dockerfile of a local build, absolute, where it was found. */
  dockerfile?: string;
  /** That Dockerfile's text: its own LABELs win over the origin labels. */
  dockerfileText?: string;
  variants?: { path: string; text: string };
  envFile?: { path: string; text: string };
  /** With reuse on: the Dockerfile and context, read once (scanInputs). */
  inputs?: InputsScan;
  /** With reuse on: reuse.trusted of config.yaml, its keys and trusted roots read. */
  trusted?: Trusted[];
  /** With reuse on: where `inputs` was read from (the run reads it again into a snapshot when it builds). */
  inputsSource?: InputsSource;
  /** --secret, parsed and its sources checked by the caller (which masks the values); ids and sources only. */
  secrets?: BuildSecret[];
}

export interface PlanInput {
  options: Options;
  config: Config;
  gitState: GitState;
  backend: Backend;
  env: Env;
  now: Date;
  cwd: string;
  files: PlanFiles;
  /** Reads a file the backend's own planning needs (a pipeline YAML); relative paths from cwd. */
  readFile: (path: string, what: string, hint: string) => string;
}

export function modeOf(o: Options): Mode {
  if (o.signOnly) return 'sign-only';
  if (o.parseTagsOnly) return 'parse-tags-only';
  return 'build';
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
  const { options: o, config, now, cwd, backend } = input;
  const problems = new Problems();
  const mode = modeOf(o);
  const gitState = withCommitOverride(input.gitState, o.commitSha);
  const needTags = mode !== 'sign-only';
  const envFile = input.files.envFile ? problems.collect(() => applyEnvFile(input.files.envFile!, input.env)) : undefined;
  const env = envFile?.env ?? input.env;

  const userTags = needTags ? userTagTemplates(o, problems) : [];
  const tags: Tag[] = needTags
    ? problems.collect(() =>
        computeTags({
          userTags,
          settings: {
            defaultCommitTag: config['default-commit-tag'],
            defaultPrTag: config['default-pr-tag'],
            defaultMergeGroupTag: config['default-merge-group-tag'],
            additionalPrTag: config['additional-pr-tag'],
          },
          gitState,
          // The commit built, as COMMIT_SHA says: --commit-sha wins over a pull request's head too.
          ...(o.commitSha ? { commitOverride: o.commitSha } : {}),
          env,
          now,
          // A backend without local inputs renders the user tags itself, from its own checkout and env file: here they are only checked.
          userTagsRenderedHere: mode !== 'build' || backend.capabilities.localInputs,
        }),
      ) ?? []
    : [];

  const pr = gitState.isPullRequest || gitState.jobType === 'merge_group';
  const repositories = (pr && config['dev-registry'].length > 0 ? config['dev-registry'] : config.registry).map((repo) => {
    const disk = diskTransport(repo);
    return disk ? `${disk.transport}:${resolve(cwd, disk.path)}` : repo;
  });

  // --label and --annotation, parsed once (their problems are reported by the build's planning).
  const user: ImageMetadata = mode === 'build' ? userMetadata(o, problems) : { labels: {}, annotations: {} };
  let builds: BuildUnit[] = [];
  if (mode === 'build') {
    if (o.name !== undefined && !isImageName(o.name)) {
      problems.add(`--name "${o.name}" is not a valid image name; use lowercase letters, digits, "/", ".", "_" and "-", e.g. test-infra/ginkgo`);
    }
    if (repositories.length === 0 && backend.capabilities.needsRegistry) {
      problems.add(`${o.config}: registry is not set; set registry (and dev-registry for pull requests) to where images are pushed`);
    }
    builds = problems.collect(() => buildUnits(input, gitState, tags, repositories, envFile?.buildArgs ?? {}, user)) ?? [];
  }
  const secrets = mode === 'build' ? (input.files.secrets ?? []) : [];
  const settings: InputsSettings = {
    ...(o.target ? { target: o.target } : {}),
    platforms: o.platforms.length > 0 ? o.platforms : [hostPlatform()],
    labels: user.labels,
    annotations: user.annotations,
    ...(secrets.length > 0 ? { secrets: secrets.map((s) => s.id) } : {}),
  };
  const choice = mode === 'build' ? reuseChoice(o, config, backend) : { enabled: false, decidedBy: 'default' as const };
  const reuse = reusePlan(choice, config, gitState, input.files.trusted ?? [], settings);
  const context = resolve(cwd, o.context);
  // variants.yaml is an input like any file the context sends: a COPY . ships it.
  const inputsScan = reuse.enabled ? input.files.inputs : undefined;
  if (inputsScan) builds = builds.map((unit) => withInputs(unit, inputsScan, settings));

  const plan: Plan = {
    mode,
    gitState,
    name: o.name,
    context,
    dockerfile: input.files.dockerfile ?? o.dockerfile,
    tags,
    userTags,
    repositories,
    backend: backend.name,
    dryRun: o.dryRun,
    platforms: o.platforms,
    target: o.target,
    secrets,
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
    reuse,
    ...(inputsScan ? { inputsScan, ...(input.files.inputsSource ? { inputsSource: input.files.inputsSource } : {}) } : {}),
    signers: selectSigners(config, gitState),
    skippedSigners: skippedSigners(config, gitState),
    imagesToSign: o.imagesToSign,
    provenance: o.provenance,
    oidcToken: o.oidcToken,
    outputs: { tagsOutputFile: o.tagsOutputFile, buildReportPath: o.buildReportPath },
  };
  if (mode === 'build') {
    plan.backendInputs = problems.collect(() => backend.prepare?.({ options: o, env: input.env, config, readFile: input.readFile }, plan));
    // A backend's own refusals (kaniko and --platform) belong to the same round as every other problem.
    for (const p of backendPlanProblems(backend, plan)) problems.add(p);
  }
  problems.throwIfAny();
  return plan;
}

/**
 * The --env-file as the Go tool applies it: each entry is set in the environment tag templates read, unless the
 * environment already has that name; then it is skipped, neither overriding the variable nor becoming a build arg.
 */
export function applyEnvFile(file: { path: string; text: string }, env: Env): { env: Env; buildArgs: Record<string, string> } {
  const entries = parseEnvFile(file.text, file.path);
  const buildArgs: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(entries)) if (!Object.hasOwn(env, name)) buildArgs[name] = value;
  return { env: { ...buildArgs, ...env }, buildArgs: { ...buildArgs } };
}

function userMetadata(o: Options, problems: Problems): ImageMetadata {
  return { labels: parseKeyValues('label', o.labels, problems), annotations: parseKeyValues('annotation', o.annotations, problems) };
}

function buildUnits(input: PlanInput, git: GitState, tags: Tag[], repositories: string[], envFileArgs: Record<string, string>, user: ImageMetadata): BuildUnit[] {
  const { options: o, files } = input;
  const problems = new Problems();
  const logDir = resolve(input.cwd, o.logDir);
  const flagArgs: Record<string, string> = dict();
  for (const raw of o.buildArgs) {
    const entry = problems.collect(() => parseBuildArg(raw));
    if (entry) flagArgs[entry[0]] = entry[1];
  }
  const created = problems.collect(() => createdTime(input.env, input.now)) ?? '';
  const variants = files.variants ? problems.collect(() => parseVariants(files.variants!.text, files.variants!.path)) : undefined;
  if (o.variant !== undefined && !variants?.has(o.variant)) {
    const known = variants ? [...variants.keys()].join(', ') || 'none' : 'no variants.yaml beside the Dockerfile';
    problems.add(`--variant "${o.variant}" is not defined (known: ${known}); check ${files.variants?.path ?? 'variants.yaml'}`);
  }
  problems.throwIfAny();

  const commitSHA = (git.isPullRequest && !o.commitSha ? git.pullHeadCommitSHA : undefined) ?? git.baseCommitSHA;
  const ownLabels = files.dockerfileText === undefined ? new Set<string>() : dockerfileLabelKeys(files.dockerfileText, o.target);
  // A backend without local inputs (the ADO pipeline) builds from its own checkout: nothing here reaches its image.
  const metadata = (unitTags: Tag[]): ImageMetadata =>
    input.backend.capabilities.localInputs
      ? unitMetadata(originMetadata({ gitState: git, revision: commitSHA, created, tags: unitTags }), user, ownLabels)
      : { labels: {}, annotations: {} };
  // Tags the ADO pipeline renders have no value here: the pipeline computes their destinations.
  const known = tags.filter((t) => !t.renderedBy);
  const unit = (variant: string | undefined, variantArgs: Record<string, string>): BuildUnit => {
    const unitTags = variant === undefined ? known : known.map((t) => ({ ...t, value: `${t.value}-${variant}` }));
    for (const t of unitTags) problems.collect(() => checkTagValue(t, variant ? `variant ${variant}` : undefined));
    const exported = o.exportTags ? Object.fromEntries(unitTags.map((t) => [`TAG_${t.name}`, t.value])) : {};
    return {
      variant,
      tags: unitTags,
      // Without --name there are no destinations; that problem is reported by the flag rules.
      destinations: o.name === undefined ? [] : destinationsFor(o.name, unitTags, repositories, problems, o.config),
      buildArgs: { ...envFileArgs, ...exported, ...(commitSHA ? { COMMIT_SHA: commitSHA } : {}), ...variantArgs, ...flagArgs },
      ...metadata(unitTags),
      logFile: join(logDir, `build_${variant ?? 'build'}.log`),
    };
  };

  const units = !variants || variants.size === 0
    ? [unit(undefined, {})]
    : [...variants].filter(([name]) => o.variant === undefined || name === o.variant).map(([name, args]) => unit(name, args));
  problems.throwIfAny();
  return units;
}

/** `<repository>/<name>:<tag>` for every tag and repository (tags outer, repositories inner), each parsed once. */
export function destinationsFor(name: string, tags: Tag[], repositories: string[], problems?: Problems, configFile = 'config.yaml'): Destination[] {
  const out: Destination[] = [];
  const bad = new Set<string>();
  for (const tag of tags) {
    for (const repo of repositories) {
      const disk = diskTransport(repo);
      // Disk: buildah's spelling, the tag becomes the layout's ref.name annotation.
      const text = disk ? `${disk.transport}:${disk.path}:${tag.value}` : `${repo.replace(/\/+$/, '')}/${name}:${tag.value}`;
      const destination = parseDestination(text);
      if (typeof destination !== 'string') {
        out.push(destination);
        continue;
      }
      if (bad.has(repo)) continue;
      bad.add(repo);
      const problem = disk ? destination : `${destination}; check registry "${repo}" in ${configFile} (host[:port]/path, lowercase) and --name`;
      if (problems) problems.add(problem);
      else throw new InputError(problem);
    }
  }
  return out;
}
