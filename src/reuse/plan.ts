/** Planning of reuse (pure): whether it is on, where else the same inputs are looked up, who is trusted, and each unit's inputs. */
import type { GitState } from '../ci/gitstate.js';
import type { Config } from '../config/schema.js';
import { inputsOf, type BuildSettings, type Inputs, type InputsScan } from '../inputs/index.js';
import type { Options } from '../options.js';
import type { BuildUnit } from '../plan-types.js';
import { diskTransport } from '../reference.js';
import type { Trusted } from './trusted.js';

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
  /**
   * Keys and keyless identities whose attestation proves a candidate's origin: reuse.trusted of config.yaml; the run
   * adds its own cosign signers' keys before it builds. Nothing else is trusted.
   */
  trusted: Trusted[];
  /** What every unit's inputs digest covers besides the Dockerfile and the files (with reuse on). */
  settings?: InputsSettings;
}

/** The run's settings that enter every unit's inputs digest. */
export interface InputsSettings {
  target?: string;
  /** The platforms built: --platform, else the host's (what the builder builds for then). */
  platforms: string[];
  /** The user's --label and --annotation values (not the origin labels: a reused image keeps those of its build). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The ids of the build secrets (--secret), never their values: a new value reuses the image. */
  secrets?: string[];
}

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
