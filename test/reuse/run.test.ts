import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../src/backends/backend.js';
import { backendNamed } from '../../src/backends/index.js';
import type { GitState } from '../../src/ci/gitstate.js';
import { parseConfig } from '../../src/config/load.js';
import { scanInputs, type SnapshotPaths } from '../../src/inputs/index.js';
import { defaultOptions } from '../../src/options.js';
import { buildPlan } from '../../src/plan.js';
import type { BuildUnit, Plan } from '../../src/plan-types.js';
import { INPUTS_LABEL } from '../../src/reuse/plan.js';
import { Reuse } from '../../src/reuse/run.js';
import { makeContext } from '../inputs/fixture.js';
import { captureIO, removeTempDirs, tempDir } from '../support/tools.js';

afterAll(removeTempDirs);

const push: GitState = { ciSystem: 'prow', repositoryOwner: 'o', repositoryName: 'r', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: '0123456789abcdef0123456789abcdef01234567' };

/** A plan with reuse on for a FROM scratch context; the registry (port 9) refuses every lookup: each unit is built. */
async function planFor(context: string): Promise<Plan> {
  const source = { contextDir: context, dockerfilePath: path.join(context, 'Dockerfile') };
  const files = { dockerfile: source.dockerfilePath, inputs: await scanInputs(source), inputsSource: source };
  const options = { ...defaultOptions(), config: 'c', name: 'app', context, backend: 'buildah', reuse: true, logDir: tempDir('reuse-run-logs') };
  const config = parseConfig('registry: 127.0.0.1:9/prod\n', 'config.yaml').config;
  return buildPlan({ options, config, gitState: push, backend: backendNamed('buildah')!, env: {}, now: new Date(), cwd: '/', files, readFile: () => '' });
}

/** A builder that only records what it was asked to build, and what the context it was given holds. */
function recorder() {
  const calls: { unit: BuildUnit; from?: SnapshotPaths; content?: string; dockerfile?: string }[] = [];
  const build = async (unit: BuildUnit, from?: SnapshotPaths): Promise<BuildResult> => {
    const content = from ? readFileSync(path.join(from.context, 'a.txt'), 'utf8') : undefined;
    const dockerfile = from ? readFileSync(from.dockerfile, 'utf8') : undefined;
    calls.push({ unit, ...(from ? { from, content, dockerfile } : {}) });
    return { ok: true, pushed: [], logFile: unit.logFile };
  };
  return { calls, build };
}

describe('Reuse builds from a private snapshot of the context', () => {
  it('a unit that is built reads the snapshot, labelled with its digest; the snapshot is removed at close', async () => {
    const context = makeContext({ Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\n', 'a.txt': 'alpha\n' });
    const plan = await planFor(context);
    const io = captureIO({ TMPDIR: tempDir('reuse-run-tmp') });
    const reuse = new Reuse({ ...plan, inputsScan: plan.inputsScan! }, io.io);
    const { calls, build } = recorder();

    const result = await reuse.buildOrReuse(plan.builds[0]!, build);

    expect(result).toMatchObject({ ok: true, inputsDigest: plan.builds[0]!.inputs!.digest });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.content).toBe('alpha\n');
    expect(calls[0]!.dockerfile).toBe('FROM scratch\nCOPY a.txt /a.txt\n');
    expect(calls[0]!.from!.context.startsWith(io.io.env.TMPDIR!)).toBe(true);
    expect(calls[0]!.unit.labels[INPUTS_LABEL]).toBe(plan.builds[0]!.inputs!.digest);
    expect(existsSync(calls[0]!.from!.dir)).toBe(true);
    await reuse.close();
    expect(existsSync(calls[0]!.from!.dir)).toBe(false);
  });

  it('a file changed after the start of the run: what the snapshot holds is built, and labelled with its own digest, said in the log', async () => {
    const context = makeContext({ Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\n', 'a.txt': 'alpha\n' });
    const plan = await planFor(context);
    writeFileSync(path.join(context, 'a.txt'), 'changed while the run went on\n');
    const io = captureIO({ TMPDIR: tempDir('reuse-run-tmp') });
    const reuse = new Reuse({ ...plan, inputsScan: plan.inputsScan! }, io.io);
    const { calls, build } = recorder();

    const result = await reuse.buildOrReuse(plan.builds[0]!, build);
    await reuse.close();

    const changed = await scanInputs({ contextDir: context, dockerfilePath: path.join(context, 'Dockerfile') });
    expect(changed.context.entries.find((e) => e.path === 'a.txt')?.sha256).not.toBe(plan.inputsScan!.context.entries.find((e) => e.path === 'a.txt')?.sha256);
    expect(calls[0]!.content).toBe('changed while the run went on\n');
    expect(result.inputsDigest).not.toBe(plan.builds[0]!.inputs!.digest);
    expect(calls[0]!.unit.labels[INPUTS_LABEL]).toBe(result.inputsDigest);
    expect(io.stderr()).toContain(`the context changed after it was read at the start of the run: building what the snapshot holds, inputs ${result.inputsDigest}`);
  });

  it('variants share one snapshot; a context that cannot be read again (gone) is built from the tree, unlabelled and untagged', async () => {
    const context = makeContext({ Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\n', 'a.txt': 'alpha\n' });
    const plan = await planFor(context);
    const io = captureIO({ TMPDIR: tempDir('reuse-run-tmp') });
    const reuse = new Reuse({ ...plan, inputsScan: plan.inputsScan! }, io.io);
    const { calls, build } = recorder();
    const unit = plan.builds[0]!;
    await Promise.all([reuse.buildOrReuse({ ...unit, variant: 'a' }, build), reuse.buildOrReuse({ ...unit, variant: 'b' }, build)]);
    expect(calls.map((c) => c.from?.dir)).toEqual([calls[0]!.from!.dir, calls[0]!.from!.dir]);
    await reuse.close();

    const broken = new Reuse({ ...plan, inputsScan: plan.inputsScan!, inputsSource: { contextDir: path.join(context, 'missing'), dockerfilePath: path.join(context, 'Dockerfile') } }, io.io);
    const fallback = recorder();
    const result = await broken.buildOrReuse(unit, fallback.build);
    await broken.close();
    expect(result.ok).toBe(true);
    expect(fallback.calls[0]!.from).toBeUndefined();
    expect(fallback.calls[0]!.unit.labels[INPUTS_LABEL]).toBeUndefined();
    expect(io.stderr()).toContain('the context could not be copied to a private snapshot');
  });
});
