import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/ci/gitstate.js';
import { allBackends, backendNamed, executableProblems } from '../../src/backends/index.js';
import type { Backend } from '../../src/backends/backend.js';
import { makePlan } from '../support/plan-factory.js';
import { removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

const named = (name: string): Backend => backendNamed(name)!;

/** A folder with an executable `name` (and, with mode, a file of that mode). */
function folderWith(name: string, mode = 0o755): string {
  const dir = tempDir('exe');
  writeFileSync(path.join(dir, name), '#!/bin/sh\nexit 0\n', { mode });
  return dir;
}

describe('every local builder declares the program it runs; the ADO backend has none', () => {
  it.each(allBackends().map((b) => [b.name, b] as const))('%s', (_name, backend) => {
    if (!backend.capabilities.localInputs) {
      expect(backend.executable).toBeUndefined();
      return;
    }
    expect(backend.executable).toBeTypeOf('function');
    // The program checked is the one the dry-run (and the run) starts, with and without an override.
    for (const env of [{}, { KANIKO_EXECUTOR: '/opt/k/executor', BUILDCTL: '/opt/b/buildctl', BUILDAH: '/opt/b/buildah' }] as Env[]) {
      const plan = { ...makePlan(), backend: backend.name };
      const commands = backend.describe(plan, env).commands ?? [];
      expect(commands[0]?.[0]?.[0]).toBe(backend.executable!(env).file);
    }
  });
});

describe("the chosen builder's executable is a planning fact", () => {
  const empty = tempDir('empty-path');
  const buildahDir = folderWith('buildah');
  const buildctlDir = folderWith('buildctl-daemonless.sh');
  const kanikoDir = folderWith('executor');
  const plainFile = folderWith('executor', 0o644);
  const cwd = tempDir('cwd');
  mkdirSync(path.join(cwd, 'bin'));
  writeFileSync(path.join(cwd, 'bin', 'buildah'), '#!/bin/sh\n', { mode: 0o755 });
  mkdirSync(path.join(cwd, 'a-folder'));

  it.each<{ what: string; backend: string; env: Env; problem?: RegExp[]; not?: RegExp[] }>([
    { what: 'kaniko at its path', backend: 'kaniko', env: { KANIKO_EXECUTOR: path.join(kanikoDir, 'executor'), PATH: empty } },
    {
      what: 'kaniko missing; buildah on PATH is suggested',
      backend: 'kaniko',
      env: { KANIKO_EXECUTOR: '/nonexistent/kaniko/executor', PATH: buildahDir },
      problem: [/^kaniko: its executable \/nonexistent\/kaniko\/executor does not exist/, /set KANIKO_EXECUTOR/, /this machine has buildah: use --backend=buildah$/],
    },
    {
      what: 'kaniko at its default path, absent here; the most capable alternative first',
      backend: 'kaniko',
      env: { PATH: `${buildahDir}:${buildctlDir}` },
      problem: [/^kaniko: its executable \/kaniko\/executor does not exist/, /this machine has buildah and buildkit: use --backend=buildah \(or --backend=buildkit\)$/],
    },
    {
      what: 'nothing else here either: no suggestion, the hint',
      backend: 'kaniko',
      env: { KANIKO_EXECUTOR: '/nonexistent/executor', PATH: empty },
      problem: [/run inside the kaniko executor image/],
      not: [/--backend=/],
    },
    {
      what: 'a file that is not executable',
      backend: 'kaniko',
      env: { KANIKO_EXECUTOR: path.join(plainFile, 'executor'), PATH: empty },
      problem: [/its executable .*\/executor is not executable \(chmod \+x it\)/],
    },
    {
      what: 'a folder',
      backend: 'buildah',
      env: { BUILDAH: path.join(cwd, 'a-folder'), PATH: empty },
      problem: [/^buildah: its executable .*a-folder is not executable/],
    },
    { what: 'buildctl found on PATH', backend: 'buildkit', env: { PATH: `${empty}:${buildctlDir}` } },
    {
      what: 'buildctl not on PATH',
      backend: 'buildkit',
      env: { PATH: `${empty}:${buildahDir}` },
      problem: [/^buildkit: its executable buildctl-daemonless.sh is not on PATH/, /set BUILDCTL/, /use --backend=buildah$/],
    },
    { what: 'buildah by a path relative to the working directory', backend: 'buildah', env: { BUILDAH: 'bin/buildah', PATH: empty } },
    { what: 'buildah by name on PATH', backend: 'buildah', env: { PATH: buildahDir } },
    {
      what: 'buildah by name, PATH unset: the spawn looks in /usr/bin:/bin',
      backend: 'buildah',
      env: { BUILDAH: 'no-such-buildah-here' },
      problem: [/^buildah: its executable no-such-buildah-here is not on PATH \(\/usr\/bin:\/bin\)/, /apt-get install buildah/],
    },
    { what: 'ado: nothing runs here', backend: 'ado', env: { PATH: empty } },
  ])('$what', ({ backend, env, problem, not }) => {
    const problems = executableProblems(named(backend), env, cwd);
    if (!problem) {
      expect(problems).toEqual([]);
      return;
    }
    expect(problems).toHaveLength(1);
    for (const p of problem) expect(problems[0]).toMatch(p);
    for (const p of not ?? []) expect(problems[0]).not.toMatch(p);
  });
});
