import type { GitState } from '../ci/gitstate.js';
import type { Config, Signer } from '../config/schema.js';

/**
 * The signers of a run: those under "*" plus those under the run's org/repo, each once, in
 * config order; a signer with job-type runs only in CI jobs of those types.
 */
export function selectSigners(config: Config, git: GitState): Signer[] {
  const sign = config['sign-config'];
  if (!sign) return [];
  const repo = git.repositoryOwner && git.repositoryName ? `${git.repositoryOwner}/${git.repositoryName}` : undefined;
  const wanted = new Set([...(sign['enabled-signers']['*'] ?? []), ...(repo ? sign['enabled-signers'][repo] ?? [] : [])]);
  return sign.signers.filter((s) => {
    if (!wanted.has(s.name)) return false;
    const jobTypes = s['job-type'];
    if (!jobTypes || jobTypes.length === 0) return true;
    return git.ciSystem !== 'local' && jobTypes.includes(git.jobType);
  });
}
