import type { GitState } from './ci/gitstate.js';
import type { Destination } from './reference.js';
import type { Signer } from './config/schema.js';
import type { SkippedSigner } from './sign/select.js';
import type { Tag, TagTemplate } from './tags/tag.js';
import type { Inputs, InputsScan, InputsSource } from './inputs/index.js';
import type { Trusted } from './reuse/trusted.js';
import type { BuildSecret } from './build-secrets.js';

export type Mode = 'build' | 'sign-only' | 'parse-tags-only';
/** A name of the backend registry (src/backends/index.ts). */
export type BackendName = string;

export interface CachePlan {
  enabled: boolean;
  cacheRepo?: string;
  cacheRunLayers: boolean;
  cacheCopyLayers: boolean;
}

/** One image build: the whole run, or one variant of variants.yaml. */
export interface BuildUnit {
  /** Variant name; undefined for a run without variants. */
  variant?: string;
  /** Tags of this unit (values suffixed with -<variant> for variants). */
  tags: Tag[];
  /** `<repository>/<name>:<tag value>`, tags outer, repositories inner. */
  destinations: Destination[];
  /** Final build args: --env-file, TAG_*, COMMIT_SHA, variant ARGs, then --build-arg (which wins). */
  buildArgs: Record<string, string>;
  /** Image config labels: origin (org.opencontainers.image.*) unless the Dockerfile sets the key, then --label; with reuse on also io.image-builder.inputs=<inputs digest>. */
  labels: Record<string, string>;
  /** Manifest (and index) annotations: origin, then --annotation. */
  annotations: Record<string, string>;
  /** `<log-dir>/build_<variant or "build">.log` */
  logFile: string;
  /** With reuse on: what decides the image, base images unresolved (planning touches no network). */
  inputs?: Inputs;
}

/** Everything a run will do, as plain data: --dry-run prints it, backends consume it. */
export interface Plan {
  mode: Mode;
  gitState: GitState;
  name?: string;
  /** Build context directory, absolute. */
  context: string;
  /** The Dockerfile: absolute where a local build found it, else relative to the context as given. */
  dockerfile: string;
  tags: Tag[];
  /** The user's tag templates as written (--tag, --tag-base64), in order: what a backend that renders tags itself is sent. */
  userTags: TagTemplate[];
  /** Target repositories (dev-registry for pull requests and merge groups when set, else registry). */
  repositories: string[];
  backend: BackendName;
  /** The backend's own inputs, made by its prepare() while planning (a pipeline's request); only that backend reads them. */
  backendInputs?: unknown;
  /** --dry-run: the plan is printed, nothing runs. */
  dryRun: boolean;
  platforms: string[];
  target?: string;
  /** --secret: ids and where each value is (a file, a variable), never a value; empty outside build mode. */
  secrets: BuildSecret[];
  cache: CachePlan;
  reproducible: boolean;
  logFormat?: string;
  logDir: string;
  silent: boolean;
  builds: BuildUnit[];
  /** Reuse of the image already built from the same inputs (--reuse, reuse.enabled). */
  reuse: ReusePlan;
  /** With reuse on: the Dockerfile and context as read once at the start; the run resolves base images against it. */
  inputsScan?: InputsScan;
  /** With reuse on: where inputsScan was read from; a unit that is built reads it again into a private snapshot. */
  inputsSource?: InputsSource;
  /** The signers that run after a push (or in sign-only), in config order; secrets are paths, never contents. */
  signers: Signer[];
  /** The configured signers that do not run, each with the reason (job type, repository), in config order. */
  skippedSigners: SkippedSigner[];
  imagesToSign: string[];
  /** Attach signed SLSA provenance to each pushed image (cosign signers); --provenance=false turns it off. */
  provenance: boolean;
  /** --oidc-token (a secret flag, masked wherever shown; never in the dry-run): keyless signers' identity outside GitHub Actions. */
  oidcToken?: string;
  /** Files the run writes besides the logs: --build-report-path and --tags-output-file, as given. */
  outputs: { buildReportPath?: string; tagsOutputFile?: string };
}

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
