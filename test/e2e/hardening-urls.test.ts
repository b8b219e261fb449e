import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, FIXTURES, runCli, tempDir, writeConfig, removeTempDirs } from '../support/cli.js';
import { cosignEncryptedKey, generateTestKey } from '../support/cosign.js';

afterAll(removeTempDirs);

const TOKEN = 'ghs_repoLinkToken7Rw2Zp';
const QUERY_TOKEN = 'qs_secretInQuery3Vn8';
const SHA = '616082eb6857dd9086463486a12564e3b9afbbf0';
const SOURCE = 'org.opencontainers.image.source';

const keyFile = join(tempDir('cosign-key'), 'cosign.key');
writeFileSync(keyFile, cosignEncryptedKey(generateTestKey(), 'unused-in-a-dry-run'));
/** A cosign signer with a key: the dry-run previews the provenance it would attest. */
const CONFIG = writeConfig(`registry: 127.0.0.1:5999/prod
sign-config:
  enabled-signers:
    "*": [cosign-main]
  signers:
    - {name: cosign-main, type: cosign, config: {key: ${keyFile}}}
`);

const context = tempDir('context');
writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\n');

const prow = (repoLink: string) =>
  baseEnv({
    CI: 'true',
    PROW_JOB_ID: 'p-1',
    BUILD_ID: '1790000000000000000',
    REPO_OWNER: 'org',
    REPO_NAME: 'repo',
    JOB_TYPE: 'postsubmit',
    PULL_BASE_SHA: SHA,
    JOB_SPEC: JSON.stringify({ type: 'postsubmit', refs: { org: 'org', repo: 'repo', repo_link: repoLink } }),
  });

const github = (serverUrl: string) =>
  baseEnv({
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: join(FIXTURES, 'github/push.json'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: serverUrl,
    GITHUB_REPOSITORY: 'kyma-project/test-infra',
    GITHUB_RUN_ID: '4242',
  });

interface DryRunPlan {
  gitState: { repositoryUrl?: string };
  builds: Array<{ labels: Record<string, string>; annotations: Record<string, string>; commands: string[][] }>;
  provenance: { statements: Array<{ predicate: { buildDefinition: { resolvedDependencies: Array<Record<string, unknown>> }; runDetails: { builder: { id: string } } } }> };
}

async function dryRun(env: Record<string, string>) {
  const r = await runCli(['--debug', '--dry-run', `--config=${CONFIG}`, '--name=app', `--context=${context}`, '--backend=buildah', '--tag=1.0'], { env: { ...env, BUILDAH: '/nonexistent/buildah' } });
  expect(r.stderr.includes(TOKEN) || r.stdout.includes(TOKEN), 'the token is printed').toBe(false);
  expect(r.stderr.includes(QUERY_TOKEN) || r.stdout.includes(QUERY_TOKEN), 'the query is printed').toBe(false);
  expect(r.code).toBe(0);
  return { ...r, plan: JSON.parse(r.stdout) as DryRunPlan };
}

/** Where the source shows in a dry-run: the git state, labels, annotations, the builder's argv, the provenance. */
function sources(plan: DryRunPlan) {
  const [build] = plan.builds;
  const statement = plan.provenance.statements[0]!;
  return {
    gitState: plan.gitState.repositoryUrl,
    label: build?.labels[SOURCE],
    annotation: build?.annotations[SOURCE],
    argv: build?.commands.flat().filter((arg) => arg.startsWith(`${SOURCE}=`)),
    provenance: statement.predicate.buildDefinition.resolvedDependencies[0],
  };
}

describe('credentials in source URLs never reach labels, annotations, the builder or provenance (--dry-run through the real CLI)', () => {
  it('Prow: a JOB_SPEC repo_link with an access token and a query string', async () => {
    const { plan } = await dryRun(prow(`https://x-access-token:${TOKEN}@github.com/org/repo?token=${QUERY_TOKEN}#readme`));
    const clean = 'https://github.com/org/repo';
    expect(sources(plan)).toEqual({
      gitState: clean,
      label: clean,
      annotation: clean,
      argv: [`${SOURCE}=${clean}`, `${SOURCE}=${clean}`],
      provenance: { uri: `git+${clean}`, digest: { gitCommit: SHA } },
    });
  });

  it('GitHub Enterprise: GITHUB_SERVER_URL with a user, a token and a query string', async () => {
    const { plan } = await dryRun(github(`https://u:${TOKEN}@ghe.example?t=${QUERY_TOKEN}`));
    const clean = 'https://ghe.example/kyma-project/test-infra';
    expect(sources(plan)).toEqual({
      gitState: clean,
      label: clean,
      annotation: clean,
      argv: [`${SOURCE}=${clean}`, `${SOURCE}=${clean}`],
      provenance: { uri: `git+${clean}`, digest: { gitCommit: SHA } },
    });
    expect(plan.provenance.statements[0]?.predicate.runDetails.builder.id).toBe('https://ghe.example/kyma-project/test-infra/actions/runs/4242');
  });

  it('a GITHUB_SERVER_URL that cannot be cleaned: the source is left out, with a warning that does not quote it', async () => {
    const { plan, stderr } = await dryRun(github(`https://u:${TOKEN}@ghe example.com`));
    expect(stderr).toContain(
      'warning: environment variable GITHUB_SERVER_URL (GitHub Actions) is not an http(s) URL: the source of the image (org.opencontainers.image.source, provenance) is left out',
    );
    expect(sources(plan)).toEqual({
      gitState: undefined,
      label: undefined,
      annotation: undefined,
      argv: [],
      provenance: { name: 'source', digest: { gitCommit: SHA } },
    });
    expect(plan.provenance.statements[0]?.predicate.runDetails.builder.id).toBe('https://github.com/kyma-project/test-infra/image-builder/ci/github-actions');
  });
});
