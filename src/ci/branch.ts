/** The branch a git ref names: `refs/heads/<b>` → `<b>`; any other `refs/…` (a tag, a pull request's merge ref) names none; a bare name is a branch. */
export function branchOfRef(ref: string | undefined): string | undefined {
  if (ref === undefined || ref === '') return undefined;
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length) || undefined;
  if (ref.startsWith('refs/')) return undefined;
  return ref;
}

// GitHub's merge queue builds on gh-readonly-queue/<target branch>/pr-<number>-<target SHA>.
const MERGE_QUEUE = /^gh-readonly-queue\/(.+)\/pr-[0-9]+-[^/]+$/;

/** The branch a merge group targets, from the queue's own branch; any other branch as it is. */
export function mergeQueueTarget(branch: string | undefined): string | undefined {
  if (branch === undefined) return undefined;
  return MERGE_QUEUE.exec(branch)?.[1] ?? branch;
}
