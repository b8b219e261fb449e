import { Problems } from '../errors.js';
import { branchOfRef } from './branch.js';
import type { Env, GitStateRead } from './gitstate.js';
import { envValue, gitStateRead, isSHA, SHA_EXPECTED } from './vars.js';

const REPO = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** What a run outside CI needs from its surroundings. */
export interface LocalDeps {
  gitHead(): string | undefined;
  repo?: string;
}

/** Outside CI: PULL_BASE_SHA or the context's HEAD, job type postsubmit, owner/name from --repo, the branch from PULL_BASE_REF. */
export function readLocalGitState(env: Env, deps: LocalDeps): GitStateRead {
  const problems = new Problems();
  const repo = deps.repo === undefined ? undefined : parseRepoFlag(deps.repo, problems);
  const baseCommitSHA = readBaseSHA(env, deps, problems);
  problems.throwIfAny();

  // Not `git rev-parse --abbrev-ref HEAD`: a preview sets PULL_BASE_REF as Prow would; without it there is no branch.
  const branch = branchOfRef(envValue(env, 'PULL_BASE_REF'));
  return gitStateRead({ ciSystem: 'local', repositoryOwner: repo?.owner, repositoryName: repo?.name, jobType: 'postsubmit', isPullRequest: false, baseCommitSHA, branch }, []);
}

function parseRepoFlag(value: string, problems: Problems): { owner: string; name: string } | undefined {
  const match = REPO.exec(value);
  if (!match?.[1] || !match[2]) {
    problems.add(`--repo ${JSON.stringify(value)} is not a repository: expected <owner>/<name>, e.g. --repo kyma-project/test-infra`);
    return undefined;
  }
  return { owner: match[1], name: match[2] };
}

function readBaseSHA(env: Env, deps: LocalDeps, problems: Problems): string | undefined {
  const fromEnv = envValue(env, 'PULL_BASE_SHA');
  if (fromEnv !== undefined) {
    if (isSHA(fromEnv)) return fromEnv;
    problems.add(
      `environment variable PULL_BASE_SHA=${JSON.stringify(fromEnv)} is not a commit SHA: ${SHA_EXPECTED}; unset it to build the context's HEAD commit`,
    );
    return undefined;
  }
  // Not a git repository: the tag rules report "commit SHA could not be determined" if they need one.
  const head = deps.gitHead()?.trim();
  if (head === undefined || head === '') return undefined;
  if (!isSHA(head)) {
    problems.add(
      `git rev-parse HEAD in the build context printed ${JSON.stringify(head)}, which is not a commit SHA: set PULL_BASE_SHA (or --commit-sha) to the commit to build`,
    );
    return undefined;
  }
  return head;
}
