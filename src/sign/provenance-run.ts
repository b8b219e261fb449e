import { readFileSync } from 'node:fs';
import type { BuildResult } from '../backends/backend.js';
import type { Env } from '../ci/gitstate.js';
import type { BaseImage } from '../inputs/digest.js';
import { analyseDockerfile } from '../inputs/dockerfile.js';
import type { Logger } from '../output/logger.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { parseDestination } from '../reference.js';
import { baseImageReference } from '../registry/base-image.js';
import type { RegistryClient } from '../registry/client.js';
import { findImage } from '../registry/lookup.js';
import type { RunContext } from '../support/context.js';
import { ciRun } from './provenance-ci.js';
import { promotionStatement, provenanceStatement, type ProvenanceStatement } from './provenance.js';
import type { Signing } from './run.js';
import type { Attestation } from './signer.js';

/** What --dry-run shows where a digest or time is known only when the build runs. */
export const PUSHED_DIGEST_PLACEHOLDER = 'sha256:<digest of the pushed image, known after the push>';
export const BASE_DIGEST_PLACEHOLDER = 'sha256:<digest the registry resolves the base image to at run time>';
export const INPUTS_DIGEST_PLACEHOLDER = 'sha256:<inputs digest, once the base images are resolved at run time>';

/** The inputs digest a unit's provenance will record: none when reuse is off or the unit cannot be reused. */
function previewInputsDigest(unit: BuildUnit): string | undefined {
  if (!unit.inputs || unit.inputs.reusable === false) return undefined;
  return unit.inputs.resolved ? unit.inputs.digest : INPUTS_DIGEST_PLACEHOLDER;
}

type ReadFile = (path: string) => string;
const readText: ReadFile = (path) => readFileSync(path, 'utf8');

/** A run's provenance in the making: its start, and the images each build unit pulls. */
export interface ProvenanceRun {
  startedOn: Date;
  /** Per build unit (plan order): the images its Dockerfile pulls, ARGs substituted; resolved to digests after the push. */
  baseImages: string[][];
}

/** Called before the build: its start time, and the Dockerfile as it was built (undefined when no signer attests). */
export function startProvenance(plan: Plan, signing: Signing, ctx: Pick<RunContext, 'log' | 'now'>, readFile: ReadFile = readText): ProvenanceRun | undefined {
  if (!plan.provenance || !signing.signers.some((signer) => signer.attest)) return undefined;
  return { startedOn: ctx.now(), baseImages: baseImageNames(plan, readFile, ctx.log) };
}

/** Each unit's images with their digests, each name looked up once. */
async function resolveBaseImages(names: string[][], registry: RegistryClient, log: Pick<Logger, 'warn'>): Promise<BaseImage[][]> {
  const unique = [...new Set(names.flat())];
  const resolved = new Map(await Promise.all(unique.map(async (name) => [name, await resolveBaseImage(name, registry, log)] as const)));
  return names.map((unit) => unit.map((name) => resolved.get(name) ?? { name }));
}

/** Per build unit, the images its Dockerfile pulls after ARG substitution; none when the Dockerfile cannot be read. */
export function baseImageNames(plan: Plan, readFile: ReadFile, log?: Pick<Logger, 'warn'>): string[][] {
  let text: string;
  try {
    text = readFile(plan.dockerfile);
  } catch (err) {
    log?.warn(`provenance: cannot read the Dockerfile ${plan.dockerfile} (${(err as NodeJS.ErrnoException).code ?? String(err)}); base images are not listed`);
    return plan.builds.map(() => []);
  }
  return plan.builds.map((unit) => analyseDockerfile(text, { buildArgs: unit.buildArgs, target: plan.target, platforms: plan.platforms }).baseImages);
}

/** The digest a base image names itself (`@sha256:…`), else the one its registry gives for the tag; never throws. */
async function resolveBaseImage(name: string, registry: RegistryClient, log: Pick<Logger, 'warn'>): Promise<BaseImage> {
  const pinned = pinnedDigest(name);
  if (pinned) return { name, digest: pinned };
  const ref = baseImageReference(name);
  if (typeof ref === 'string') {
    log.warn(`provenance: base image ${name} is not an image reference; listed without a digest`);
    return { name };
  }
  const found = await findImage(registry, ref);
  if (found.status === 'found') return { name, digest: found.digest };
  log.warn(`provenance: base image ${name} not resolved (${found.status === 'failed' ? found.message : found.detail}); listed without a digest`);
  return { name };
}

interface StatementFacts {
  plan: Plan;
  env: Env;
  version: string;
  startedOn: string;
  finishedOn: string;
}

function statementFor(facts: StatementFacts, unit: BuildUnit, subject: { name: string; digest: string }, baseImages: readonly BaseImage[], inputsDigest?: string): ProvenanceStatement {
  return provenanceStatement({ ...facts, subject, unit, baseImages, ci: ciRun(facts.plan.gitState, facts.env), ...(inputsDigest ? { inputsDigest } : {}) });
}

/** `registry/repository` of a registry destination; undefined for one on disk. */
function registryRepository(reference: string): string | undefined {
  const destination = parseDestination(reference);
  return typeof destination !== 'string' && destination.kind === 'registry' ? `${destination.image.registry}/${destination.image.repository}` : undefined;
}

const pinnedDigest = (name: string): string | undefined => /@(sha256:[a-f0-9]{64})$/.exec(name)?.[1];

/** One statement per pushed repository and digest (tags of one image share it); disk destinations have none. */
export function pushedAttestations(facts: StatementFacts, results: readonly BuildResult[], baseImages: readonly BaseImage[][]): Attestation[] {
  const out = new Map<string, Attestation>();
  for (const result of results) {
    const index = facts.plan.builds.findIndex((unit) => unit.variant === result.variant);
    const unit = facts.plan.builds[index];
    if (!unit) continue;
    for (const pushed of result.pushed) {
      const name = registryRepository(pushed.reference);
      if (name === undefined || !pushed.digest) continue;
      const image = `${name}@${pushed.digest}`;
      if (out.has(image)) continue;
      const subject = { name, digest: pushed.digest };
      const { promotion } = result;
      const statement = promotion
        ? promotionStatement({ subject, original: promotion.statement, source: promotion.source, attestation: promotion.attestation, trustedBy: promotion.trustedBy, ci: ciRun(facts.plan.gitState, facts.env) })
        : statementFor(facts, unit, subject, baseImages[index] ?? [], result.inputsDigest);
      out.set(image, { image, statement });
    }
  }
  return [...out.values()];
}

/** After a successful push: every attesting signer signs and attaches each pushed image's provenance. One line per failed signer. */
export async function attestPushed(run: ProvenanceRun, plan: Plan, signing: Signing, results: readonly BuildResult[], ctx: RunContext): Promise<string[]> {
  // Looked up after the push (the builder pulled them minutes ago): a failed build leaves no lookup running.
  const baseImages = await resolveBaseImages(run.baseImages, signing.registry, ctx.log);
  const facts = { plan, env: ctx.env, version: ctx.version, startedOn: run.startedOn.toISOString(), finishedOn: ctx.now().toISOString() };
  const attestations = pushedAttestations(facts, results, baseImages);
  const missing = results.flatMap((r) => r.pushed).filter((p) => !p.digest && registryRepository(p.reference) !== undefined);
  if (missing.length > 0) ctx.log.warn(`provenance: no digest reported for ${missing.map((p) => p.reference).join(', ')}; no provenance attached to them`);
  if (attestations.length === 0) return [];
  for (const attestation of attestations) ctx.log.debug(`provenance statement for ${attestation.image}: ${JSON.stringify(attestation.statement)}`);
  const failures: string[] = [];
  for (const signer of signing.signers) {
    if (!signer.attest) continue;
    const result = await signer.attest(attestations, signing.registry, ctx).catch((err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }));
    if (!result.ok) failures.push(`${signer.name}: ${result.error ?? 'provenance not attached'}`);
  }
  return failures;
}

/** --dry-run: the statements a run would sign, digests and times as placeholders (no network). */
export function provenancePreview(plan: Plan, env: Env, version: string, readFile: ReadFile = readText): Record<string, unknown> | undefined {
  // A build with --provenance (the default) and a signer that attests: any cosign signer, with a key or keyless.
  const attests = plan.signers.some((signer) => signer.type === 'cosign');
  if (plan.mode !== 'build' || !plan.provenance || !attests) return undefined;
  const names = baseImageNames(plan, readFile);
  const facts = { plan, env, version, startedOn: '<start of the build>', finishedOn: '<end of the push>' };
  const statements = plan.builds.flatMap((unit, i) => {
    const repositories = [...new Set(unit.destinations.flatMap((d) => registryRepository(d.reference) ?? []))];
    const baseImages = (names[i] ?? []).map((name) => ({ name, digest: pinnedDigest(name) ?? BASE_DIGEST_PLACEHOLDER }));
    return repositories.map((name) => statementFor(facts, unit, { name, digest: PUSHED_DIGEST_PLACEHOLDER }, baseImages, previewInputsDigest(unit)));
  });
  return {
    note: 'signed and attached by each cosign signer (with a key or keyless) after the push; digests and times are placeholders until the build runs',
    statements,
  };
}
