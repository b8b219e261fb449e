import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tempDir as toolsTempDir } from './tools.js';

export { removeTempDirs } from './tools.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/image-builder');
export const FIXTURES = join(ROOT, 'test/fixtures');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Where CI runs of --parse-tags-only write their tags when a test does not choose: never the machine's /. */
const GENERATED_TAGS = join(tmpdir(), `ib-generated-tags-${process.pid}.json`);

/** A minimal environment: nothing of the machine's CI variables leaks into a test. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', IMAGE_BUILDER_GENERATED_TAGS_FILE: GENERATED_TAGS };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs the real CLI process (the built bin/image-builder). Bounded by timeoutMs. */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(BIN, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? baseEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A fresh folder under the test file's temp root; `removeTempDirs` (in afterAll) deletes them all. */
export function tempDir(prefix = 'ib-test-'): string {
  return toolsTempDir(prefix.replace(/-$/, ''));
}

/** Writes a config.yaml into a fresh folder and returns its path. */
export function writeConfig(text: string, dir = tempDir()): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, text);
  return path;
}

/** YYYYMMDD in UTC, as the Date field renders. */
export function utcDate(d = new Date()): string {
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}

/**
 * The CLI with --debug and an empty Docker config of its own (buildah refuses a DOCKER_CONFIG folder without
 * config.json); stdout and stderr are kept in `outputs` for a final grep for secrets.
 */
export async function runCliCollecting(outputs: string[], args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const dockerConfig = tempDir('ib-docker-config-');
  writeFileSync(join(dockerConfig, 'config.json'), '{"auths": {}}');
  const r = await runCli(['--debug', ...args], { env: baseEnv({ DOCKER_CONFIG: dockerConfig, ...env }), timeoutMs: 180_000 });
  outputs.push(r.stdout, r.stderr);
  return r;
}
