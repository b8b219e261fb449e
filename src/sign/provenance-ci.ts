import type { Env, GitState } from '../ci/gitstate.js';
import { publicUrl } from '../ci/url.js';
import { envValue, GITHUB_SERVER, repositoryUrl } from '../ci/vars.js';

/** Where provenance URIs of ours start; stable: verifiers pin buildType and builder ids made from it. */
export const IMAGE_BUILDER_URI = 'https://github.com/kyma-project/test-infra/image-builder';

/** What the CI context says about the run that built: read from its variables, pure. */
export interface CiRun {
  /** The job's own page where the CI system gives one, else `<IMAGE_BUILDER_URI>/ci/<system>`. */
  builderId: string;
  /** The CI system's id of this run: GITHUB_RUN_ID, Prow's BUILD_ID, ADO's BUILD_BUILDID, Jenkins' BUILD_ID. */
  invocationId?: string;
  /** The repository's web URL (no credentials), where it is known. */
  sourceUrl?: string;
}

/** The repository's URL: the CI context's own, as the image's source label; a local run's --repo names one on GitHub. */
function sourceUrl(git: GitState): string | undefined {
  const own = publicUrl(git.repositoryUrl);
  // In CI, none means the URL was left out (it could not be cleaned): github.com would be a guess.
  return own !== undefined || git.ciSystem !== 'local' ? own : repositoryUrl(GITHUB_SERVER, git.repositoryOwner, git.repositoryName);
}

function jobUrl(git: GitState, env: Env): string | undefined {
  const v = (name: string): string | undefined => envValue(env, name);
  switch (git.ciSystem) {
    case 'github-actions': {
      const given = v('GITHUB_SERVER_URL');
      const server = given === undefined ? GITHUB_SERVER : publicUrl(given);
      const [repository, runId, attempt] = [v('GITHUB_REPOSITORY'), v('GITHUB_RUN_ID'), v('GITHUB_RUN_ATTEMPT')];
      if (!server || !repository || !runId) return undefined;
      return publicUrl(`${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}${attempt ? `/attempts/${attempt}` : ''}`);
    }
    case 'azure-devops': {
      const [collection, project, buildId] = [publicUrl(v('SYSTEM_COLLECTIONURI')), v('SYSTEM_TEAMPROJECT'), v('BUILD_BUILDID')];
      if (!collection || !project || !buildId) return undefined;
      return `${collection.replace(/\/+$/, '')}/${encodeURIComponent(project)}/_build/results?buildId=${encodeURIComponent(buildId)}`;
    }
    case 'jenkins':
      return publicUrl(v('BUILD_URL'));
    case 'prow':
    case 'local':
      // Prow gives no link to its job page in the environment (its deck URL is a cluster setting).
      return undefined;
  }
}

const INVOCATION_VARIABLES: Record<GitState['ciSystem'], string[]> = {
  'github-actions': ['GITHUB_RUN_ID'],
  prow: ['BUILD_ID', 'PROW_JOB_ID'],
  'azure-devops': ['BUILD_BUILDID'],
  jenkins: ['BUILD_ID', 'BUILD_TAG'],
  local: [],
};

/** Builder id, invocation id and repository URL of this run. */
export function ciRun(git: GitState, env: Env): CiRun {
  const invocationId = INVOCATION_VARIABLES[git.ciSystem].map((name) => envValue(env, name)).find((value) => value !== undefined);
  const source = sourceUrl(git);
  return {
    builderId: jobUrl(git, env) ?? `${IMAGE_BUILDER_URI}/ci/${git.ciSystem}`,
    ...(invocationId !== undefined ? { invocationId } : {}),
    ...(source !== undefined ? { sourceUrl: source } : {}),
  };
}
