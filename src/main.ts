import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeError, helpText, parseArgs, validateOptions } from './cli.js';
import { readGitState } from './ci/index.js';
import { isTrue } from './ci/vars.js';
import type { Env } from './ci/gitstate.js';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { InputError, Problems, WorkError } from './errors.js';
import { secretValues, type Options } from './options.js';
import { buildPlan, modeOf, type PlanFiles } from './plan.js';
import type { Mode, Plan } from './plan-types.js';
import type { Backend } from './backends/backend.js';
import { allBackends, backendFor, executableProblems } from './backends/index.js';
import type { RunContext } from './support/context.js';
import { tagsJson, writeFileCreatingDirs } from './output/json.js';
import { Logger } from './output/logger.js';
import { assignments } from './support/secrets.js';
import type { InputsScan, InputsSource } from './inputs/index.js';
import { reuseChoice } from './reuse/plan.js';
import { maskedForms, readBuildSecrets } from './build-secrets.js';

/** The process edge: the run context but its logger (made here, once the flags are read), plus argv and the working directory. */
export type RunIO = Omit<RunContext, 'log'> & {
  argv: readonly string[];
  cwd: string;
};

/** One run of the CLI; returns the exit code (0 done, 1 work failed, 2 bad input). */
export async function main(io: RunIO): Promise<number> {
  const log = new Logger(io.stderr, false);
  try {
    const parsed = parseArgs(io.argv);
    if (parsed.kind === 'help') {
      io.stdout.write(`${(await helpText(io.version)).trimEnd()}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${io.version}\n`);
      return 0;
    }
    const options = parsed.options;
    log.debugEnabled = options.debug;
    log.secrets.add(...secretValues(options), ...allBackends().flatMap((b) => (b.secretEnv ?? []).map((name) => io.env[name])));
    const code = await run(options, parsed, io, log).catch((err: unknown) => reportError(err, log));
    // The ADO pipeline's signing step reads this output variable (compat, 2026): also "false" when nothing could start.
    if (options.signOnly && options.adoStateOutput && !options.dryRun) io.stdout.write(`${adoSigningState(code === 0)}\n`);
    return code;
  } catch (err) {
    return reportError(err, log);
  }
}

export function adoSigningState(success: boolean): string {
  return `##vso[task.setvariable variable=signing_success;issecret=false;isoutput=true]${success}`;
}

function reportError(err: unknown, log: Logger): number {
  if (err instanceof InputError || err instanceof WorkError) {
    log.error(describeError(err));
    return err.exitCode;
  }
  log.error(describeError(err));
  if (err instanceof Error && err.stack) log.debug(err.stack);
  return 1;
}

async function run(options: Options, parsed: { problems: string[]; empty: string[] }, io: RunIO, log: Logger): Promise<number> {
  const plan = await planRun(options, parsed, io, log);
  if (plan.reuse.note) log.warn(plan.reuse.note);
  // Values of secret-looking build args and pipeline parameters (NPM_TOKEN=…) are masked wherever they would show.
  log.secrets.addSecretLooking([...assignments(options.buildArgs), ...assignments(options.adoParams), ...plan.builds.flatMap((b) => Object.entries(b.buildArgs))]);
  if (options.dryRun) {
    const { dryRunJson, dryRunReport } = await import('./dry-run.js');
    // Masked by value as every other output: a secret also shows inside what was derived from it.
    io.stdout.write(`${dryRunJson(dryRunReport(plan, io.env, io.version), log.secrets)}\n`);
    return 0;
  }
  if (plan.mode === 'parse-tags-only') {
    io.stdout.write(`${tagsJson(plan.tags)}\n`);
    writeTagsFile(plan, io.env, log);
    return 0;
  }
  writeTagsFile(plan, io.env, log);
  const { execute } = await import('./execute.js');
  const { argv: _argv, cwd: _cwd, ...edge } = io;
  return execute(plan, { ...edge, log });
}

/** Flags, config, CI context and input files → Plan; every problem of every stage reported in one round (exit 2). */
async function planRun(options: Options, parsed: { problems: string[]; empty: string[] }, io: RunIO, log: Logger): Promise<Plan> {
  const problems = new Problems();
  for (const p of parsed.problems) problems.add(p);
  const config = problems.collect(() => loadConfig(options.config, io.cwd, log));
  const read = problems.collect(() =>
    readGitState(io.env, {
      readFile: (path) => readFileSync(path, 'utf8'),
      gitHead: () => options.commitSha ?? gitHead(resolve(io.cwd, options.context)),
      repo: options.repo,
    }),
  );
  for (const w of read?.warnings ?? []) log.warn(w);
  const gitState = read?.gitState;
  const backend = backendFor(options, io.env, config);
  for (const p of validateOptions(options, backend, parsed.empty)) problems.add(p);
  // A real run needs the builder here; --dry-run shows what the CI machine would run (SPEC 1).
  if (modeOf(options) === 'build' && !options.dryRun) for (const p of executableProblems(backend, io.env, io.cwd)) problems.add(p);
  const files = problems.collect(() => readPlanFiles(options, backend, io, log)) ?? {};
  if (modeOf(options) === 'build' && options.secrets.length > 0) {
    // Masked from here on; the plan keeps ids and sources, never a value.
    const read = readBuildSecrets(options.secrets, io.env, io.cwd);
    log.secrets.add(...read.values.flatMap(maskedForms));
    for (const p of read.problems) problems.add(p);
    files.secrets = read.secrets;
  }
  const reuse = config !== undefined && modeOf(options) === 'build' && reuseChoice(options, config, backend).enabled;
  if (config && reuse) {
    files.trusted = await problems.collectAsync(async () => (await import('./reuse/trusted.js')).loadTrusted(config.reuse.trusted, (path) => readFileSync(resolve(io.cwd, path), 'utf8')));
  }
  if (config && files.dockerfile && reuse) {
    const contextDir = resolve(io.cwd, options.context);
    const dockerfile = files.dockerfile;
    files.inputsSource = { contextDir, dockerfilePath: dockerfile, ...(backend.ignoreFiles ? { ignoreFiles: backend.ignoreFiles(contextDir, dockerfile) } : {}) };
    files.inputs = await problems.collectAsync(() => readInputs(files.inputsSource!, log));
  }
  if (config && gitState) {
    log.debug(`git state: ${JSON.stringify(gitState)}`);
    const readFile = (path: string, what: string, hint: string): string => readInput(resolve(io.cwd, path), what, hint);
    const plan = problems.collect(() => buildPlan({ options, config, gitState, backend, env: io.env, now: io.now(), cwd: io.cwd, files, readFile }));
    problems.throwIfAny();
    if (plan) return plan;
  }
  problems.throwIfAny();
  throw new Error('no plan and no reported problem');
}

/** The Dockerfile and the whole context, read once at the start: what reuse computes every unit's inputs digest from. */
async function readInputs(where: InputsSource, log: Logger): Promise<InputsScan> {
  const { scanInputs } = await import('./inputs/index.js');
  const started = performance.now();
  const scan = await scanInputs(where);
  const files = scan.context.entries.filter((e) => e.type !== 'dir');
  const bytes = files.reduce((sum, e) => sum + (e.size ?? 0), 0);
  const ignore = scan.ignoreFile ? `, ${scan.ignoreFile} applied` : '';
  log.debug(`inputs: read ${files.length} ${files.length === 1 ? 'file' : 'files'} (${bytes} bytes) of the context ${where.contextDir} in ${Math.round(performance.now() - started)} ms${ignore}`);
  for (const skipped of scan.context.skipped) log.debug(`inputs: ${skipped.path} not sent: ${skipped.reason}`);
  return scan;
}

/** --tags-output-file; inside CI, --parse-tags-only also writes /generated-tags.json when / is writable (compat). */
function writeTagsFile(plan: Plan, env: Env, log: Logger): void {
  if (plan.mode === 'sign-only') return;
  const json = `${tagsJson(plan.tags)}\n`;
  if (plan.outputs.tagsOutputFile) {
    writeFileCreatingDirs(plan.outputs.tagsOutputFile, json);
    return;
  }
  if (plan.mode !== 'parse-tags-only' || !isTrue(env.CI)) return;
  const file = env.IMAGE_BUILDER_GENERATED_TAGS_FILE || GENERATED_TAGS_FILE;
  try {
    writeFileSync(file, json);
    log.debug(`tags written to ${file}`);
  } catch (err) {
    log.debug(`tags not written to ${file}: ${(err as Error).message}`);
  }
}

const GENERATED_TAGS_FILE = '/generated-tags.json';

function loadConfig(path: string, cwd: string, log: Logger): Config {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new InputError(`--config: the config file ${path} ${why}; pass --config=<path of config.yaml>`);
  }
  const { config, warnings } = parseConfig(text, path);
  for (const w of warnings) log.warn(w);
  return config;
}

/**
 * The files a plan reads: the --env-file (wherever tags are rendered here: not for a backend without local inputs,
 * which reads it from its own checkout), variants.yaml, and for a local build the context and Dockerfile must exist.
 */
function readPlanFiles(options: Options, backend: Backend, io: RunIO, log: Logger): PlanFiles {
  const mode = modeOf(options);
  const problems = new Problems();
  const files: PlanFiles = {};
  const local = mode === 'build' && backend.capabilities.localInputs;
  const context = resolve(io.cwd, options.context);
  const dockerfile = locateDockerfile(context, options.dockerfile, io.cwd);
  const dir = dirname(dockerfile);
  if (options.envFile !== undefined) {
    log.warn('--env-file is deprecated; pass the values with --build-arg NAME=VALUE instead');
    if (local || mode === 'parse-tags-only') {
      const path = resolve(dir, options.envFile);
      const text = problems.collect(() => readInput(path, `--env-file ${options.envFile}`, `the path is relative to the Dockerfile's folder ${dir}`));
      if (text !== undefined) files.envFile = { path, text };
    }
  }
  if (local) {
    if (!isDirectory(context)) problems.add(`--context ${options.context}: ${context} is not a folder; give the build context directory`);
    else if (!isFile(dockerfile)) problems.add(`--dockerfile ${options.dockerfile}: ${dockerfile} does not exist; the path is relative to the context ${context}`);
    else {
      files.dockerfile = dockerfile;
      files.dockerfileText = problems.collect(() => readInput(dockerfile, `--dockerfile ${options.dockerfile}`, 'fix its permissions'));
    }
    const variantsPath = join(dir, 'variants.yaml');
    if (existsSync(variantsPath)) {
      const text = problems.collect(() => readInput(variantsPath, variantsPath, 'fix its permissions'));
      if (text !== undefined) files.variants = { path: variantsPath, text };
    }
  }
  for (const p of outputProblems(options, mode, io.cwd)) problems.add(p);
  problems.throwIfAny();
  return files;
}

/** Where the run will write: checked now, so that a typo costs seconds, not a build (or a whole pipeline run). */
function outputProblems(options: Options, mode: Mode, cwd: string): string[] {
  const problems: string[] = [];
  const check = (flag: string, path: string | undefined, kind: 'file' | 'folder') => {
    if (path === undefined) return;
    const problem = unwritable(resolve(cwd, path), kind);
    if (problem) problems.push(`--${flag} ${path}: ${problem}`);
  };
  if (mode === 'build') {
    check('log-dir', options.logDir, 'folder');
    check('build-report-path', options.buildReportPath, 'file');
  }
  if (mode !== 'sign-only') check('tags-output-file', options.tagsOutputFile, 'file');
  return problems;
}

/** Why a file or folder cannot be written at this path (missing folders are created), or undefined. */
function unwritable(path: string, kind: 'file' | 'folder'): string | undefined {
  const found = statOf(path);
  if (found) {
    if (kind === 'folder' && !found.isDirectory()) return 'exists and is not a folder';
    if (kind === 'file' && found.isDirectory()) return 'is a folder; give a file path';
    return writableProblem(kind === 'folder' ? path : dirname(path));
  }
  // The nearest existing ancestor must be a writable folder: the rest is created.
  let parent = dirname(path);
  for (let i = 0; i < 256; i++) {
    const stat = statOf(parent);
    if (stat) return stat.isDirectory() ? writableProblem(parent) : `${parent} is not a folder`;
    if (dirname(parent) === parent) break;
    parent = dirname(parent);
  }
  return undefined;
}

function writableProblem(folder: string): string | undefined {
  try {
    accessSync(folder, constants.W_OK);
    return undefined;
  } catch (err) {
    return `${folder} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/**
 * The Dockerfile is relative to the context; as kaniko does (and so 2024 job files that give it relative to the
 * working directory, `--context=x --dockerfile=x/Dockerfile`), a path that exists from the working directory is taken too.
 */
function locateDockerfile(context: string, dockerfile: string, cwd: string): string {
  const inContext = resolve(context, dockerfile);
  if (isFile(inContext)) return inContext;
  const fromCwd = resolve(cwd, dockerfile);
  return isFile(fromCwd) ? fromCwd : inContext;
}

function readInput(path: string, what: string, hint: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${what}: ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}; ${hint}`);
  }
}

/** undefined where nothing can be found: missing, or a path through a file (ENOTDIR). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
const isDirectory = (path: string): boolean => statOf(path)?.isDirectory() ?? false;
const isFile = (path: string): boolean => statOf(path)?.isFile() ?? false;

function gitHead(dir: string): string | undefined {
  // Loaded on use: child_process pulls in net and dgram, which most runs never need.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
