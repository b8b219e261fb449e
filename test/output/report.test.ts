import { describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/backends/backend.js';
import { localBuildReport, localRunReport } from '../../src/output/report.js';
import { makePlan } from '../support/plan-factory.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const FROM = `dev.io/dev/app:inputs-${'a'.repeat(64)}`;
const built = (variant: string | undefined, digest: string): BuildResult => ({ ...(variant ? { variant } : {}), ok: true, pushed: [{ reference: `r.io/p/app:v1${variant ? `-${variant}` : ''}`, digest }], logFile: '/l' });
const reused = (variant: string | undefined, digest: string): BuildResult => ({ ...built(variant, digest), reusedFrom: FROM });

describe('the local build report marks reused units (the pipeline report fields kept)', () => {
  it.each<[string, BuildResult[], object]>([
    ['built', [built(undefined, D1)], { reused: false, builds: [{ images: ['r.io/p/app:v1'], digest: D1, reused: false }] }],
    ['reused', [reused(undefined, D1)], { reused: true, reusedFrom: FROM, builds: [{ images: ['r.io/p/app:v1'], digest: D1, reused: true, reusedFrom: FROM }] }],
    [
      'variants, one reused: the run is not "reused", the unit is',
      [reused('blue', D1), built('green', D2)],
      { reused: false, builds: [{ variant: 'blue', digest: D1, reused: true, reusedFrom: FROM }, { variant: 'green', digest: D2, reused: false }] },
    ],
  ])('%s', (_name, results, expected) => {
    const report = localBuildReport(makePlan(), results, false);
    expect(report).toMatchObject({ status: 'succeeded', pushed: true, digest: D1, ...expected });
    if (!('reusedFrom' in expected)) expect(report).not.toHaveProperty('reusedFrom');
  });

  it('outputs say reused; the step summary says how each image came', () => {
    const run = localRunReport(makePlan(), [reused('blue', D1), built('green', D2)], false);
    expect(run.outputs.reused).toBe('false');
    expect(localRunReport(makePlan(), [reused(undefined, D1)], false).outputs.reused).toBe('true');
    expect(run.summary).toContain(`| blue | \`r.io/p/app:v1-blue\` | \`${D1}\` | reused: copied from \`${FROM}\` |`);
    expect(run.summary).toContain(`| green | \`r.io/p/app:v1-green\` | \`${D2}\` | built |`);
  });
});
