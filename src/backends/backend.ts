import type { Env } from '../ci/gitstate.js';
import type { Config } from '../config/schema.js';
import type { Options } from '../options.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import type { RunContext } from '../support/context.js';

/** What a backend can do; planning and the flag rules decide from these, never from a backend's name. */
export interface Capabilities {
  /** Builds each variant of variants.yaml (else variants.yaml is not read and --variant is refused). */
  variants: boolean;
  /** Builds for the platforms of --platform. */
  platforms: boolean;
  /** Writes oci: and oci-archive: destinations. */
  diskDestinations: boolean;
  /** Needs `registry` in config.yaml: it pushes where the plan says. */
  needsRegistry: boolean;
  /** Signs what it builds itself: the configured signers do not run here. */
  signsItself: boolean;
  /** Reads the context, Dockerfile and env file on this machine and gets the tags rendered here (else: paths and templates go as written). */
  localInputs: boolean;
  /** Looks up the image of the same inputs and copies it instead of building (--reuse, reuse.enabled); else --reuse is refused. */
  reuse: boolean;
  /** Mounts build secrets (--secret) for RUN --mount=type=secret; else --secret is refused. */
  secrets: boolean;
}

/** What a backend's planning step may read: the parsed flags, the environment, config.yaml and a file reader for its own inputs. */
export interface BackendSetup {
  options: Options;
  env: Env;
  config: Config;
  /** Reads a file of this backend's own inputs (relative to the working directory); an InputError naming `what`, with `hint`, if it cannot. */
  readFile: (path: string, what: string, hint: string) => string;
}

export interface PushedImage {
  /** The destination as the plan gave it, e.g. `registry/name:tag` or `oci-archive:/out/img.tar:tag`. */
  reference: string;
  /** Manifest (or index) digest, `sha256:…`, when the builder reported one. */
  digest?: string;
}

/** One build unit's outcome. */
export interface BuildResult {
  variant?: string;
  ok: boolean;
  /** Destinations that were written; on failure, those written before it. */
  pushed: PushedImage[];
  logFile: string;
  /** One line for people saying what failed. */
  error?: string;
  /** Not built: the image of the same inputs copied from here (`registry/repository:inputs-<hex>`). */
  reusedFrom?: string;
  /** With reuse on: the inputs digest the image was built from (or found by); provenance records it. */
  inputsDigest?: string;
  /** Reused: what proved the copied image's origin (provenance of the copy names it). */
  promotion?: Promotion;
}

/** The evidence a reused image was copied on: where from, and the attestation that verified. */
export interface Promotion {
  /** `registry/repository@sha256:…` the image was copied from. */
  source: string;
  digest: string;
  /** `sha256:<hex>` of the verified DSSE envelope. */
  attestation: string;
  /** Which trusted key or identity signed it. */
  trustedBy: string;
  /** The verified in-toto statement of the original build. */
  statement: Record<string, unknown>;
}

/** What a backend reports for the CI: the build report and the GitHub outputs with their step summary. */
export interface RunReport {
  /** The text of --build-report-path; undefined when there is no report to write. */
  reportFile?: string;
  outputs: Record<string, string>;
  summary: string;
}

/** What a run of a backend gave; the edge writes it (stdout, report, outputs) and signs what was pushed. */
export interface RunResult {
  units: BuildResult[];
  /** Set when the run failed: one line for people (exit 1). */
  failure?: string;
  /** Machine output for stdout (the preview YAML). */
  stdout?: string;
  /** A backend that reports itself (the pipeline's own report); undefined: the edge derives it from `units`. */
  report?: RunReport;
  /** Nothing to report: a preview builds nothing, a stopped run is not a result. */
  noReport?: boolean;
}

/** The dry-run's view of what a backend would do. */
export interface BackendDescription {
  /** Fields added to the dry-run plan, e.g. the REST call a pipeline backend would make. */
  fields?: Record<string, unknown>;
  /** Per build unit, in plan order: the argvs it would run. */
  commands?: string[][][];
}

/** The program a backend starts on this machine: a path, or a name looked up on PATH (as the spawn does). */
export interface Executable {
  file: string;
  /** How to get it, for people: where it is installed, which variable points to it. */
  hint: string;
}

/** A build backend: one file under src/backends/ and one line in the registry (src/backends/index.ts). */
export interface Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** Environment variables that hold this backend's secrets: masked in every output from the start. */
  readonly secretEnv?: readonly string[];
  /** The program it starts on this machine; undefined for a backend that builds elsewhere. A real run needs it, --dry-run does not. */
  executable?(env: Env): Executable;
  /** The ignore files this builder reads, first found wins (absolute); undefined: Docker's (`<Dockerfile>.dockerignore`, `.dockerignore`). */
  ignoreFiles?(contextDir: string, dockerfile: string): string[];
  /** Folders to make private folders in (the context's snapshot) before the system temp folder: where the builder keeps files across its stages. */
  scratchIn?(env: Env): string[];
  /** Flag rules of this backend; `chosen` tells whether it builds this run (some of its flags need it). */
  optionProblems?(options: Options, chosen: boolean): string[];
  /** Planning: this backend's own inputs (a pipeline's request), stored in the plan; throws InputError with every problem. */
  prepare?(setup: BackendSetup, plan: Plan): unknown;
  /** Pure: what this backend refuses in the plan, reported with every other problem; nothing has started. */
  validate(plan: Plan): string[];
  /** Pure: what --dry-run shows of this backend's work. */
  describe(plan: Plan, env: Env): BackendDescription;
  /** Runs the plan; failed work is a `failure` with what was done, a WorkError when it could not start, an InputError for bad input found late. */
  run(plan: Plan, ctx: RunContext): Promise<RunResult>;
}

/** A builder that runs on this machine, unit by unit; `processBackend` makes it a Backend. */
export interface LocalBuilder {
  readonly name: string;
  readonly capabilities: Capabilities;
  executable(env: Env): Executable;
  validate?(plan: Plan): string[];
  ignoreFiles?(contextDir: string, dockerfile: string): string[];
  scratchIn?(env: Env): string[];
  /** Pure: the argvs build() runs for this unit, in order (for --dry-run). */
  commands(plan: Plan, unit: BuildUnit, env: Env): string[][];
  /** Runs the builder for one unit; never throws for a failed build, it returns ok=false. */
  build(plan: Plan, unit: BuildUnit, ctx: RunContext): Promise<BuildResult>;
}
