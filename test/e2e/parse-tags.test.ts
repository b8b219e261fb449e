import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, utcDate, writeConfig, removeTempDirs } from '../support/cli.js';

afterAll(removeTempDirs);

const CONFIG = writeConfig(`
registry: europe-docker.pkg.dev/kyma-project/prod
dev-registry: europe-docker.pkg.dev/kyma-project/dev
default-commit-tag: {name: default_tag, value: "v{{ .Date }}-{{ .ShortSHA }}"}
default-merge-group-tag: {name: default_tag, value: "0.0.0-MG.{{ .ShortSHA }}", validation: "^0\\\\.0\\\\.0-MG\\\\.[0-9a-f]{8}$"}
additional-pr-tag: {name: semver_pr_tag, value: "v{{ .PRNumber }}-PR", validation: "^v[0-9]+-PR$"}
`);

const prow = (extra: Record<string, string>) =>
  baseEnv({ CI: 'true', PROW_JOB_ID: 'a1b2', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', BUILD_ID: '77', ...extra });
const github = (event: string, extra: Record<string, string> = {}) =>
  baseEnv({ CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: join(FIXTURES, 'github', `${event}.json`), GITHUB_REF: 'refs/heads/main', ...extra });
const jenkins = (extra: Record<string, string>) =>
  baseEnv({ CI: 'true', JENKINS_HOME: '/var/jenkins', GIT_URL: 'https://github.com/kyma-project/test-infra.git', BUILD_NUMBER: '12', ...extra });

/** Expected tags; the date is read before and after the run so a run across midnight still matches. */
async function parseTags(args: string[], env: Record<string, string>) {
  const before = utcDate();
  const r = await runCli(['--parse-tags-only', `--config=${CONFIG}`, ...args], { env });
  return { ...r, dates: [before, utcDate()] };
}

describe('--parse-tags-only through the real CLI', () => {
  it.each([
    {
      system: 'Prow postsubmit',
      env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }),
      args: ['--tag', 'latest'],
      expected: (date: string) => [{ name: 'latest', value: 'latest' }, { name: 'default_tag', value: `v${date}-d9e0b24a` }],
    },
    {
      system: 'Prow presubmit',
      env: prow({ JOB_TYPE: 'presubmit', PULL_NUMBER: '42', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f', PULL_PULL_SHA: 'aaaabbbbccccddddeeeeffff0000111122223333' }),
      args: ['-tag', 'foo=bar-{{ .ShortSHA }}'],
      expected: () => [{ name: 'foo', value: 'bar-d9e0b24a' }, { name: 'semver_pr_tag', value: 'v42-PR' }, { name: 'default_tag', value: 'PR-42' }],
    },
    {
      system: 'GitHub pull_request_target',
      env: github('pull_request_target'),
      args: [],
      expected: () => [{ name: 'semver_pr_tag', value: 'v1234-PR' }, { name: 'default_tag', value: 'PR-1234' }],
    },
    {
      system: 'GitHub pull_request',
      env: github('pull_request', { GITHUB_REF: 'refs/pull/5678/merge' }),
      args: ['--tag={{ .CommitSHA }}'],
      expected: () => [{ name: 'CommitSHA', value: 'f64993875b7d7bb13fc8aa2fa68b6bb2333ebebe' }, { name: 'semver_pr_tag', value: 'v5678-PR' }, { name: 'default_tag', value: 'PR-5678' }],
    },
    {
      system: 'GitHub push',
      env: github('push'),
      args: ['--tag', 'v{{ .ShortSHA }}-{{ .Date }}'],
      expected: (date: string) => [{ name: 'vShortSHA-Date', value: `v616082eb-${date}` }, { name: 'default_tag', value: `v${date}-616082eb` }],
    },
    {
      system: 'GitHub merge_group',
      env: github('merge_group', { GITHUB_SHA: 'bc4fcc98d7cf33388fcb13862086287fbb9238b5', GITHUB_REF: 'refs/heads/gh-readonly-queue/main/pr-4321-1ef4f69d9900a2d95593fb6c9b41695071a2679a' }),
      args: [],
      expected: () => [{ name: 'default_tag', value: '0.0.0-MG.bc4fcc98' }],
    },
    {
      system: 'GitHub workflow_dispatch',
      env: github('workflow_dispatch', { GITHUB_SHA: '7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5', BRANCH: 'release 1.2' }),
      args: ['--tag', 'from-{{ .Env "BRANCH" }}'],
      expected: (date: string) => [{ name: 'from-EnvBRANCH', value: 'from-release-1.2' }, { name: 'default_tag', value: `v${date}-7ae395d4` }],
    },
    {
      system: 'GitHub schedule',
      env: github('schedule', { GITHUB_SHA: '68a5bbf4c63f59164ce3aa0fd3bb0c0a30ff4a55' }),
      args: [],
      expected: (date: string) => [{ name: 'default_tag', value: `v${date}-68a5bbf4` }],
    },
    {
      system: 'Jenkins branch build',
      env: jenkins({ GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567' }),
      args: ['--tag', 'stable'],
      expected: (date: string) => [{ name: 'stable', value: 'stable' }, { name: 'default_tag', value: `v${date}-01234567` }],
    },
    {
      system: 'Jenkins pull request',
      env: jenkins({ CHANGE_ID: '9', GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567', CHANGE_BASE_SHA: 'fedcba9876543210fedcba9876543210fedcba98', CHANGE_BRANCH: 'feature-9' }),
      args: [],
      expected: () => [{ name: 'semver_pr_tag', value: 'v9-PR' }, { name: 'default_tag', value: 'PR-9' }],
    },
    {
      system: 'Azure DevOps postsubmit',
      env: baseEnv({ CI: 'true', BUILD_BUILDID: '5', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'cafebabecafebabecafebabecafebabecafebabe' }),
      args: [],
      expected: (date: string) => [{ name: 'default_tag', value: `v${date}-cafebabe` }],
    },
    {
      system: 'outside CI with PULL_BASE_SHA',
      env: baseEnv({ PULL_BASE_SHA: '1234567890abcdef1234567890abcdef12345678' }),
      args: ['--tag', 'latest', '--tag', 'latest'],
      expected: (date: string) => [{ name: 'latest', value: 'latest' }, { name: 'default_tag', value: `v${date}-12345678` }],
    },
  ])('$system', async ({ env, args, expected }) => {
    const r = await parseTags(args, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const tags = JSON.parse(r.stdout);
    expect(r.dates.map((d) => JSON.stringify(expected(d)))).toContain(JSON.stringify(tags));
  });

  it('prints only the JSON on stdout even with --debug, and writes --tags-output-file', async () => {
    const out = join(tempDir(), 'nested', 'tags.json');
    const r = await parseTags(['--debug', '--tag', 'latest', `--tags-output-file=${out}`], prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }));
    expect(r.code).toBe(0);
    const tags = JSON.parse(r.stdout);
    expect(tags[0]).toEqual({ name: 'latest', value: 'latest' });
    expect(r.stderr).toMatch(/debug:/);
    expect(existsSync(out)).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(tags);
  });

  it('inside CI also writes the tags to the generated-tags file, unless --tags-output-file is given; outside CI nothing', async () => {
    const dir = tempDir();
    const generated = join(dir, 'generated-tags.json');
    const env = { ...prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), IMAGE_BUILDER_GENERATED_TAGS_FILE: generated };
    const r = await parseTags(['--tag', 'latest'], env);
    expect(r.code).toBe(0);
    expect(readFileSync(generated, 'utf8')).toBe(r.stdout);
    const chosen = join(dir, 'chosen.json');
    const other = join(dir, 'other.json');
    await parseTags(['--tag', 'other', `--tags-output-file=${chosen}`], { ...env, IMAGE_BUILDER_GENERATED_TAGS_FILE: other });
    expect(existsSync(chosen)).toBe(true);
    expect(existsSync(other)).toBe(false);
    const local = await parseTags(['--tag', 'x'], baseEnv({ PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f', IMAGE_BUILDER_GENERATED_TAGS_FILE: other }));
    expect(local.code).toBe(0);
    expect(existsSync(other)).toBe(false);
  });

  it('an unwritable generated-tags location is no error: the tags are on stdout', async () => {
    const env = { ...prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), IMAGE_BUILDER_GENERATED_TAGS_FILE: '/nonexistent-dir/generated-tags.json' };
    const r = await parseTags(['--tag', 'latest'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toEqual({ name: 'latest', value: 'latest' });
  });

  it('environment variables whose names are not shell identifiers reach {{ .Env }} (the launcher runs no shell)', async () => {
    const r = await parseTags(['--tag', 'v={{ .Env "test-var" }}', '--tag', 'dots={{ .Env "my.var" }}'], { ...baseEnv({ PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), 'test-var': 'dashed', 'my.var': 'dotted' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).slice(0, 2)).toEqual([{ name: 'v', value: 'dashed' }, { name: 'dots', value: 'dotted' }]);
  });

  it('--env-file entries reach {{ .Env }}; a variable already set wins (Go semantics)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'envs'), 'GOLANG_VERSION=1.22.5\nPULL_BASE_REF=from-file\n');
    const env = prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f', PULL_BASE_REF: 'main' });
    const r = await parseTags([`--context=${dir}`, '--env-file=envs', '--tag={{ .Env "GOLANG_VERSION" }}-{{ .ShortSHA }}', '--tag=ref={{ .Env "PULL_BASE_REF" }}'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).slice(0, 2)).toEqual([{ name: 'EnvGOLANG_VERSION-ShortSHA', value: '1.22.5-d9e0b24a' }, { name: 'ref', value: 'main' }]);
    expect(r.stderr).toContain('--env-file is deprecated');
  });

  it('takes --tag-base64 after --tag, and --commit-sha over the CI SHA', async () => {
    const b64 = Buffer.from('one=1.0,two').toString('base64');
    const r = await parseTags(['--tag', 'first', `--tag-base64=${b64}`, '--commit-sha', 'abcdef1234567890abcdef1234567890abcdef12'], github('push'));
    expect(r.code).toBe(0);
    const tags = JSON.parse(r.stdout);
    expect(tags.map((t: { name: string }) => t.name)).toEqual(['first', 'one', 'two', 'default_tag']);
    expect(tags[3].value).toMatch(/-abcdef12$/);
  });

  it.each([
    { what: 'missing Prow variables, all named at once', env: prow({ JOB_TYPE: 'presubmit' }), args: [], messages: [/PULL_NUMBER/, /PULL_BASE_SHA/, /PULL_PULL_SHA/] },
    { what: 'an invalid JOB_TYPE', env: prow({ JOB_TYPE: 'periodic', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), args: [], messages: [/JOB_TYPE/, /periodic/] },
    { what: 'an unknown CI system', env: baseEnv({ CI: 'true' }), args: [], messages: [/cannot determine CI system/] },
    { what: 'an unsupported GitHub event', env: github('issues'), args: [], messages: [/issues/] },
    { what: 'a secret-looking Env variable', env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f', ADO_PAT: 'supersecretvalue123' }), args: ['--tag', 'x-{{ .Env "ADO_PAT" }}'], messages: [/ADO_PAT/] },
    { what: 'an unknown template field', env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), args: ['--tag', 'x={{ .Version }}'], messages: [/tag "x"/, /Version/] },
    { what: 'a tag with two "="', env: prow({ JOB_TYPE: 'postsubmit', PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), args: ['--tag', 'a=b=c'], messages: [/a=b=c/] },
    { what: 'no commit SHA outside CI and outside git', env: baseEnv(), args: ['--context', '/'], messages: [/commit SHA could not be determined/] },
    { what: 'a value that is no OCI tag', env: github('workflow_dispatch', { GITHUB_SHA: '7ae395d4ec2c1ad7e1c05ff6771004eb27cc76b5' }), args: ['--tag', '{{ .Env "GITHUB_REF" }}'], messages: [/EnvGITHUB_REF/, /refs\/heads\/main/] },
    { what: 'an unknown flag', env: baseEnv({ PULL_BASE_SHA: 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f' }), args: ['--tagz', 'x'], messages: [/tagz/] },
  ])('exits 2 on $what, printing nothing on stdout', async ({ env, args, messages }) => {
    const r = await parseTags(args, env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    for (const m of messages) expect(r.stderr).toMatch(m);
    expect(r.stderr).not.toMatch(/supersecretvalue123/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
