import { branchOfRef } from './branch.js';
import type { Env, GitStateRead } from './gitstate.js';
import { publicUrl, sourceLeftOut, withoutCredentials } from './url.js';
import { EnvReader, gitStateRead } from './vars.js';

// https://host/<owner>/<name>(.git) and ssh://git@host/..., scp-like git@host:<owner>/<name>(.git), or host/<owner>/<name>.git
const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/(?:[^/]+\/)*([^/]+)\/([^/]+?)(?:\.git)?\/?$/i;
const SCP_FORM = /^[^@/:]+@[^:/]+:(?:[^/]+\/)*([^/]+)\/([^/]+?)(?:\.git)?\/?$/;
const BARE_FORM = /^[A-Za-z0-9.-]+(?::[0-9]+)?\/(?:[^/]+\/)*([^/]+)\/([^/]+?)(?:\.git)?\/?$/;

/** Owner and name from a clone URL: the last two path segments, without `.git` (nor a query or fragment). */
export function parseGitURL(text: string): { owner: string; name: string; webUrl?: string } | undefined {
  const url = text.replace(/[?#].*$/s, '');
  const match = URL_FORM.exec(url) ?? SCP_FORM.exec(url) ?? BARE_FORM.exec(url);
  if (!match?.[1] || !match[2]) return undefined;
  return { owner: match[1], name: match[2], webUrl: webUrlOf(url, match[1], match[2]) };
}

/** https://<host>/<path>/<owner>/<name>: the clone URL without credentials, port of ssh, or `.git`. */
function webUrlOf(url: string, owner: string, name: string): string | undefined {
  const scp = /^[^@/:]+@([^:/]+):(.*)$/.exec(url);
  const full = scp ? `https://${scp[1]}/${scp[2]}` : /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  if (!URL.canParse(full)) return undefined;
  const parsed = new URL(full);
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  const host = parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.host : parsed.hostname;
  return publicUrl(`${parsed.protocol === 'http:' ? 'http' : 'https'}://${host}${path.endsWith(`/${owner}/${name}`) ? path : `/${owner}/${name}`}`);
}

/** Jenkins (Git and GitHub Branch Source plugins): a pull request build has CHANGE_ID. */
export function readJenkinsGitState(env: Env): GitStateRead {
  const vars = new EnvReader(env, 'Jenkins');
  const repo = readRepository(vars);
  const isPullRequest = vars.optional('CHANGE_ID') !== undefined;
  const pullRequestNumber = isPullRequest ? vars.pullNumber('CHANGE_ID') : undefined;
  const baseCommitSHA = isPullRequest
    ? vars.sha('CHANGE_BASE_SHA', 'base branch commit of the pull request')
    : vars.sha('GIT_COMMIT', 'commit the job builds');
  const pullHeadCommitSHA = isPullRequest ? vars.sha('GIT_COMMIT', 'head commit of the pull request') : undefined;
  const baseCommitRef = isPullRequest ? vars.required('CHANGE_BRANCH', 'the branch of the pull request (Jenkins sets it for pull request builds)') : undefined;
  vars.problems.throwIfAny();

  return gitStateRead(
    {
      ciSystem: 'jenkins',
      repositoryOwner: repo?.owner,
      repositoryName: repo?.name,
      repositoryUrl: repo?.webUrl,
      jobType: isPullRequest ? 'presubmit' : 'postsubmit',
      isPullRequest,
      pullRequestNumber,
      baseCommitSHA,
      pullHeadCommitSHA,
      baseCommitRef,
      branch: isPullRequest ? branchOfRef(vars.optional('CHANGE_TARGET')) : builtBranch(vars),
      buildNumber: vars.optional('BUILD_NUMBER'),
    },
    vars.warnings,
  );
}

/**
 * The branch of a branch build: GIT_BRANCH (the Git plugin's origin/<branch>), else BRANCH_NAME (multibranch); a tag
 * build (TAG_NAME set; multibranch then puts the tag's name in BRANCH_NAME) has none.
 */
function builtBranch(vars: EnvReader): string | undefined {
  if (vars.optional('TAG_NAME') !== undefined) return undefined;
  const gitBranch = vars.optional('GIT_BRANCH')?.replace(/^origin\//, '');
  return branchOfRef(gitBranch || vars.optional('BRANCH_NAME'));
}

function readRepository(vars: EnvReader): ReturnType<typeof parseGitURL> {
  const url = vars.required('GIT_URL', 'the repository clone URL, e.g. GIT_URL=https://github.com/kyma-project/test-infra.git');
  if (url === undefined) return undefined;
  const repo = parseGitURL(url);
  if (repo === undefined) {
    vars.problems.add(
      `environment variable GIT_URL=${JSON.stringify(withoutCredentials(url))} does not name a repository (Jenkins): expected https://<host>/<owner>/<name>.git, <host>/<owner>/<name>.git or git@<host>:<owner>/<name>.git`,
    );
  } else if (repo.webUrl === undefined) {
    vars.warnings.push(sourceLeftOut('environment variable GIT_URL (Jenkins)', 'https://github.example.com/<owner>/<name>.git'));
  }
  return repo;
}
