import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, type ExpectStatic } from 'vitest';
import { baseEnv, runCli, tempDir, utcDate, removeTempDirs, type CliResult } from '../support/cli.js';
import {
  CORPUS_FILES, JOBS, datedExpectation, destinationsOf, flagValue, loadCorpus, modeOf, secretsOf, withConfig, withoutSigning,
  type ExpectedTag, type JobCase,
} from '../support/jobs.js';

// The job-file compatibility corpus (SPEC 12) replayed through the real CLI: every job once with
// --dry-run and once with --parse-tags-only, expectations from the SPEC (see test/fixtures/jobs/README.md).

afterAll(removeTempDirs);

const CASES = loadCorpus();
const ERAS = [...new Set(CASES.map((c) => c.era))];

interface Run extends CliResult {
  /** UTC dates before and after the run: a run across midnight still matches. */
  dates: string[];
  /** Where IMAGE_BUILDER_GENERATED_TAGS_FILE pointed (the /generated-tags.json of this run). */
  generatedTagsFile: string;
}

async function run(c: JobCase, args: string[]): Promise<Run> {
  const generatedTagsFile = join(tempDir('ib-jobs-'), 'generated-tags.json');
  const env = baseEnv({
    ...c.env,
    ...(c.event ? { GITHUB_EVENT_PATH: join(JOBS, 'events', c.event) } : {}),
    IMAGE_BUILDER_GENERATED_TAGS_FILE: generatedTagsFile,
  });
  const before = utcDate();
  const r = await runCli(withConfig(args, join(JOBS, 'configs', c.config)), { env, cwd: join(JOBS, 'repo', c.checkout), timeoutMs: 20_000 });
  return { ...r, dates: [before, utcDate()], generatedTagsFile };
}

function failure(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
}

/** The dry-run plan; sign-only with --ado-state-output may add its ##vso line, which must then report success. */
function planOf(expect: ExpectStatic, stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n');
  const vso = lines.filter((l) => l.startsWith('##vso['));
  for (const line of vso) expect(line).toBe('##vso[task.setvariable variable=signing_success;issecret=false;isoutput=true]true');
  return JSON.parse(lines.filter((l) => !l.startsWith('##vso[')).join('\n')) as Record<string, unknown>;
}

/** Tags as a local dry-run of an ADO build can know them: names always, values unless the pipeline renders them from the env file. */
function knowable(tags: readonly ExpectedTag[], actual: unknown): unknown[] {
  const list = Array.isArray(actual) ? (actual as Array<{ name?: unknown; value?: unknown }>) : [];
  return list.map((t, i) => (tags[i]?.envFile ? { name: t.name } : { name: t.name, value: t.value }));
}

function expectNoSecrets(expect: ExpectStatic, c: JobCase, r: CliResult): void {
  for (const secret of secretsOf(c)) {
    expect(r.stdout, 'a secret on stdout').not.toContain(secret);
    expect(r.stderr, 'a secret on stderr').not.toContain(secret);
  }
}

async function checkDryRun(expect: ExpectStatic, c: JobCase): Promise<void> {
  const mode = modeOf(c.args);
  const r = await run(c, [...c.args, '--dry-run']);
  expect(r.code, failure(r)).toBe(0);
  expectNoSecrets(expect, c, r);
  const plan = planOf(expect, r.stdout);
  const want = c.expect;
  expect.soft(plan.mode).toBe(mode);
  if (mode === 'build') {
    expect.soft(plan.backend).toBe(want.backend);
    expect.soft(plan.name).toBe(want.name);
  }
  if (want.repositories) expect.soft(plan.repositories).toEqual(want.repositories);

  const ado = mode === 'build' && want.backend === 'ado';
  const tags = want.tags ?? [];
  if (want.tags) {
    if (ado) expect.soft(knowable(tags, plan.tags)).toEqual(datedExpectation(knowable(tags, tags), knowable(tags, plan.tags), r.dates));
    // The Go tool's tags are name and value; our plan also records each tag's origin.
    else expect.soft(knowable([], plan.tags)).toEqual(datedExpectation(tags, knowable([], plan.tags), r.dates));
  }

  if (mode === 'build' && !ado) {
    const builds = (plan.builds ?? []) as Array<{ destinations: unknown; buildArgs: unknown }>;
    expect.soft(builds).toHaveLength(1);
    const [build] = builds;
    const destinations = destinationsOf(want.name ?? '', tags, want.repositories ?? []);
    expect.soft(build?.destinations).toEqual(datedExpectation(destinations, build?.destinations, r.dates));
    expect.soft(build?.buildArgs).toEqual(datedExpectation(want.buildArgs, build?.buildArgs, r.dates));
  }

  if (ado) {
    const sent = ((plan.ado as { body?: { templateParameters?: Record<string, string> } } | undefined)?.body?.templateParameters) ?? {};
    const expected = { ...want.ado?.templateParameters, ...(want.ado?.tags ? { Tags: Buffer.from(want.ado.tags).toString('base64') } : {}) };
    // Decoded first: a wrong tag list reads better as text than as base64.
    expect.soft(sent.Tags === undefined ? undefined : Buffer.from(sent.Tags, 'base64').toString()).toBe(want.ado?.tags);
    expect.soft(sent).toEqual(expected);
  }

  if (mode === 'sign-only') {
    expect.soft(plan.imagesToSign).toEqual(want.imagesToSign);
    if (want.signers) expect.soft((plan.signers as Array<{ name: string }>).map((s) => s.name)).toEqual(want.signers);
  }
}

async function checkParseTagsOnly(expect: ExpectStatic, c: JobCase): Promise<void> {
  const args = withoutSigning(c.args);
  const r = await run(c, modeOf(args) === 'parse-tags-only' ? args : [...args, '--parse-tags-only']);
  expect(r.code, failure(r)).toBe(0);
  expectNoSecrets(expect, c, r);
  let tags: unknown;
  expect(() => (tags = JSON.parse(r.stdout)), `stdout is not one JSON document:\n${r.stdout}`).not.toThrow();
  expect(Array.isArray(tags), 'stdout is not a JSON array').toBe(true);
  for (const t of tags as object[]) expect(Object.keys(t).sort()).toEqual(['name', 'value']);
  const expected = c.expect.tags?.map(({ name, value }) => ({ name, value }));
  expect.soft(tags).toEqual(datedExpectation(expected, tags, r.dates));
  // Inside CI the tags also go to /generated-tags.json (SPEC 12); the test redirects that file per run.
  const written = existsSync(r.generatedTagsFile);
  expect.soft(written, `IMAGE_BUILDER_GENERATED_TAGS_FILE (${r.generatedTagsFile}) was not written`).toBe(true);
  if (written) expect.soft(JSON.parse(readFileSync(r.generatedTagsFile, 'utf8'))).toEqual(tags);
}

describe.each(ERAS)('job-file corpus: %s', (era) => {
  const cases = CASES.filter((c) => c.era === era);
  const named = (list: JobCase[]) => list.map((c) => [c.name, c] as const);
  // Concurrent tests must use their own context's expect (soft assertions are recorded on it).
  it.concurrent.for(named(cases))('%s: --dry-run', { timeout: 30_000 }, async ([, c], { expect }) => checkDryRun(expect, c));
  const parseTags = cases.filter((c) => modeOf(c.args) !== 'sign-only' && !c.parseTagsOnly);
  it.concurrent.for(named(parseTags))('%s: --parse-tags-only', { timeout: 30_000 }, async ([, c], { expect }) => checkParseTagsOnly(expect, c));
});

describe('the corpus itself', () => {
  const byEra = (era: string) => CASES.filter((c) => c.era === era);

  it('holds every file, with unique case names', () => {
    expect(ERAS).toHaveLength(CORPUS_FILES.length);
    const names = CASES.map((c) => `${c.era}/${c.name}`);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('covers the 2024 ProwJobs in their variety', () => {
    const prow = byEra('prow-2024');
    expect(prow.length).toBeGreaterThanOrEqual(25);
    expect(new Set(prow.map((c) => c.expect.backend))).toEqual(new Set(['kaniko', 'buildkit', 'ado']));
    expect(new Set(prow.map((c) => c.env.JOB_TYPE))).toEqual(new Set(['presubmit', 'postsubmit']));
    const has = (pred: (c: JobCase) => boolean) => prow.some(pred);
    expect(has((c) => c.expect.backend === 'ado' && !!flagValue(c.args, 'env-file'))).toBe(true);
    expect(has((c) => c.expect.backend === 'kaniko' && !!flagValue(c.args, 'env-file'))).toBe(true);
    expect(has((c) => c.args.some((a) => a.includes('{{ .Env "PULL_BASE_REF" }}')))).toBe(true);
    expect(has((c) => c.args.some((a) => /^--?export-tags/.test(a)))).toBe(true);
    expect(has((c) => c.args.some((a) => a.startsWith('--platform')))).toBe(true);
    expect(has((c) => c.args.some((a) => /^-name=/.test(a)))).toBe(true);
  });

  it.each(['github-action-2024', 'github-action-2026'])('runs %s with each of the five event kinds, with default inputs and with inputs set', (era) => {
    const cases = byEra(era);
    for (const event of ['pull_request_target', 'push', 'merge_group', 'workflow_dispatch', 'schedule']) {
      expect(cases.filter((c) => c.env.GITHUB_EVENT_NAME === event && c.name.endsWith('-defaults')), event).toHaveLength(1);
      expect(cases.filter((c) => c.env.GITHUB_EVENT_NAME === event && c.name.endsWith('-inputs')), event).toHaveLength(1);
      expect(existsSync(join(JOBS, 'events', `${event}.json`))).toBe(true);
    }
  });

  it('runs the ADO pipeline steps with every JOB_TYPE, parse-tags-only with and without an env file, and sign-only', () => {
    const steps = byEra('ado-pipeline');
    const kinds = ['presubmit', 'postsubmit', 'merge_group', 'workflow_dispatch', 'schedule'];
    for (const mode of ['parse-tags-only', 'sign-only'] as const) {
      expect(new Set(steps.filter((c) => modeOf(c.args) === mode).map((c) => c.env.JOB_TYPE)), mode).toEqual(new Set(kinds));
    }
    expect(steps.some((c) => modeOf(c.args) === 'parse-tags-only' && flagValue(c.args, 'env-file'))).toBe(true);
    expect(steps.some((c) => modeOf(c.args) === 'parse-tags-only' && !flagValue(c.args, 'env-file'))).toBe(true);
  });

  it.each(CASES.filter((c) => c.tagBase64))('$name: tagBase64 is the decoded --tag-base64', (c) => {
    expect(Buffer.from(flagValue(c.args, 'tag-base64') ?? '', 'base64').toString()).toBe(c.tagBase64);
  });

  it.each(CASES)('$name: its checkout, config and event exist, and its local-backend paths too', (c) => {
    const checkout = join(JOBS, 'repo', c.checkout);
    expect(statSync(checkout).isDirectory()).toBe(true);
    expect(existsSync(join(JOBS, 'configs', c.config))).toBe(true);
    if (c.event) expect(existsSync(join(JOBS, 'events', c.event))).toBe(true);
    if (modeOf(c.args) !== 'build' || c.expect.backend === 'ado') return;
    const context = join(checkout, flagValue(c.args, 'context') || '.');
    const dockerfile = flagValue(c.args, 'dockerfile') || 'Dockerfile';
    expect(statSync(context).isDirectory()).toBe(true);
    // pull-edge-agent-build names its Dockerfile from the repository root, as kaniko allowed (see README)
    expect(existsSync(join(context, dockerfile)) || existsSync(join(checkout, dockerfile)), dockerfile).toBe(true);
    const envFile = flagValue(c.args, 'env-file');
    if (envFile) expect(existsSync(join(context, dockerfile, '..', envFile)), envFile).toBe(true);
  });

  it.each(CASES.filter((c) => modeOf(c.args) !== 'sign-only' && !c.parseTagsOnly))('$name: every expected tag has a value for --parse-tags-only', (c) => {
    expect(c.expect.tags?.every((t) => t.value !== undefined)).toBe(true);
  });
});
