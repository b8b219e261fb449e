import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeError, parseArgs } from './cli.js';
import { readGitState } from './ci/index.js';
import type { Env } from './ci/gitstate.js';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { InputError, Problems, WorkError } from './errors.js';
import type { Options } from './options.js';
import { backendOf, buildPlan, dockerfileDir, modeOf, type PlanFiles } from './plan.js';
import type { Plan } from './plan-types.js';
import { tagsJson, writeFileCreatingDirs } from './output/json.js';
import { Logger } from './output/logger.js';

export interface RunIO {
  argv: readonly string[];
  env: Env;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  now: () => Date;
  version: string;
  /** Aborted on SIGINT/SIGTERM: running builders are stopped. */
  signal: AbortSignal;
}

/** One run of the CLI; returns the exit code (0 done, 1 work failed, 2 bad input). */
export async function main(io: RunIO): Promise<number> {
  const log = new Logger(io.stderr, false);
  try {
    const parsed = await parseArgs(io.argv, io.version);
    if (parsed.kind === 'text') {
      io.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
      return 0;
    }
    const options = parsed.options;
    log.debugEnabled = options.debug;
    log.secrets.push(options.oidcToken, options.azureAccessToken, options.azureClientSecret, io.env.ADO_PAT, io.env.AZURE_CLIENT_SECRET);
    return await run(options, io, log);
  } catch (err) {
    return reportError(err, log);
  }
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

async function run(options: Options, io: RunIO, log: Logger): Promise<number> {
  // Config and CI context problems are reported together, as flag problems are.
  const problems = new Problems();
  const config = problems.collect(() => loadConfig(options.config, io.cwd, log));
  const gitState = problems.collect(() =>
    readGitState(io.env, {
      readFile: (path) => readFileSync(path, 'utf8'),
      gitHead: () => options.commitSha ?? gitHead(resolve(io.cwd, options.context)),
      repo: options.repo,
    }),
  );
  problems.throwIfAny();
  if (!config || !gitState) throw new Error('config or git state missing without a reported problem');
  log.debug(`git state: ${JSON.stringify(gitState)}`);
  const plan = buildPlan({ options, config, gitState, env: io.env, now: io.now(), cwd: io.cwd, files: readPlanFiles(options, io, log) });

  if (options.dryRun) {
    const { dryRunReport } = await import('./dry-run.js');
    io.stdout.write(`${JSON.stringify(await dryRunReport(plan, options, io.env), null, 2)}\n`);
    return 0;
  }
  if (plan.mode === 'parse-tags-only') {
    io.stdout.write(`${tagsJson(plan.tags)}\n`);
    writeTagsFile(options, plan);
    return 0;
  }
  writeTagsFile(options, plan);
  const { execute } = await import('./execute.js');
  return execute(plan, options, { env: io.env, stdout: io.stdout, stderr: io.stderr, signal: io.signal, log });
}

function writeTagsFile(options: Options, plan: Plan): void {
  if (options.tagsOutputFile && plan.mode !== 'sign-only') writeFileCreatingDirs(options.tagsOutputFile, `${tagsJson(plan.tags)}\n`);
}

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

/** variants.yaml beside the Dockerfile and the deprecated --env-file, read for the pure plan. */
function readPlanFiles(options: Options, io: RunIO, log: Logger): PlanFiles {
  if (modeOf(options) !== 'build') return {};
  const dir = dockerfileDir(options, io.cwd);
  const files: PlanFiles = {};
  const variantsPath = join(dir, 'variants.yaml');
  if (backendOf(options, io.env) !== 'ado' && existsSync(variantsPath)) {
    files.variants = { path: variantsPath, text: readFileSync(variantsPath, 'utf8') };
  }
  if (options.envFile) {
    log.warn('--env-file is deprecated; pass the values with --build-arg NAME=VALUE instead');
    const path = resolve(dir, options.envFile);
    if (!existsSync(path)) throw new InputError(`--env-file: ${path} does not exist (the path is relative to the Dockerfile's folder ${dir})`);
    files.envFile = { path, text: readFileSync(path, 'utf8') };
  }
  return files;
}

function gitHead(dir: string): string | undefined {
  // Loaded on use: child_process pulls in net and dgram, which most runs never need.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
