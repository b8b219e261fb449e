import type { Env } from '../ci/gitstate.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { buildahBackend } from './buildah.js';
import { buildkitBackend } from './buildkit.js';
import { kanikoBackend } from './kaniko.js';
import type { Secrets } from '../support/secrets.js';

/** What a build may touch: the child's whole environment, where people read progress, and how to stop it. */
export interface BuildIO {
  /** The builder's complete environment (not merged with process.env) and where overrides like BUILDAH are read. */
  env: Env;
  /** Builder output for people, line by line, `[<variant>] `-prefixed; unused when silent. */
  stderr: NodeJS.WritableStream;
  /** Aborting stops the builder (SIGTERM, then SIGKILL) and the unit fails with "stopped by signal". */
  signal: AbortSignal;
  silent: boolean;
  debug: boolean;
  /** The run's secrets: masked in every line of builder output, on stderr and in the log file. */
  secrets?: Secrets;
}

export interface PushedImage {
  /** The destination as the plan gave it, e.g. `registry/name:tag` or `oci-archive:/out/img.tar:tag`. */
  reference: string;
  /** Manifest (or index) digest, `sha256:…`, when the builder reported one. */
  digest?: string;
}

export interface BuildResult {
  variant?: string;
  ok: boolean;
  /** Destinations that were written; on failure, those written before it. */
  pushed: PushedImage[];
  logFile: string;
  /** One line for people saying what failed. */
  error?: string;
}

export type BuilderName = 'kaniko' | 'buildkit' | 'buildah';

/** A local builder: turns one BuildUnit of a Plan into pushed images. */
export interface Backend {
  readonly name: BuilderName;
  /** Pure: throws InputError when the plan asks for something this builder cannot do; called before anything starts. */
  validate(plan: Plan): void;
  /** Pure: the argvs build() runs for this unit, in order (for --dry-run). */
  commands(plan: Plan, unit: BuildUnit, env: Env): string[][];
  /** Runs the builder; never throws for a failed build, it returns ok=false. */
  build(plan: Plan, unit: BuildUnit, io: BuildIO): Promise<BuildResult>;
}

export function backendFor(name: BuilderName): Backend {
  switch (name) {
    case 'kaniko':
      return kanikoBackend;
    case 'buildkit':
      return buildkitBackend;
    case 'buildah':
      return buildahBackend;
  }
}
