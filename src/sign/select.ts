import type { GitState } from '../ci/gitstate.js';
import type { Config, Signer } from '../config/schema.js';

/** A configured signer that does not run, and why, in words for people (SPEC 11). */
export interface SkippedSigner {
  name: string;
  reason: string;
}

export interface SignerSelection {
  /** The signers that run, in config order. */
  selected: Signer[];
  /** Every other configured signer, in config order, with the reason it does not run. */
  skipped: SkippedSigner[];
}

/**
 * The signers of a run: those under "*" plus those under the run's org/repo, each once, in config order; a signer
 * with job-type runs only in CI jobs of those types (compared literally with the run's job type).
 */
export function signerSelection(config: Config, git: GitState): SignerSelection {
  const sign = config['sign-config'];
  const selection: SignerSelection = { selected: [], skipped: [] };
  if (!sign) return selection;
  const enabled = sign['enabled-signers'];
  const repo = git.repositoryOwner && git.repositoryName ? `${git.repositoryOwner}/${git.repositoryName}` : undefined;
  for (const signer of sign.signers) {
    const reason = repositoryReason(signer.name, enabled, repo) ?? jobTypeReason(signer, git);
    if (reason === undefined) selection.selected.push(signer);
    else selection.skipped.push({ name: signer.name, reason });
  }
  return selection;
}

/** The signers that run (see signerSelection). */
export function selectSigners(config: Config, git: GitState): Signer[] {
  return signerSelection(config, git).selected;
}

/** The skipped signers with their reasons (see signerSelection). */
export function skippedSigners(config: Config, git: GitState): SkippedSigner[] {
  return signerSelection(config, git).skipped;
}

/** "<name> skipped: <reason>", the line logged for people. */
export function describeSkip(skip: SkippedSigner): string {
  return `${skip.name} skipped: ${skip.reason}`;
}

function repositoryReason(name: string, enabled: Record<string, string[]>, repo: string | undefined): string | undefined {
  if (enabled['*']?.includes(name) || (repo !== undefined && enabled[repo]?.includes(name))) return undefined;
  const repos = Object.keys(enabled).filter((key) => key !== '*' && enabled[key]?.includes(name));
  if (repos.length === 0) return 'not enabled for any repository (list it under sign-config.enabled-signers)';
  const thisRun = repo === undefined ? 'this run\'s repository is unknown (outside CI, pass --repo=org/repo)' : `this is ${repo}`;
  return `enabled for ${repos.join(', ')}, ${thisRun}`;
}

function jobTypeReason(signer: Signer, git: GitState): string | undefined {
  const jobTypes = signer['job-type'];
  if (!jobTypes || jobTypes.length === 0) return undefined;
  const runsFor = `runs for ${jobTypes.join(' or ')}`;
  if (git.ciSystem === 'local') return `${runsFor} jobs in CI, this run is outside CI`;
  return jobTypes.includes(git.jobType) || jobTypes.includes(treatedAs(git)) ? undefined : `${runsFor}, this is ${git.jobType}`;
}

/** Inside the ADO pipeline (Prow-style variables) workflow_dispatch and schedule are postsubmits (SPEC 4). */
function treatedAs(git: GitState): GitState['jobType'] {
  const pipeline = git.ciSystem === 'azure-devops' || git.ciSystem === 'prow';
  return pipeline && (git.jobType === 'workflow_dispatch' || git.jobType === 'schedule') ? 'postsubmit' : git.jobType;
}
