import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, removeTempDirs, tempDir, writeConfig } from '../support/cli.js';
import { startCli, waitFor } from '../support/stand-ins.js';

const SHA = '4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';
/** Each test's sleeps carry a tag of their own: only they are looked for, and killed in afterAll if they survived. */
const tags: string[] = [];

/** Pids of live processes whose command line holds ".<tag>" (zombies hold none). */
function processesWith(tag: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(`.${tag}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, -1).join(' ');
  } catch {
    return undefined;
  }
}

/** Session id of a process, or undefined once it is gone. */
function sessionOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
}

afterAll(() => {
  for (const pid of tags.flatMap(processesWith)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  removeTempDirs();
});

/** test/support/setsid-builder.sh behind a wrapper, as installFakeBuilder does for fake-builder.sh. */
function installSetsidBuilder(): string {
  const script = fileURLToPath(new URL('../support/setsid-builder.sh', import.meta.url));
  const wrapper = join(tempDir('setsid-builder'), 'setsid-builder');
  writeFileSync(wrapper, `#!/bin/sh\nexec /bin/sh '${script}' "$@"\n`, { mode: 0o755 });
  return wrapper;
}

describe('no process a builder started outlives the CLI, whichever session it moved to', () => {
  it.each([
    { signal: 'SIGKILL', exit: { signal: 'SIGKILL' }, ignoreTerm: false },
    { signal: 'SIGTERM', exit: { code: 143 }, ignoreTerm: false },
    { signal: 'SIGINT', exit: { code: 130 }, ignoreTerm: false },
    // The builder outlives the grace: the watchdog (after SIGKILL) or the CLI (SIGTERM) has its whole tree killed.
    { signal: 'SIGKILL', exit: { signal: 'SIGKILL' }, ignoreTerm: true },
    { signal: 'SIGTERM', exit: { code: 143 }, ignoreTerm: true },
  ] as const)('$signal of the CLI (builder ignores SIGTERM: $ignoreTerm) ends what the builder started with setsid and by a double fork', async ({ signal, exit, ignoreTerm }) => {
    const [tag, bystanderTag] = [String(randomInt(100_000, 500_000)), String(randomInt(500_000, 1_000_000))];
    tags.push(tag, bystanderTag);
    // Not a descendant of the CLI, in a session of its own too: it must live on.
    spawn('sleep', [`4242.${bystanderTag}`], { stdio: 'ignore', detached: true }).unref();
    const dir = tempDir('setsid');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const markers = tempDir('setsid-markers');
    const args = ['--name=app', `--config=${writeConfig('registry: 127.0.0.1:5999/x\n')}`, `--context=${dir}`, '--backend=buildah', `--log-dir=${join(dir, 'logs')}`];
    const env = baseEnv({ PULL_BASE_SHA: SHA, IMAGE_BUILDER_CACHE_DIR: tempDir('setsid-cache'), BUILDAH: installSetsidBuilder(), SETSID_BUILDER_TAG: tag, SETSID_BUILDER_DIR: markers, SETSID_BUILDER_IGNORE_TERM: ignoreTerm ? '1' : '0' });
    const cli = startCli(args, env);
    const ready = await waitFor(() => existsSync(join(markers, 'setsid')) && existsSync(join(markers, 'double-fork')), 10_000);
    expect(ready, cli.stderr()).toBe(true);
    const sleeps = [`sleep 4242.${tag}`, `sleep 4243.${tag}`];
    expect(await waitFor(() => processesWith(tag).length === 2 && sleeps.every((s) => processesWith(tag).some((pid) => commandOf(pid) === s)), 5000)).toBe(true);
    // What the test is about: both sleeps left the sessions of the CLI and of the builder.
    const sessions = [sessionOf(cli.child.pid!), sessionOf(Number(readFileSync(join(markers, 'builder'), 'utf8')))];
    expect(sessions).not.toContain(undefined);
    for (const pid of processesWith(tag)) expect(sessions).not.toContain(sessionOf(pid));

    const sent = Date.now();
    cli.child.kill(signal);
    expect(await cli.exited(sent, 10_000)).toMatchObject(exit);
    expect(await waitFor(() => processesWith(tag).length === 0, 5000), `left running: ${processesWith(tag).join(', ')}`).toBe(true);
    expect(processesWith(bystanderTag)).toHaveLength(1);
  });
});
