/** The CI systems the tool recognises, plus a run outside CI. */
export type CISystem = 'github-actions' | 'prow' | 'azure-devops' | 'jenkins' | 'local';

/** presubmit = pull request; the GitHub-only kinds keep their event names. */
export type JobType = 'presubmit' | 'postsubmit' | 'merge_group' | 'workflow_dispatch' | 'schedule';

/** What the CI context says about the code being built. */
export interface GitState {
  ciSystem: CISystem;
  repositoryOwner?: string;
  repositoryName?: string;
  /** The repository's web URL (https://github.com/<owner>/<name>): the source an image says it was built from. */
  repositoryUrl?: string;
  jobType: JobType;
  isPullRequest: boolean;
  pullRequestNumber?: number;
  /** The base SHA: the commit tags are computed from. */
  baseCommitSHA?: string;
  /** The pull request head SHA (pull requests and merge groups). */
  pullHeadCommitSHA?: string;
  /** The git ref (e.g. refs/heads/main) where the CI system gives it. */
  baseCommitRef?: string;
  /** The branch a pull request or merge group targets, else the pushed branch; none for a tag or where the CI system does not say. */
  branch?: string;
  /** The CI system's build number (Prow BUILD_ID, GITHUB_RUN_NUMBER, BUILD_BUILDNUMBER, BUILD_NUMBER). */
  buildNumber?: string;
}

/** A git state and what reading it warns about (a source URL left out): the reading stays pure, the caller logs. */
export interface GitStateRead {
  gitState: GitState;
  warnings: string[];
}

/** Environment as a plain object: the pure code never reads process.env. */
export type Env = Readonly<Record<string, string | undefined>>;
