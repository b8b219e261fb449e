import path from 'node:path';
import type { GitState } from '../ci/gitstate.js';
import type { BaseImage } from '../inputs/digest.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { registryHost } from '../reference.js';
import { isRecord } from '../support/json.js';
import { IMAGE_BUILDER_URI, type CiRun } from './provenance-ci.js';

/** SLSA v1 provenance as an in-toto Statement v1, pure from the plan, the pushed digest and the run's facts. */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/**
 * Our build type: a Dockerfile built by image-builder. externalParameters: name, dockerfile (relative to the
 * context), context, tags, platforms, target, variant, buildArgs (names only), secrets (ids only, when any);
 * internalParameters: ciSystem, jobType, backend, inputsDigest (with reuse on: the digest of every input, what a later
 * run may reuse the image by), and for an image this run copied instead of building, promotedFrom. A change of these meanings is a new version.
 */
export const BUILD_TYPE = `${IMAGE_BUILDER_URI}/buildtypes/v1`;

/** in-toto ResourceDescriptor: at least one of uri and digest. */
export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest?: Record<string, string>;
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId?: string; startedOn: string; finishedOn: string };
    };
  };
}

export interface ProvenanceInput {
  /** The pushed image: `registry/repository` and its manifest (or index) digest `sha256:<hex>`. */
  subject: { name: string; digest: string };
  plan: Pick<Plan, 'name' | 'context' | 'dockerfile' | 'platforms' | 'target' | 'gitState' | 'backend' | 'secrets'>;
  /** The unit that made the image; of its build args only the names are read. */
  unit: Pick<BuildUnit, 'variant' | 'tags' | 'buildArgs'>;
  /** The images the Dockerfile pulls, after ARG substitution, with the digests they resolved to. */
  baseImages: readonly BaseImage[];
  ci: CiRun;
  version: string;
  /** With reuse on: the unit's inputs digest (base images resolved). */
  inputsDigest?: string;
  /** ISO 8601 times (the dry-run shows placeholders). */
  startedOn: string;
  finishedOn: string;
}

/** `sha256:<hex>` → `{sha256: <hex>}`, the in-toto DigestSet. */
export function digestSet(digest: string): Record<string, string> {
  const at = digest.indexOf(':');
  return at < 0 ? { sha256: digest } : { [digest.slice(0, at)]: digest.slice(at + 1) };
}

/** The commit the build checked out: the head of a pull request, else the base commit. */
export function builtCommit(git: GitState): string | undefined {
  return (git.isPullRequest ? git.pullHeadCommitSHA : undefined) ?? git.baseCommitSHA;
}

/** `docker.io/library/alpine:3` for `alpine:3`: Docker's rules, so that each dependency names one repository. */
export function canonicalImage(name: string): string {
  if (name.startsWith(`${registryHost(name)}/`)) return name;
  return `docker.io/${name.includes('/') ? name : `library/${name}`}`;
}

function sourceDependency(git: GitState, ci: CiRun): ResourceDescriptor[] {
  const commit = builtCommit(git);
  if (!commit && !ci.sourceUrl) return [];
  return [{ ...(ci.sourceUrl ? { uri: `git+${ci.sourceUrl}` } : { name: 'source' }), ...(commit ? { digest: { gitCommit: commit } } : {}) }];
}

export function provenanceStatement(input: ProvenanceInput): ProvenanceStatement {
  const { plan, unit, ci } = input;
  const dockerfile = path.isAbsolute(plan.dockerfile) ? path.relative(plan.context, plan.dockerfile) : plan.dockerfile;
  const externalParameters = {
    name: plan.name,
    dockerfile: dockerfile.split(path.sep).join('/'),
    context: plan.context,
    tags: unit.tags.map((tag) => tag.value),
    platforms: plan.platforms,
    ...(plan.target ? { target: plan.target } : {}),
    ...(unit.variant !== undefined ? { variant: unit.variant } : {}),
    // Names only: values may be tokens (SPEC 11), and a signed statement cannot be masked afterwards.
    buildArgs: Object.keys(unit.buildArgs).sort(),
    // Ids only: where a value came from (a path, a variable) says nothing about the image.
    ...(plan.secrets.length > 0 ? { secrets: plan.secrets.map((secret) => secret.id).sort() } : {}),
  };
  const baseImages = input.baseImages.map((image): ResourceDescriptor => ({
    uri: `docker://${canonicalImage(image.name)}`,
    ...(image.digest ? { digest: digestSet(image.digest) } : {}),
  }));
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.subject.name, digest: digestSet(input.subject.digest) }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters,
        internalParameters: {
          ciSystem: plan.gitState.ciSystem,
          jobType: plan.gitState.jobType,
          backend: plan.backend,
          ...(input.inputsDigest ? { inputsDigest: input.inputsDigest } : {}),
        },
        resolvedDependencies: [...sourceDependency(plan.gitState, ci), ...baseImages],
      },
      runDetails: {
        builder: { id: ci.builderId, version: { 'image-builder': input.version } },
        metadata: { ...(ci.invocationId ? { invocationId: ci.invocationId } : {}), startedOn: input.startedOn, finishedOn: input.finishedOn },
      },
    },
  };
}

/** What a run that copied an image (reuse) instead of building it knows: the verified original and where it came from. */
export interface PromotionInput {
  subject: { name: string; digest: string };
  /** The original build's verified statement. */
  original: Record<string, unknown>;
  source: string;
  /** `sha256:` digest of the DSSE envelope that verified. */
  attestation: string;
  trustedBy: string;
  ci: CiRun;
}

/**
 * Provenance of a copy: the original build's definition and run details, unchanged (its builder, commit and inputs
 * digest), with `promotedFrom` naming the source, the attestation verified and this run; never a claim that this run built it.
 */
export function promotionStatement(input: PromotionInput): ProvenanceStatement {
  const predicate = (isRecord(input.original.predicate) ? input.original.predicate : {}) as Partial<ProvenanceStatement['predicate']>;
  const definition = (isRecord(predicate.buildDefinition) ? predicate.buildDefinition : {}) as Partial<ProvenanceStatement['predicate']['buildDefinition']>;
  const promotedFrom = {
    source: input.source,
    attestation: input.attestation,
    trustedBy: input.trustedBy,
    by: { builderId: input.ci.builderId, ...(input.ci.invocationId ? { invocationId: input.ci.invocationId } : {}) },
  };
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.subject.name, digest: digestSet(input.subject.digest) }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      ...(predicate as ProvenanceStatement['predicate']),
      buildDefinition: {
        ...(definition as ProvenanceStatement['predicate']['buildDefinition']),
        internalParameters: { ...(isRecord(definition.internalParameters) ? definition.internalParameters : {}), promotedFrom },
      },
    },
  };
}
