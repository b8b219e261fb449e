import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { z } from 'zod';
import { FIXTURES } from './cli.js';

/** The job-file compatibility corpus (test/fixtures/jobs, see its README.md). */
export const JOBS = join(FIXTURES, 'jobs');
export const CORPUS_FILES = ['prow-2024.yaml', 'github-action-2024.yaml', 'github-action-2026.yaml', 'ado-pipeline-steps.yaml'] as const;

/** Where "today" goes in expected values; `withDate` puts the UTC YYYYMMDD there. */
export const DATE = '${DATE}';

const params = z.record(z.string(), z.string());

const expectedTag = z.strictObject({
  name: z.string(),
  /** Absent only when the value comes from an env file that is not in the checkout. */
  value: z.string().optional(),
  /** The value reads the env file: with the ADO backend the pipeline renders it, a local dry-run cannot know it. */
  envFile: z.boolean().optional(),
});

const jobCase = z.strictObject({
  name: z.string(),
  note: z.string().optional(),
  /** Decoded text of the case's --tag-base64, for people; the test checks it matches the argument. */
  tagBase64: z.string().optional(),
  /** Folder under repo/ the job runs in (its checkout). */
  checkout: z.string(),
  /** File under configs/ the job's --config points at (the test rewrites the flag's value to it). */
  config: z.string(),
  /** File under events/ for GITHUB_EVENT_PATH. */
  event: z.string().optional(),
  env: z.record(z.string(), z.string()),
  /** argv exactly as the process receives it, after the CI system's expansion and splitting. */
  args: z.array(z.string()),
  /** "skip: <why>" to skip the --parse-tags-only run. */
  parseTagsOnly: z.string().startsWith('skip: ').optional(),
  expect: z.strictObject({
    backend: z.enum(['kaniko', 'buildkit', 'buildah', 'ado']).optional(),
    name: z.string().optional(),
    repositories: z.array(z.string()).optional(),
    tags: z.array(expectedTag).optional(),
    buildArgs: params.optional(),
    ado: z.strictObject({
      /** Every template parameter except Tags; Authorization as the dry-run masks it. */
      templateParameters: params,
      /** Tags decoded: comma-joined name=template of the user tags as written. */
      tags: z.string().optional(),
    }).optional(),
    imagesToSign: z.array(z.string()).optional(),
    signers: z.array(z.string()).optional(),
  }),
});

const corpusFile = z.strictObject({ era: z.string(), cases: z.array(jobCase).min(1) });

export type ExpectedTag = z.infer<typeof expectedTag>;
export type JobCase = z.infer<typeof jobCase> & { era: string; file: string };
export type Mode = 'build' | 'parse-tags-only' | 'sign-only';

/** Every case of every corpus file, validated (a typo in the data fails here, not as a confusing assertion). */
export function loadCorpus(): JobCase[] {
  return CORPUS_FILES.flatMap((file) => {
    const parsed = corpusFile.safeParse(parse(readFileSync(join(JOBS, file), 'utf8')));
    if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
    return parsed.data.cases.map((c) => ({ ...c, era: parsed.data.era, file }));
  });
}

/** The value of a flag as Go's flag package reads argv (last one wins), in any of its spellings. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (m?.[1] !== flag) return;
    value = m[2] ?? args[i + 1];
  });
  return value;
}

function boolFlag(args: readonly string[], flag: string): boolean {
  return args.some((arg) => {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    return m?.[1] === flag && (m[2] === undefined || /^(1|t|true)$/i.test(m[2]));
  });
}

export function modeOf(args: readonly string[]): Mode {
  if (boolFlag(args, 'sign-only')) return 'sign-only';
  if (boolFlag(args, 'parse-tags-only')) return 'parse-tags-only';
  return 'build';
}

/** The job's args with its --config pointed at `path`, as the job's config mount would; appended if the job has none. */
export function withConfig(args: readonly string[], path: string): string[] {
  const out: string[] = [];
  let found = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const m = /^(--?config)(=.*)?$/.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    found = true;
    out.push(`${m[1]}=${path}`);
    if (m[2] === undefined) i++; // "-config PATH": the value is the next argument
  }
  return found ? out : [...out, `--config=${path}`];
}

/** The args without sign-only's flags (for the --parse-tags-only run). */
export function withoutSigning(args: readonly string[]): string[] {
  return args.filter((a) => !/^--?(sign-only|images-to-sign|ado-state-output)(=|$)/.test(a));
}

/** Values the CLI must never print: tokens and secrets the job passes by flag or environment. */
export function secretsOf(c: JobCase): string[] {
  const fromFlags = ['oidc-token', 'azure-access-token', 'azure-client-secret'].map((f) => flagValue(c.args, f));
  return [...fromFlags, c.env.ADO_PAT].filter((v): v is string => v !== undefined && v !== '');
}

/** `x` with every ${DATE} replaced, deeply. */
export function withDate<T>(x: T, date: string): T {
  if (x === undefined) return x;
  return JSON.parse(JSON.stringify(x).replaceAll(DATE, date)) as T;
}

/** `expected` rendered with whichever of the dates (before and after the run) matches `actual`; else with the first, for a readable diff. */
export function datedExpectation<T>(expected: T, actual: unknown, dates: readonly string[]): T {
  for (const date of dates) {
    const candidate = withDate(expected, date);
    if (isDeepStrictEqual(candidate, actual)) return candidate;
  }
  return withDate(expected, dates[0] ?? '');
}

/** Destinations per SPEC 6: every tag (outer) in every repository (inner). */
export function destinationsOf(name: string, tags: readonly ExpectedTag[], repositories: readonly string[]): string[] {
  return tags.flatMap((t) => repositories.map((r) => `${r}/${name}:${t.value ?? ''}`));
}
