import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { adoLog, hugeLog, startFakeAdo, type FakeAdo, type FakeAdoScenario } from '../support/fake-ado.js';
import { baseEnv, BIN, FIXTURES, ROOT, tempDir, type CliResult, removeTempDirs } from '../support/cli.js';

afterAll(removeTempDirs);

const SHA = 'd9e0b24a3dc14baa08a6fbd7a2cd0f1a2c9d8e7f';
const PAT = 'pat-7q3k9x2m4n6b8v1c5z0l';
const OIDC = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmt5bWEifQ.oidc-signature-9f8e7d';
const CLIENT_SECRET = 'sp~secret.Vq8Q~abcdefghijklmnop';
const IMAGE = 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240501-d9e0b24a';

const REPORT = {
  status: 'Succeeded',
  pushed: true,
  signed: true,
  image_name: 'test-infra/app',
  images_list: [IMAGE, 'europe-docker.pkg.dev/kyma-project/prod/test-infra/app:latest'],
  digest: 'sha256:4f1c7e0a9b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e',
  tags: ['v20240501-d9e0b24a', 'latest'],
  repository_path: 'europe-docker.pkg.dev/kyma-project/prod/',
  architectures: ['linux/amd64', 'linux/arm64'],
};

/** The pipeline's log: build output, the signing command line, then the report block. */
const LOG = adoLog([
  '##[section]Starting: build_image',
  'Step 1/3 : FROM scratch',
  `[command]/usr/bin/python3 scripts/sign.py --images-to-sign=${IMAGE}`,
  '##[section]Starting: prepare_image_build_report',
  '---IMAGE BUILD REPORT---',
  ...JSON.stringify(REPORT, null, 4).split('\n'),
  '---END OF IMAGE BUILD REPORT---',
  '##[section]Finishing: prepare_image_build_report',
]);

let fake: FakeAdo | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(scenario: Partial<FakeAdoScenario> = {}, config: { timeout?: string } = {}): Promise<{ fake: FakeAdo; dir: string; config: string }> {
  fake = await startFakeAdo({ pats: [PAT], log: LOG, ...scenario });
  const dir = tempDir('ib-ado-');
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    [
      'ado-config:',
      `  ado-organization-url: ${fake.orgUrl}`,
      '  ado-project-name: my project',
      '  ado-pipeline-id: 14902',
      '  ado-pipeline-version: 3',
      '  ado-retry-strategy: {attempts: 3, delay: 10ms}',
      '  ado-refresh-interval: 10ms',
      `  ado-timeout: ${config.timeout ?? '30s'}`,
      '',
    ].join('\n'),
  );
  return { fake, dir, config: path };
}

const prow = (extra: Record<string, string> = {}): Record<string, string> =>
  baseEnv({ CI: 'true', PROW_JOB_ID: 'job', REPO_OWNER: 'kyma-project', REPO_NAME: 'test-infra', JOB_TYPE: 'postsubmit', PULL_BASE_SHA: SHA, ...extra });

const buildArgs = (config: string, dir: string, extra: string[] = []): string[] => [
  '--build-in-ado', `--config=${config}`, '--name=test-infra/app', '--context=images/app', '--dockerfile=Dockerfile',
  '--tag', 'latest', '--platform', 'linux/amd64,linux/arm64', '--build-arg', 'GREETING=hi', `--log-dir=${join(dir, 'logs')}`, ...extra,
];

/** The real CLI; `onStart` may signal it. Bounded by timeoutMs. */
function cli(args: string[], env: Record<string, string>, onStart?: (pid: number) => void, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('spawn', () => onStart?.(child.pid!));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const runStarts = (f: FakeAdo) => f.requests.filter((r) => r.method === 'POST' && /\/_apis\/pipelines\/14902\/runs/.test(r.url));
const polls = (f: FakeAdo) => f.requests.filter((r) => r.method === 'GET' && /\/runs\/\d+$/.test(r.url));

describe('the ado backend through the real CLI against a fake Azure DevOps', () => {
  it('runs the pipeline to success: exact request, discovery, progress, log printed, report written, exit 0', async () => {
    const { fake, dir, config } = await setup({ inProgressPolls: 2 });
    const reportPath = join(dir, 'out/report.json');
    const r = await cli(buildArgs(config, dir, [`--build-report-path=${reportPath}`, `--oidc-token=${OIDC}`]), prow({ ADO_PAT: PAT }));
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');

    // The library's discovery: resource areas, then the locations of each area it uses.
    const discovery = fake.requests.filter((q) => q.method === 'OPTIONS').map((q) => q.url);
    expect(discovery).toEqual(expect.arrayContaining(['/org/_apis/Location', '/org/_apis/pipelines', '/org/_apis/build']));
    expect(fake.requests.some((q) => q.method === 'GET' && q.url === '/org/_apis/ResourceAreas')).toBe(true);

    const [start] = runStarts(fake);
    expect(start?.url).toBe('/org/my%20project/_apis/pipelines/14902/runs?pipelineVersion=3');
    expect(start?.headers.authorization).toBe(`Basic ${Buffer.from(`PAT:${PAT}`).toString('base64')}`);
    expect(start?.headers.accept).toMatch(/api-version=7\.2-preview\.1/);
    expect(JSON.parse(start!.body)).toEqual({
      previewRun: false,
      templateParameters: {
        RepoName: 'test-infra', RepoOwner: 'kyma-project', JobType: 'postsubmit', PullBaseSHA: SHA, Name: 'test-infra/app',
        Dockerfile: 'Dockerfile', Context: 'images/app', ExportTags: 'false', BuildArgs: 'GREETING=hi',
        Tags: Buffer.from('latest=latest').toString('base64'), Platforms: 'linux/amd64,linux/arm64', Authorization: OIDC,
      },
    });

    // First poll right away, then until completed: two inProgress answers, then completed.
    expect(polls(fake)).toHaveLength(3);
    expect(r.stderr).toContain(`ADO run 1000 started: ${fake.url}/org/my%20project/_build/results?buildId=1000`);
    expect(r.stderr.match(/ADO run 1000: inProgress, [\d.]+s elapsed/g)).toHaveLength(2);
    expect(r.stderr).toMatch(/ADO run 1000: completed, [\d.]+s elapsed/);
    // The last log (id 3) is printed, not the others.
    expect(fake.requests.some((q) => q.url === '/org/my%20project/_apis/build/builds/1000/logs/3')).toBe(true);
    expect(r.stderr).toContain('Step 1/3 : FROM scratch');
    expect(r.stderr).not.toContain('not the last log');
    expect(r.stderr).toContain(`built ${IMAGE} ${REPORT.digest}`);
    expect(JSON.parse(readFileSync(reportPath, 'utf8'))).toEqual(REPORT);
    // The pipeline's log is kept in the log folder too, as a local build's would be.
    const logFile = readFileSync(join(dir, 'logs/build_build.log'), 'utf8');
    expect(logFile).toContain('Step 1/3 : FROM scratch');
    expect(logFile).toContain('---IMAGE BUILD REPORT---');
    // The OIDC token is a parameter: it is sent, but never printed.
    expect(r.stderr).not.toContain(OIDC);
  });

  it.each([
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['partiallySucceeded', 'unknown'],
  ])('a run that ends %s exits 1 naming the result "%s"', async (result, named) => {
    const { dir, config } = await setup({ result });
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ADO run 1000 finished with result "${named}"`);
    expect(r.stderr).toContain('Step 1/3 : FROM scratch');
  });

  it.each<[string, Partial<FakeAdoScenario>, RegExp, number, number]>([
    ['the log list answers 500 on every try', { logListFailure: 500 }, /listing the logs of build 1000 failed: TF400898: An Internal Error Occurred while listing the logs\. \(HTTP 500\)/, 3, 0],
    ['the log list answers 404', { logListFailure: 404 }, /listing the logs of build 1000: Azure DevOps answered without a list of logs/, 1, 0],
    ['the log list is not JSON', { logListFailure: 'malformed' }, /listing the logs of build 1000: Azure DevOps answered without a list of logs/, 1, 0],
    ['the connection drops on the log list', { logListFailure: 'drop' }, /listing the logs of build 1000 failed: .*(socket hang up|ECONNRESET)/, 3, 0],
    ['the last log answers 404', { lastLogFailure: 404 }, /downloading log 3 of build 1000 failed: HTTP 404: .*log 3 is not available \(404\)/, 1, 1],
    ['the last log answers 500 on every try', { lastLogFailure: 500 }, /downloading log 3 of build 1000 failed: HTTP 500: .*log 3 is not available \(500\)/, 1, 3],
    ['the connection drops in the middle of the last log', { lastLogFailure: 'drop' }, /reading log 3 of build 1000 broke off after \d+ KiB \(what was read is in .*build_build\.log\): (aborted|terminated|socket hang up)/, 1, 1],
  ])('a succeeded run exits 0 when %s, with a warning naming what could not be read', async (_, failure, what, listRequests, logRequests) => {
    const { fake, dir, config } = await setup(failure);
    const output = join(dir, 'github_output');
    writeFileSync(output, '');
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT, GITHUB_OUTPUT: output }));
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: could not read the log of ADO run 1000: ${what.source}`));
    expect(r.stderr).toContain(`warning: ADO run 1000 succeeded, but its log could not be read: which images were built is unknown; see ${fake.url}/org/my%20project/_build/results?buildId=1000\n`);
    expect(fake.requests.filter((q) => /\/builds\/1000\/logs$/.test(q.url))).toHaveLength(listRequests);
    expect(fake.requests.filter((q) => /\/builds\/1000\/logs\/3$/.test(q.url))).toHaveLength(logRequests);
    expect(r.stderr).not.toMatch(/^built /m);
    expect(r.stderr).not.toContain(PAT);
  });

  it.each<[string, Partial<FakeAdoScenario>]>([
    ['failed, the log list answering 500', { result: 'failed', logListFailure: 500 }],
    ['canceled, the last log answering 404', { result: 'canceled', lastLogFailure: 404 }],
  ])('a run that %s still exits 1 naming the result', async (_, scenario) => {
    const { dir, config } = await setup(scenario);
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: could not read the log of ADO run 1000: (listing the logs|downloading log 3) of build 1000 failed/);
    expect(r.stderr).toContain(`error: ADO run 1000 finished with result "${scenario.result}"`);
    expect(r.stderr).not.toContain('succeeded, but its log could not be read');
  });

  it('a preview prints the final YAML on stdout and sends the YAML file as yamlOverride', async () => {
    const finalYaml = 'stages:\n- stage: Build\n  jobs:\n  - job: build_image\n';
    const { fake, dir, config } = await setup({ previewYaml: finalYaml });
    const yamlPath = join(dir, 'pipeline.yaml');
    writeFileSync(yamlPath, 'extends:\n  template: oci-image-builder.yaml\n');
    const r = await cli(['--build-in-ado', `--config=${config}`, '--ado-preview-run', `--ado-preview-run-yaml-path=${yamlPath}`], prow({ ADO_PAT: PAT }));
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(finalYaml);
    const body = JSON.parse(runStarts(fake)[0]!.body);
    expect(body.previewRun).toBe(true);
    expect(body.yamlOverride).toBe('extends:\n  template: oci-image-builder.yaml\n');
    expect(body.templateParameters.Name).toBe('');
    expect(polls(fake)).toHaveLength(0);
  });

  it('a preview whose YAML ADO rejects exits 1 with ADO\'s message', async () => {
    const message = "/pipeline.yaml (Line: 2, Col: 3): Unexpected value 'stepz'";
    const { fake, dir, config } = await setup({ previewError: message });
    const yamlPath = join(dir, 'pipeline.yaml');
    writeFileSync(yamlPath, 'stepz: []\n');
    const r = await cli(['--build-in-ado', `--config=${config}`, '--ado-preview-run', `--ado-preview-run-yaml-path=${yamlPath}`], prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    // A 400 is final: one try.
    expect(runStarts(fake)).toHaveLength(1);
  });

  it('survives transient 500s on every call (discovery, start, poll, logs, log) within ado-retry-strategy', async () => {
    const { fake, dir, config } = await setup({ transientFailures: 2, discoveryFailures: 2 });
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: discovering the APIs of .* failed: TF400898: An Internal Error Occurred.*retrying in \d+ ms \(try 1 of 3\)/);
    // A 500 on the start may hide a started run: each is checked (no run) before the start is sent again.
    expect(r.stderr).toMatch(/warning: starting pipeline 14902 failed: TF400898.*\(HTTP 500\); Azure DevOps may have started the run: looking for it/);
    expect(r.stderr).toMatch(/warning: no run of ours was started; retrying in \d+ ms \(try 2 of 3\)/);
    expect(runStarts(fake)).toHaveLength(3);
    expect(polls(fake).length).toBeGreaterThanOrEqual(3);
    expect(fake.requests.filter((q) => /\/builds\/1000\/logs$/.test(q.url))).toHaveLength(3);
    expect(fake.requests.filter((q) => /\/logs\/3$/.test(q.url))).toHaveLength(3);
    expect(fake.runs).toHaveLength(1);
    expect(r.stderr).toContain(`built ${IMAGE}`);
  });

  it('does not start again when the 500s persist: whether a run started cannot be checked', async () => {
    const { fake, dir, config } = await setup({ transientFailures: 100 });
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(runStarts(fake)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /error: starting pipeline 14902 failed: TF400898.*\(HTTP 500\); whether Azure DevOps started a run could not be checked \(listing the runs of pipeline 14902 .* failed: TF400898.*\): look for a run with these parameters at .*\/org\/my%20project\/_build\?definitionId=14902 before running this job again\n/,
    );
  });

  it('a 401 is final: exit 1 with a hint about the token, no retry', async () => {
    const { fake, dir, config } = await setup({ unauthorized: true });
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: discovering the APIs of .* failed: .*401.*check the token/);
    expect(r.stderr).not.toMatch(/retrying/);
    // The library's own discovery retries are off: one request, then the 401 ends the run.
    expect(fake.requests).toHaveLength(1);
    expect(r.stderr).not.toContain(PAT);
  });

  it('gives up waiting at ado-timeout: exit 1 naming the timeout and the run, which is cancelled', async () => {
    const { fake, dir, config } = await setup({ neverComplete: true }, { timeout: '400ms' });
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: ADO run 1000 did not complete within 0\.4s \(ado-timeout\); it was asked to cancel\n/);
    expect(polls(fake).length).toBeGreaterThan(3);
    expect(fake.runs[0]!.cancelRequested).toBe(true);
  });

  it('SIGTERM during a run asks ADO to cancel it, then exits non-zero', async () => {
    const { fake, dir, config } = await setup({ neverComplete: true });
    let pid = 0;
    const done = cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }), (p) => (pid = p));
    await until(() => polls(fake).length >= 2, 'the CLI to poll the run');
    process.kill(pid, 'SIGTERM');
    const r = await done;
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const cancel = fake.requests.find((q) => q.method === 'PATCH');
    expect(cancel?.url).toBe('/org/my%20project/_apis/build/builds/1000');
    expect(JSON.parse(cancel!.body)).toEqual({ status: 4 });
    expect(r.stderr).toContain('Azure DevOps accepted the cancellation of run 1000');
  });

  it('SIGTERM while the log is read exits non-zero, even for a succeeded run', async () => {
    // A log that never ends: the CLI is still reading it when stopped.
    let sent = false;
    const endless = () => new Readable({ read() { if (!sent) this.push(adoLog(['Step 1/3 : FROM scratch'])); sent = true; } });
    const { fake, dir, config } = await setup({ log: endless });
    let pid = 0;
    const done = cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }), (p) => (pid = p));
    await until(() => fake.requests.some((q) => /\/logs\/3$/.test(q.url)), 'the CLI to read the last log');
    // Stopped once the first lines have arrived (the log file has them), not merely requested.
    const logFile = join(dir, 'logs/build_build.log');
    await until(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Step 1/3'), 'the first log lines');
    process.kill(pid, 'SIGTERM');
    const r = await done;
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toContain('Step 1/3 : FROM scratch');
    expect(r.stderr).toContain('error: stopped by signal while reading the log of ADO run 1000 (its result: succeeded)');
  });

  it('in GitHub Actions writes images, adoResult, digest, architectures and build-report outputs and a step summary', async () => {
    const { dir, config } = await setup();
    const output = join(dir, 'github_output');
    const summary = join(dir, 'step_summary');
    writeFileSync(output, '');
    const env = baseEnv({
      CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(FIXTURES, 'github/push.json'),
      GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ADO_PAT: PAT,
    });
    const r = await cli(buildArgs(config, dir, [`--oidc-token=${OIDC}`]), env);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const outputs = parseGithubOutput(readFileSync(output, 'utf8'));
    expect(JSON.parse(outputs.images!)).toEqual(REPORT.images_list);
    expect(outputs.adoResult).toBe('succeeded');
    expect(outputs.digest).toBe(REPORT.digest);
    expect(JSON.parse(outputs.architectures!)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(JSON.parse(outputs['build-report']!)).toEqual(REPORT);
    const table = readFileSync(summary, 'utf8');
    expect(table).toContain('**succeeded**');
    expect(table).toContain(`| \`${IMAGE}\` | \`${REPORT.digest}\` | linux/amd64, linux/arm64 |`);
  });

  it('takes the images from --images-to-sign= lines when the log has no report', async () => {
    const log = adoLog([`[command]python3 sign.py --images-to-sign=${IMAGE} --images-to-sign=${IMAGE}`, 'done']);
    const { dir, config } = await setup({ log });
    const reportPath = join(dir, 'report.json');
    const r = await cli(buildArgs(config, dir, [`--build-report-path=${reportPath}`]), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the log has no build report; images taken from its --images-to-sign= lines');
    expect(JSON.parse(readFileSync(reportPath, 'utf8')).images_list).toEqual([IMAGE]);
  });

  it('streams a huge log (64 MB) and still finds the report at its end', async () => {
    const tail = adoLog(['---IMAGE BUILD REPORT---', JSON.stringify(REPORT), '---END OF IMAGE BUILD REPORT---']);
    const { dir, config } = await setup({ log: hugeLog(64 << 20, tail) });
    const r = await cli(buildArgs(config, dir, ['--silent']), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`built ${IMAGE}`);
    expect(r.stderr.length).toBeLessThan(20_000);
  });

  it('never prints a secret: service principal, OIDC token and bearer token masked everywhere, even with --debug', async () => {
    const sp = { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: CLIENT_SECRET };
    const echoing = (token: string) => adoLog([`Authorization=${OIDC}`, `bearer ${token} secret ${CLIENT_SECRET}`, ...LOG.split('\r\n').filter(Boolean)]);
    const { fake, dir, config } = await setup({ servicePrincipal: sp });
    // The log echoes every secret, as a careless pipeline step might; it is served after the token exists.
    fake.scenario.log = '';
    const output = join(dir, 'github_output');
    const reportPath = join(dir, 'report.json');
    const env = baseEnv({
      CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(FIXTURES, 'github/push.json'),
      GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_OUTPUT: output, AZURE_AUTHORITY_HOST: fake.url,
      AZURE_CLIENT_ID: sp.clientId, AZURE_TENANT_ID: sp.tenantId,
    });
    const started = cli(buildArgs(config, dir, ['--debug', `--oidc-token=${OIDC}`, `--azure-client-secret=${CLIENT_SECRET}`, `--build-report-path=${reportPath}`]), env);
    await until(() => fake.issuedTokens.length > 0, 'the token request');
    fake.scenario.log = echoing(fake.issuedTokens[0]!);
    const r = await started;
    expect(r.code).toBe(0);
    const bearer = fake.issuedTokens[0]!;
    const token = fake.requests.find((q) => q.url === '/tenant-1/oauth2/v2.0/token');
    expect(Object.fromEntries(new URLSearchParams(token!.body))).toEqual({
      client_id: 'client-1', client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: '499b84ac-1321-427f-aa17-267ca6975798/.default',
    });
    expect(runStarts(fake)[0]!.headers.authorization).toBe(`Bearer ${bearer}`);
    const everything = [r.stdout, r.stderr, readFileSync(output, 'utf8'), readFileSync(reportPath, 'utf8'), readFileSync(join(dir, 'logs/build_build.log'), 'utf8')].join('\n');
    for (const secret of [OIDC, CLIENT_SECRET, bearer]) expect(everything).not.toContain(secret);
    expect(r.stderr).toContain('Authorization=***');
    expect(r.stderr).toMatch(/debug: /);
  });

  it('the pipeline\'s log never goes through a symbolic link planted in the log folder', async () => {
    const { dir, config } = await setup();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(join(dir, 'logs'));
    symlinkSync(victim, join(dir, 'logs/build_build.log'));
    const r = await cli(buildArgs(config, dir), prow({ ADO_PAT: PAT }));
    expect(r.code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'logs/build_build.log')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'logs/build_build.log'), 'utf8')).toContain('Step 1/3 : FROM scratch');
    expect(r.stderr).toMatch(/warning: .*build_build\.log is a symbolic link .*not followed/);
  });

  it('secret-looking build args and pipeline parameters echoed by the pipeline are masked in every channel', async () => {
    const npm = 'npm_Zx81kQ0pLm';
    const deploy = 'dpl-Hh42nnWq0x';
    const { dir, config } = await setup({ log: adoLog([`BuildArgs=GREETING=hi,NPM_TOKEN=${npm}`, `DEPLOY_TOKEN=${deploy} and again ${npm}`, ...LOG.split('\r\n').filter(Boolean)]) });
    const output = join(dir, 'github_output');
    const env = baseEnv({
      CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(FIXTURES, 'github/push.json'),
      GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_OUTPUT: output, ADO_PAT: PAT,
    });
    const r = await cli(buildArgs(config, dir, ['--debug', `--build-arg=NPM_TOKEN=${npm}`, `--ado-param=DEPLOY_TOKEN=${deploy}`]), env);
    expect(r.code).toBe(0);
    // The pipeline gets the real values; people and files get ***.
    expect(JSON.parse(runStarts(fake!)[0]!.body).templateParameters).toMatchObject({ BuildArgs: `GREETING=hi,NPM_TOKEN=${npm}`, DEPLOY_TOKEN: deploy });
    const everything = [r.stdout, r.stderr, readFileSync(output, 'utf8'), readFileSync(join(dir, 'logs/build_build.log'), 'utf8')].join('\n');
    expect(everything).not.toContain(npm);
    expect(everything).not.toContain(deploy);
    expect(r.stderr).toContain('NPM_TOKEN=***');
    expect(r.stderr).toContain('DEPLOY_TOKEN=*** and again ***');
  });

  it('a wrong client secret fails with the identity platform\'s reason, the secret not shown', async () => {
    const { fake, dir, config } = await setup({ servicePrincipal: { tenantId: 't', clientId: 'c', clientSecret: 'right-secret' } });
    const r = await cli(buildArgs(config, dir, ['--azure-client-id=c', '--azure-tenant-id=t', `--azure-client-secret=${CLIENT_SECRET}`]), prow({ AZURE_AUTHORITY_HOST: fake.url }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid_client: AADSTS7000215: Invalid client secret provided.');
    expect(r.stderr).not.toContain(CLIENT_SECRET);
    expect(runStarts(fake)).toHaveLength(0);
  });

  it('without credentials exits 2 before any call', async () => {
    const { fake, dir, config } = await setup();
    const r = await cli(buildArgs(config, dir), prow());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Azure DevOps credentials: pass --azure-access-token, set ADO_PAT');
    expect(fake.requests).toHaveLength(0);
  });

  it('with missing parameters exits 2 naming them before any call', async () => {
    const { fake, dir, config } = await setup();
    // Outside CI without --repo: the repository is unknown.
    const r = await cli(buildArgs(config, dir), baseEnv({ ADO_PAT: PAT, PULL_BASE_SHA: SHA }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: the ADO pipeline needs parameters that are not known: RepoName \(.*\), RepoOwner \(.*--repo=org\/repo outside CI\)/);
    expect(fake.requests).toHaveLength(0);
  });

  it('--dry-run prints the request with the Authorization parameter and every credential as ***, and calls nothing', async () => {
    const { fake, dir, config } = await setup();
    const r = await cli(buildArgs(config, dir, ['--dry-run', `--oidc-token=${OIDC}`, `--azure-access-token=${PAT}`, '--build-arg', 'NPM_TOKEN=npm_secret_1']), prow());
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.ado).toMatchObject({
      organizationUrl: fake.orgUrl,
      project: 'my project',
      pipelineId: 14902,
      pipelineVersion: 3,
      call: `POST ${fake.orgUrl}/my%20project/_apis/pipelines/14902/runs`,
      credential: { source: '--azure-access-token', scheme: 'basic', token: '***' },
    });
    expect(plan.ado.body.templateParameters.Authorization).toBe('***');
    expect(plan.ado.body.templateParameters.BuildArgs).toBe('GREETING=hi,NPM_TOKEN=***');
    expect(r.stdout + r.stderr).not.toContain(PAT);
    expect(r.stdout + r.stderr).not.toContain(OIDC);
    expect(r.stdout + r.stderr).not.toContain('npm_secret_1');
    expect(fake.requests).toHaveLength(0);
  });

  it('--dry-run without ado-config is bad input: exit 2 naming it, nothing on stdout', async () => {
    const dir = tempDir('ib-ado-');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'registry: example.com/prod\n');
    const r = await cli(buildArgs(config, dir, ['--dry-run']), prow());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/ado-config is not set/);
  });
});

/** GITHUB_OUTPUT heredoc entries: name<<DELIM, value lines, DELIM. */
function parseGithubOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.indexOf(m[2]!, i + 1);
    out[m[1]!] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return out;
}
