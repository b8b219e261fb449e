import { describe, expect, it } from 'vitest';
import { runCaptured } from '../../src/support/spawn.js';

const env = { PATH: process.env.PATH };

describe('runCaptured', () => {
  // 1 MiB cannot fit a pipe: the write is still pending when the program closes its stdin, so EPIPE is certain.
  it('a program that closes stdin unread is judged by its exit status, not by EPIPE on our write', async () => {
    const r = await runCaptured('sh', ['-c', 'exec 0<&-; sleep 0.05; echo answered'], { input: 'x'.repeat(1024 * 1024), env, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'answered\n', timedOut: false });
    expect(r.spawnError).toBeUndefined();
  });

  it('passes the input on stdin and keeps stdout and stderr apart', async () => {
    const r = await runCaptured('sh', ['-c', 'read x; echo "out $x"; echo "err $x" >&2; exit 4'], { input: 'hello\n', env, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 4, stdout: 'out hello\n', stderr: 'err hello\n' });
  });

  it('a missing program is a spawn error, not an exit code', async () => {
    const r = await runCaptured('no-such-program-here', [], { env, timeoutMs: 10_000 });
    expect(r.spawnError?.code).toBe('ENOENT');
    expect(r.exitCode).toBeUndefined();
  });

  it('a program that hangs is killed at the timeout', async () => {
    const r = await runCaptured('sleep', ['30'], { env, timeoutMs: 200 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(r.exitCode).toBeUndefined();
  });

  it('an abort kills it', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await runCaptured('sleep', ['30'], { env, timeoutMs: 10_000, signal: controller.signal });
    expect(r).toMatchObject({ timedOut: false, signal: 'SIGKILL' });
  });

  it('keeps at most maxBytes of output', async () => {
    const r = await runCaptured('sh', ['-c', 'head -c 100000 /dev/zero'], { env, timeoutMs: 10_000, maxBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.exitCode).toBe(0);
  });
});
