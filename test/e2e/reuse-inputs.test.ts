import { execFileSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostPlatform } from '../../src/inputs/platform.js';
import { baseEnv, removeTempDirs, runCli, tempDir, writeConfig } from '../support/cli.js';
import { requireTool } from '../support/tools.js';

/**
 * Every input counts: each one, changed alone, changes the inputs digest that --dry-run prints (an input missing from
 * the digest would let reuse ship a stale image). Through the real CLI; no network, no builder.
 */

afterAll(removeTempDirs);

const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
const haveAttr = requireTool('setfattr', 'apt-get install attr');
const config = writeConfig('registry: 127.0.0.1:9/prod\nreuse: {enabled: true}\n');

function project(dockerfile = 'FROM scratch\nCOPY . /app\n'): string {
  const dir = tempDir('inputs-project');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src/a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'src/b.txt'), 'alpha\n');
  return dir;
}

interface DryInputs {
  digest: string;
  platforms: string[];
  reusable: boolean;
  reason?: string;
  resolved: boolean;
}

async function dryRun(dir: string, args: string[] = []): Promise<{ inputs: DryInputs; commands: string[][] }> {
  const r = await runCli(['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--dry-run', ...args], { env: baseEnv({ PULL_BASE_SHA: SHA }) });
  expect(r.code, r.stderr).toBe(0);
  const unit = JSON.parse(r.stdout).builds[0];
  return { inputs: unit.inputs, commands: unit.commands };
}
const digestOf = async (dir: string, args: string[] = []) => (await dryRun(dir, args)).inputs.digest;

describe('the inputs digest covers every input (--dry-run)', () => {
  it.skipIf(!haveAttr)('an extended attribute of a context file', async () => {
    const dir = project();
    const before = await digestOf(dir);
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'one', join(dir, 'src/a.txt')]);
    const set = await digestOf(dir);
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'two', join(dir, 'src/a.txt')]);
    expect(new Set([before, set, await digestOf(dir)]).size).toBe(3);
  });

  it.skipIf(!haveAttr)('a file capability (security.capability, what setcap cap_net_raw+ep writes)', async () => {
    const dir = project();
    const before = await digestOf(dir);
    // VFS_CAP_REVISION_2 with the effective flag, CAP_NET_RAW (bit 13) permitted.
    execFileSync('setfattr', ['-n', 'security.capability', '-v', '0x0100000200200000000000000000000000000000', join(dir, 'src/a.txt')]);
    expect(await digestOf(dir)).not.toBe(before);
  });

  it('hard links: two names of one file differ from two equal copies', async () => {
    const copies = project();
    const linked = project();
    const same = project();
    copyFileSync(join(copies, 'src/a.txt'), join(copies, 'src/c.txt'));
    linkSync(join(linked, 'src/a.txt'), join(linked, 'src/c.txt'));
    copyFileSync(join(same, 'src/a.txt'), join(same, 'src/c.txt'));
    expect(await digestOf(copies)).toBe(await digestOf(same));
    expect(await digestOf(linked)).not.toBe(await digestOf(copies));
  });

  it('--label and --annotation values', async () => {
    const dir = project();
    const digests = await Promise.all([[], ['--label=team=a'], ['--label=team=b'], ['--annotation=team=a']].map((args) => digestOf(dir, args)));
    expect(new Set(digests).size).toBe(4);
  });

  it('the predefined proxy arguments, undeclared, in both cases; another undeclared argument does not count', async () => {
    const dir = project();
    const digests = await Promise.all(
      [[], ['--build-arg=HTTP_PROXY=http://proxy:3128'], ['--build-arg=http_proxy=http://proxy:3128'], ['--build-arg=NO_PROXY=internal'], ['--build-arg=UNDECLARED=1']].map((args) => digestOf(dir, args)),
    );
    expect(new Set(digests.slice(0, 4)).size).toBe(4);
    expect(digests[4]).toBe(digests[0]);
  });

  it('a proxy URL with credentials enters the digest but never the output: masked in the dry-run and in --debug', async () => {
    const dir = project();
    const args = ['--name=app', `--config=${config}`, `--context=${dir}`, '--backend=buildah', '--build-arg=HTTPS_PROXY=http://proxyuser:pr0xy-s3cret@proxy.internal:3128'];
    const r = await runCli([...args, '--dry-run', '--debug'], { env: baseEnv({ PULL_BASE_SHA: SHA }) });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).builds[0].inputs.buildArgs.HTTPS_PROXY).toBe('***');
    expect(`${r.stdout}${r.stderr}`).not.toContain('pr0xy-s3cret');
    expect(await digestOf(dir, ['--build-arg=HTTPS_PROXY=http://proxyuser:other@proxy.internal:3128'])).not.toBe(JSON.parse(r.stdout).builds[0].inputs.digest);
  });

  it('variants.yaml when the context sends it (COPY . ships it); not when it is .dockerignored', async () => {
    const dir = project();
    writeFileSync(join(dir, 'variants.yaml'), 'blue: {X: "1"}\n');
    const before = await digestOf(dir, ['--variant=blue']);
    writeFileSync(join(dir, 'variants.yaml'), 'blue: {X: "1"}\ngreen: {X: "2"}\n');
    expect(await digestOf(dir, ['--variant=blue'])).not.toBe(before);

    writeFileSync(join(dir, '.dockerignore'), 'variants.yaml\n');
    const ignored = await digestOf(dir, ['--variant=blue']);
    writeFileSync(join(dir, 'variants.yaml'), 'blue: {X: "1"}\ngreen: {X: "3"}\n');
    expect(await digestOf(dir, ['--variant=blue'])).toBe(ignored);
  });

  it('the platforms built: the host\'s when --platform is absent', async () => {
    const dir = project();
    const host = await dryRun(dir);
    expect(host.inputs.platforms).toEqual([hostPlatform()]);
    expect(await digestOf(dir, [`--platform=${hostPlatform()}`])).toBe(host.inputs.digest);
    expect(await digestOf(dir, ['--platform=linux/s390x'])).not.toBe(host.inputs.digest);
  });

  it('ADD of an https or git URL: not reusable, built every time, no inputs label', async () => {
    const url = project('FROM scratch\nADD https://example.com/tool.tar.gz /tool.tar.gz\nCOPY . /app\n');
    const git = project('FROM scratch\nADD git@github.com:org/repo.git /src\n');
    const local = project('FROM scratch\nADD src/a.txt /a.txt\n');
    const [u, g, l] = await Promise.all([dryRun(url), dryRun(git), dryRun(local)]);
    expect(u.inputs).toMatchObject({ reusable: false, reason: expect.stringContaining('https://example.com/tool.tar.gz') });
    expect(g.inputs).toMatchObject({ reusable: false, reason: expect.stringContaining('git@github.com:org/repo.git') });
    expect(l.inputs.reusable).toBe(true);
    expect(l.inputs.reason).toBeUndefined();
    expect(u.commands[0]!.join(' ')).not.toContain('io.image-builder.inputs');
    expect(l.commands[0]!.join(' ')).toContain(`io.image-builder.inputs=${l.inputs.digest}`);
  });

  it('lists who is trusted, per unit: reuse.trusted keys by fingerprint, identities, and the run\'s cosign keys', async () => {
    const dir = project();
    const keys = tempDir('inputs-keys');
    const { generateKeyPairSync } = await import('node:crypto');
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(keys, 'm.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    writeFileSync(join(keys, 'p.key'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const file = writeConfig(
      `registry: 127.0.0.1:9/prod\nreuse:\n  enabled: true\n  trusted:\n    - key: ${join(keys, 'm.pub')}\n    - keyless: {issuer: "https://token.actions.githubusercontent.com", identity: '^https://github\\.com/org/repo/\\.github/workflows/build\\.yml@refs/heads/main$'}\n` +
        `sign-config:\n  enabled-signers: {"*": [prod]}\n  signers:\n    - {name: prod, type: cosign, config: {key: ${join(keys, 'p.key')}}}\n`,
    );
    const r = await runCli(['--name=app', `--config=${file}`, `--context=${dir}`, '--backend=buildah', '--dry-run'], { env: baseEnv({ PULL_BASE_SHA: SHA }) });
    expect(r.code, r.stderr).toBe(0);
    const { trusted } = JSON.parse(r.stdout).builds[0].inputs;
    expect(trusted).toHaveLength(3);
    expect(trusted[0]).toMatchObject({ trusted: `reuse.trusted[0] ${join(keys, 'm.pub')}`, fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(trusted[1]).toMatchObject({ trusted: 'reuse.trusted[1] keyless', issuer: 'https://token.actions.githubusercontent.com', identity: '^https://github\\.com/org/repo/\\.github/workflows/build\\.yml@refs/heads/main$' });
    expect(trusted[2]).toMatchObject({ trusted: 'signer "prod"', key: join(keys, 'p.key') });
  });

  it('an unreadable trusted key is bad input: exit 2 naming the entry, nothing started', async () => {
    const file = writeConfig('registry: 127.0.0.1:9/prod\nreuse: {enabled: true, trusted: [{key: /nonexistent/m.pub}]}\n');
    const r = await runCli(['--name=app', `--config=${file}`, `--context=${project()}`, '--backend=buildah', '--dry-run'], { env: baseEnv({ PULL_BASE_SHA: SHA }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('reuse.trusted[0]');
    expect(r.stderr).toContain('/nonexistent/m.pub');
    expect(r.stdout).toBe('');
  });
});
