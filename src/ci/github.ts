import { branchOfRef } from './branch.js';
import type { Env, GitState, GitStateRead } from './gitstate.js';
import { EventPayload } from './payload.js';
import { EnvReader, GITHUB_SERVER, gitStateRead, isZeroSHA, repositoryUrl, throwProblems } from './vars.js';

export const GITHUB_EVENTS = [
  'pull_request_target',
  'pull_request',
  'push',
  'merge_group',
  'workflow_dispatch',
  'schedule',
] as const;
export type GitHubEvent = (typeof GITHUB_EVENTS)[number];

type EventFields = Pick<GitState, 'jobType' | 'isPullRequest' | 'pullRequestNumber' | 'baseCommitSHA' | 'pullHeadCommitSHA' | 'branch'>;

/** GitHub Actions: GITHUB_EVENT_NAME picks which payload fields and variables give the commits. */
export function readGitHubGitState(env: Env, readFile: (path: string) => string): GitStateRead {
  const vars = new EnvReader(env, 'GitHub Actions');
  const event = readEventName(vars);
  const path = vars.required('GITHUB_EVENT_PATH', 'the path of the event payload file (GitHub Actions sets it for every run)');
  const payload =
    event !== undefined && path !== undefined
      ? vars.problems.collect(() => EventPayload.read(path, event, readFile, vars.problems))
      : undefined;
  if (event === undefined || payload === undefined) throwProblems(vars.problems);

  const repositoryOwner = payload.string('repository.owner.login');
  const repositoryName = payload.string('repository.name');
  const fields = readEvent(event, payload, vars);
  vars.problems.throwIfAny();

  return gitStateRead(
    {
      ciSystem: 'github-actions',
      repositoryOwner,
      repositoryName,
      repositoryUrl: repositoryUrl(serverUrl(vars), repositoryOwner, repositoryName),
      ...fields,
      baseCommitRef: vars.optional('GITHUB_REF'),
      buildNumber: vars.optional('GITHUB_RUN_NUMBER'),
    },
    vars.warnings,
  );
}

/** GitHub Enterprise Server sets its own URL in GITHUB_SERVER_URL; undefined when it cannot be cleaned. */
function serverUrl(vars: EnvReader): string | undefined {
  const server = vars.optional('GITHUB_SERVER_URL');
  return server === undefined ? GITHUB_SERVER : vars.sourceUrl(server, 'environment variable GITHUB_SERVER_URL', 'https://github.example.com');
}

function readEventName(vars: EnvReader): GitHubEvent | undefined {
  const name = vars.required('GITHUB_EVENT_NAME', 'the name of the event that triggered the workflow (GitHub Actions sets it for every run)');
  if (name === undefined) return undefined;
  if (!(GITHUB_EVENTS as readonly string[]).includes(name)) {
    vars.problems.add(
      `GitHub Actions event ${JSON.stringify(name)} (GITHUB_EVENT_NAME) is not supported: supported events are ${GITHUB_EVENTS.join(', ')}; trigger the workflow on one of them`,
    );
    return undefined;
  }
  return name as GitHubEvent;
}

function readEvent(event: GitHubEvent, payload: EventPayload, vars: EnvReader): EventFields {
  switch (event) {
    case 'pull_request_target':
    case 'pull_request':
      return {
        jobType: 'presubmit',
        isPullRequest: true,
        pullRequestNumber: payload.pullNumber(
          !payload.has('number') && payload.has('pull_request.number') ? 'pull_request.number' : 'number',
        ),
        baseCommitSHA: payload.sha('pull_request.base.sha'),
        pullHeadCommitSHA: payload.sha('pull_request.head.sha'),
        branch: branchOfRef(payload.optionalString('pull_request.base.ref')),
      };
    case 'push':
      return { jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: pushedCommit(payload), branch: pushedBranch(vars) };
    case 'merge_group':
      return {
        jobType: 'merge_group',
        isPullRequest: false,
        baseCommitSHA: workflowCommit(vars),
        pullHeadCommitSHA: payload.sha('merge_group.head_sha'),
        branch: branchOfRef(payload.optionalString('merge_group.base_ref')),
      };
    case 'workflow_dispatch':
    case 'schedule':
      return { jobType: event, isPullRequest: false, baseCommitSHA: workflowCommit(vars), branch: pushedBranch(vars) };
  }
}

/** The branch GITHUB_REF names; a tag (refs/tags/…) has none. */
function pushedBranch(vars: EnvReader): string | undefined {
  return branchOfRef(vars.optional('GITHUB_REF'));
}

/** GITHUB_SHA, with GITHUB_REF required beside it: the events without a commit in their payload. */
function workflowCommit(vars: EnvReader): string | undefined {
  vars.required('GITHUB_REF', 'the git ref the workflow runs on, e.g. GITHUB_REF=refs/heads/main (GitHub Actions sets it)');
  return vars.sha('GITHUB_SHA', 'commit the workflow runs on, as GitHub Actions sets it');
}

/** head_commit.id, else after; a push deleting a branch has neither (head_commit null, after all zeros). */
function pushedCommit(payload: EventPayload): string | undefined {
  if (payload.has('head_commit.id')) return payload.sha('head_commit.id');
  const after = payload.get('after');
  if (after === undefined) {
    payload.missing('head_commit.id', 'and so is after; a push event payload has them; check that GITHUB_EVENT_NAME=push matches the file');
    return undefined;
  }
  if (typeof after === 'string' && isZeroSHA(after)) {
    payload.missing(
      'head_commit.id',
      'and after is all zeros: this push deleted a branch, there is no commit to build; skip such pushes, e.g. with `if: github.event.deleted == false`',
    );
    return undefined;
  }
  return payload.sha('after');
}
