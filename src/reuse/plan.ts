/** Planning of reuse (pure): whether it is on, where else the same inputs are looked up, and each unit's inputs. */
import path from 'node:path';
import type { GitState } from '../ci/gitstate.js';
import type { Config } from '../config/schema.js';
import { inputsOf, type Inputs, type InputsScan } from '../inputs/index.js';
import type { Options } from '../options.js';
import type { BuildUnit } from '../plan-types.js';
import { diskTransport } from '../reference.js';

/** The label every image built with reuse on carries: the digest of its inputs. */
export const INPUTS_LABEL = 'io.image-builder.inputs';

/** Reuse of unchanged images: looked up as the tag `inputs-<hex>` of the inputs digest. */
export interface ReusePlan {
  enabled: boolean;
  /** What decided: the flag, config.yaml, or the default (off). */
  decidedBy: '--reuse' | 'config.yaml reuse.enabled' | 'default';
  /** Said at the start of the run: config.yaml enables reuse for a backend that cannot reuse. */
  note?: string;
  /** Repositories searched besides the unit's own (the dev registry, for a run that pushes to registry); no image name. */
  alsoFrom: string[];
}

export interface ReuseChoice {
  enabled: boolean;
  decidedBy: ReusePlan['decidedBy'];
  note?: string;
}

/** The flag wins over config.yaml; off by default. A backend without the capability reuses nothing (--reuse is refused elsewhere). */
export function reuseChoice(options: Pick<Options, 'reuse'>, config: Pick<Config, 'reuse'>, backend: { name: string; capabilities: { reuse: boolean } }): ReuseChoice {
  const decidedBy = options.reuse !== undefined ? '--reuse' : config.reuse.enabled ? 'config.yaml reuse.enabled' : 'default';
  const wanted = options.reuse ?? config.reuse.enabled;
  if (wanted && !backend.capabilities.reuse) {
    return { enabled: false, decidedBy, note: `config.yaml reuse.enabled is ignored: the ${backend.name} backend does not reuse images; it builds every time` };
  }
  return { enabled: wanted, decidedBy };
}

/** A run that pushes to `registry` (a postsubmit) also finds what a pull request pushed to `dev-registry`. */
export function reusePlan(choice: ReuseChoice, config: Pick<Config, 'dev-registry'>, git: Pick<GitState, 'isPullRequest' | 'jobType'>): ReusePlan {
  const pushesToDev = git.isPullRequest || git.jobType === 'merge_group';
  const alsoFrom = choice.enabled && !pushesToDev ? config['dev-registry'].filter((repo) => !diskTransport(repo)).map((repo) => repo.replace(/\/+$/, '')) : [];
  return { enabled: choice.enabled, decidedBy: choice.decidedBy, ...(choice.note ? { note: choice.note } : {}), alsoFrom };
}

/**
 * variants.yaml is no input of its own (a variant's arguments count through the ARGs the Dockerfile declares): left out
 * of the scan when it lies in the context, so that changing one variant leaves the others' inputs as they were.
 */
export function withoutVariantsFile(scan: InputsScan, contextDir: string, variantsFile: string | undefined): InputsScan {
  if (variantsFile === undefined) return scan;
  const rel = path.relative(contextDir, variantsFile).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) return scan;
  return { ...scan, context: { ...scan.context, entries: scan.context.entries.filter((entry) => entry.path !== rel) } };
}

/** The unit's inputs as planning knows them (base images unresolved: no network) and the label its image will carry. */
export function withInputs(unit: BuildUnit, scan: InputsScan, settings: { target?: string; platforms: readonly string[] }): BuildUnit {
  const inputs: Inputs = inputsOf(scan, { buildArgs: unit.buildArgs, target: settings.target, platforms: settings.platforms });
  return { ...unit, inputs, labels: { ...unit.labels, [INPUTS_LABEL]: inputs.digest } };
}

/** The tag an image of these inputs is found by: `inputs-<hex>`. */
export function inputsTag(digest: string): string {
  return `inputs-${digest.replace(/^sha256:/, '')}`;
}
