import { InputError } from '../errors.js';
import type { CISystem, Env, GitStateRead } from './gitstate.js';
import { readGitHubGitState } from './github.js';
import { readJenkinsGitState } from './jenkins.js';
import { readLocalGitState } from './local.js';
import { readProwGitState } from './prow.js';
import { envValue, isTrue } from './vars.js';

export type { CISystem, Env, GitState, GitStateRead, JobType } from './gitstate.js';
export { GITHUB_EVENTS } from './github.js';

/** The effects reading a git state may need; each is called only by the system that needs it. */
export interface GitStateDeps {
  /** reads a file (the GitHub event payload); throws if unreadable */
  readFile(path: string): string;
  /** `git rev-parse HEAD` in the build context, for runs outside CI; undefined if not a git repo */
  gitHead(): string | undefined;
  /** --repo flag value (org/repo), used outside CI */
  repo?: string;
}

/** 'local' unless CI=true; then the first system whose marker variable is set. */
export function detectCISystem(env: Env): CISystem {
  if (!isTrue(env.CI)) return 'local';
  if (isTrue(env.GITHUB_ACTIONS)) return 'github-actions';
  if (envValue(env, 'PROW_JOB_ID') !== undefined) return 'prow';
  if (envValue(env, 'BUILD_BUILDID') !== undefined) return 'azure-devops';
  if (envValue(env, 'JENKINS_HOME') !== undefined) return 'jenkins';
  throw new InputError(
    'cannot determine CI system: CI=true but none of GITHUB_ACTIONS=true (GitHub Actions), PROW_JOB_ID (Prow), ' +
      'BUILD_BUILDID (Azure DevOps) or JENKINS_HOME (Jenkins) is set; set the variable of your CI system, ' +
      'or unset CI (or set CI=false) for a local run',
  );
}

/** Repository, job type and commits of this run, from the CI system's variables (or the local checkout); with what it warns about. */
export function readGitState(env: Env, deps: GitStateDeps): GitStateRead {
  const ciSystem = detectCISystem(env);
  switch (ciSystem) {
    case 'github-actions':
      return readGitHubGitState(env, (path) => deps.readFile(path));
    case 'prow':
    case 'azure-devops':
      return readProwGitState(env, ciSystem);
    case 'jenkins':
      return readJenkinsGitState(env);
    case 'local':
      return readLocalGitState(env, deps);
  }
}
