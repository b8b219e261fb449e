import { describe, expect, it } from 'vitest';
import type { CISystem, Env } from '../../src/ci/index.js';
import { detectCISystem, readGitState } from '../../src/ci/index.js';
import { InputError } from '../../src/errors.js';
import { deps } from './support.js';

describe('detectCISystem', () => {
  it.each<[Env, CISystem]>([
    [{}, 'local'],
    [{ CI: 'false', GITHUB_ACTIONS: 'true' }, 'local'],
    [{ CI: '1', PROW_JOB_ID: 'x' }, 'local'],
    [{ CI: 'true', GITHUB_ACTIONS: 'true', PROW_JOB_ID: 'x' }, 'github-actions'],
    [{ CI: 'True', GITHUB_ACTIONS: 'TRUE' }, 'github-actions'],
    [{ CI: 'true', GITHUB_ACTIONS: 'false', PROW_JOB_ID: 'x' }, 'prow'],
    [{ CI: 'true', PROW_JOB_ID: 'x', BUILD_BUILDID: '1' }, 'prow'],
    [{ CI: 'TRUE', BUILD_BUILDID: '1', JENKINS_HOME: '/j' }, 'azure-devops'],
    [{ CI: 'true', JENKINS_HOME: '/var/jenkins_home' }, 'jenkins'],
  ])('%j → %s', (env, expected) => {
    expect(detectCISystem(env)).toBe(expected);
  });

  it.each<Env>([{ CI: 'true' }, { CI: 'true', PROW_JOB_ID: '', GITHUB_ACTIONS: 'false' }])('%j → cannot determine CI system', (env) => {
    expect(() => detectCISystem(env)).toThrow(InputError);
    expect(() => readGitState(env, deps())).toThrow(InputError);
    try {
      detectCISystem(env);
    } catch (err) {
      const message = (err as InputError).message;
      for (const fragment of ['cannot determine CI system', 'GITHUB_ACTIONS', 'PROW_JOB_ID', 'BUILD_BUILDID', 'JENKINS_HOME', 'local run']) {
        expect(message).toContain(fragment);
      }
    }
  });
});
