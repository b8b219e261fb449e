/** Planning of reuse (pure): whether it is on, where else the same inputs are looked up, who is trusted, and each unit's inputs. */
import type { GitState } from '../ci/gitstate.js';
import type { Config } from '../config/schema.js';
import { inputsOf, type BuildSettings, type Inputs, type InputsScan } from '../inputs/index.js';
import type { Options } from '../options.js';
import type { BuildUnit, InputsSettings, ReusePlan } from '../plan-types.js';

export type { InputsSettings, ReusePlan };
import { diskTransport } from '../reference.js';
import type { Trusted } from './trusted.js';

/** The label every image built with reuse on carries: the digest of its inputs. */
export const INPUTS_LABEL = 'io.image-builder.inputs';

export interface ReuseChoice {
  enabled: boolean;
  decidedBy: ReusePlan['decidedBy'];
  note?: string;
}

/** The flag wins over config.yaml; off by default. A backend without the capability reuses nothing (--reuse is refused elsewhere). */
export function reuseChoice(options: Pick<Options, 'reuse'> & Partial<Pick<Options, 'config'>>, config: Pick<Config, 'reuse'>, backend: { name: string; capabilities: { reuse: boolean } }): ReuseChoice {
  const decidedBy = options.reuse !== undefined ? '--reuse' : config.reuse.enabled ? 'config.yaml reuse.enabled' : 'default';
  const wanted = options.reuse ?? config.reuse.enabled;
  if (wanted && !backend.capabilities.reuse) {
    return { enabled: false, decidedBy, note: `${options.config ?? 'config.yaml'}: reuse.enabled is ignored: the ${backend.name} backend does not reuse images; it builds every time` };
  }
  return { enabled: wanted, decidedBy };
}

/**
 * A run that pushes to `registry` (a postsubmit) also finds what a pull request or merge group pushed to
 * `dev-registry`, but takes it only when a trusted attestation proves it (src/reuse/trust.ts).
 */
export function reusePlan(
  choice: ReuseChoice,
  config: Pick<Config, 'dev-registry'>,
  git: Pick<GitState, 'isPullRequest' | 'jobType'>,
  trusted: Trusted[] = [],
  settings?: InputsSettings,
): ReusePlan {
  const pushesToDev = git.isPullRequest || git.jobType === 'merge_group';
  const alsoFrom = choice.enabled && !pushesToDev ? config['dev-registry'].filter((repo) => !diskTransport(repo)).map((repo) => repo.replace(/\/+$/, '')) : [];
  return {
    enabled: choice.enabled,
    decidedBy: choice.decidedBy,
    ...(choice.note ? { note: choice.note } : {}),
    alsoFrom,
    trusted: choice.enabled ? trusted : [],
    ...(choice.enabled && settings ? { settings } : {}),
  };
}

/** What a unit's inputs are computed from: the unit's build args and the run's settings. */
export function unitSettings(unit: Pick<BuildUnit, 'buildArgs'>, settings: InputsSettings): BuildSettings {
  return { buildArgs: unit.buildArgs, target: settings.target, platforms: settings.platforms, labels: settings.labels, annotations: settings.annotations, secrets: settings.secrets };
}

/**
 * The unit's inputs as planning knows them (base images unresolved: no network) and the label its image will carry;
 * a unit that cannot be reused (ADD of a URL) gets no label: its digest does not cover what it downloads.
 */
export function withInputs(unit: BuildUnit, scan: InputsScan, settings: InputsSettings): BuildUnit {
  const inputs: Inputs = inputsOf(scan, unitSettings(unit, settings));
  return inputs.reusable === false ? { ...unit, inputs } : { ...unit, inputs, labels: { ...unit.labels, [INPUTS_LABEL]: inputs.digest } };
}

/** The tag an image of these inputs is found by: `inputs-<hex>`. */
export function inputsTag(digest: string): string {
  return `inputs-${digest.replace(/^sha256:/, '')}`;
}
