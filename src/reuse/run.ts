/**
 * Reuse at run time, unit by unit: resolve the base images, compute the inputs digest, look `inputs-<hex>` up, and
 * copy an image found only when a trusted attestation proves it was built from these inputs (trust.ts); else build
 * with the inputs label and tag what was pushed `inputs-<hex>`. Nothing here fails a run: a lookup, a check or a copy
 * that fails is said, and the unit is built.
 */
import { rm } from 'node:fs/promises';
import type { BuildResult, Promotion, PushedImage } from '../backends/backend.js';
import { createScratchDir } from '../backends/scratch.js';
import { inputsOf, scanInputs, type Inputs, type InputsScan, type SnapshotPaths } from '../inputs/index.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { parseReference, type ImageReference } from '../reference.js';
import { loadCredentials, type CredentialStore } from '../registry/auth.js';
import { imageName, runRegistryClient, type RegistryClient } from '../registry/client.js';
import { copyImage } from '../registry/copy.js';
import { findImage, type ImageLookup } from '../registry/lookup.js';
import type { RunContext } from '../support/context.js';
import { BaseImages } from './base-images.js';
import { describeInputs, inputsListing } from './describe.js';
import { INPUTS_LABEL, inputsTag, unitSettings } from './plan.js';
import { verifyCandidate } from './trust.js';
import type { Trusted } from './trusted.js';

/** Bound of each registry request of a lookup, a check or a copy. */
const REGISTRY_TIMEOUT_MS = 30_000;

/** Runs the builder for the unit; with `from`, on the private snapshot's context and Dockerfile instead of the plan's. */
export type Build = (unit: BuildUnit, from?: SnapshotPaths) => Promise<BuildResult>;
type Found = Extract<ImageLookup, { status: 'found' }>;
type Say = (line: string) => void;

/** A candidate that passed every check: what it is, and what proved it. */
interface Verified {
  found: Found;
  promotion: Omit<Promotion, 'source' | 'digest'>;
}

/** One run's reuse: one registry client (its tokens shared by every unit), the base images resolved once. */
export class Reuse {
  private registry?: RegistryClient;
  private readonly bases = new BaseImages(() => this.client());
  /** The context read again into a private snapshot, once, when the first unit must be built. */
  private snapshot?: Promise<InputsScan | Error>;
  private snapshotDir?: string;

  /** scratchIn: folders to make the snapshot in before the system temp folder (kaniko's own). */
  constructor(
    private readonly plan: Plan & { inputsScan: InputsScan },
    private readonly ctx: RunContext,
    private readonly scratchIn: string[] = [],
  ) {
    const { trusted } = plan.reuse;
    if (trusted.length === 0) {
      ctx.log.warn(
        'reuse needs a trusted attestation: nothing is trusted (no reuse.trusted in config.yaml, no cosign signer with a key in this run), so no image found is reused: every unit is built and tagged for later runs',
      );
    } else {
      ctx.log.info(`reuse: an image found is reused only with an attestation of its inputs signed by ${trusted.map(trustedName).join(', ')}`);
    }
    for (const t of trusted) {
      if (t.kind === 'keyless' && !t.trustMaterial) {
        ctx.log.warn(`reuse: ${t.source} has no trusted-root: sigstore's public-good root is not built in, so nothing signed keyless is accepted; give trusted-root (sigstore's trusted_root.json)`);
      }
    }
  }

  /** Copies the proven image of the same inputs to the unit's destinations, or builds it (then tags it for the next run). */
  async buildOrReuse(unit: BuildUnit, build: Build): Promise<BuildResult> {
    const who = unit.variant === undefined ? 'build' : `variant ${unit.variant}`;
    const say: Say = (line) => this.ctx.log.info(`reuse (${who}): ${line}`);
    if (unit.inputs?.reusable === false) {
      say(`not reusable, built every time: ${unit.inputs.reason ?? 'its inputs are not all known'}`);
      return build(withLabel(unit, undefined));
    }
    const inputs = await this.resolvedInputs(unit, say);
    if (!inputs) return build(withLabel(unit, undefined));
    for (const line of inputsListing(inputs, this.plan.inputsScan.context.entries)) this.ctx.log.debug(`inputs (${who}): ${line}`);
    const own = repositoriesOf(unit);
    if (unit.destinations.some((d) => d.kind === 'disk')) {
      say(`oci: and oci-archive: destinations cannot be looked up or copied to: building (inputs ${inputs.digest})`);
      return this.buildFromSnapshot(unit, inputs, [], build, say);
    }
    const tag = inputsTag(inputs.digest);
    const elsewhere = this.plan.reuse.alsoFrom
      .flatMap((repo) => parseReference(`${repo}/${this.plan.name ?? ''}`) ?? [])
      .filter((ref) => !own.some((o) => sameRepository(o, ref)));
    const searched = [...own, ...elsewhere];
    const lookups = await Promise.all(searched.map((ref) => findImage(this.client(), { ...ref, tag })));
    for (const failed of lookups.filter((l) => l.status === 'failed')) say(`looking up ${failed.reference} failed, not reused from there: ${failed.message}`);
    const candidates = lookups.filter((l): l is Found => l.status === 'found');
    const verified = await this.firstProven(candidates, inputs.digest, say);
    // This unit's repositories whose tag is missing or names an image that is not proven: tagged with what is pushed now.
    const unproven = new Set(candidates.filter((c) => c !== verified?.found).map((c) => c.reference));
    const retag = own.filter((_, i) => {
      const lookup = lookups[i];
      return lookup?.status === 'not-found' || (lookup?.status === 'found' && unproven.has(lookup.reference));
    });
    const untagged = retag.map((ref) => ({ ...ref, tag }));
    const copied = verified && (await this.copy(verified, unit, untagged, inputs, say));
    if (copied) return copied;
    if (candidates.length === 0) {
      const where = searched.filter((_, i) => lookups[i]?.status === 'not-found').map(imageName);
      say(`${where.length > 0 ? `no image tagged ${tag} in ${where.join(', ')}` : 'nothing could be looked up'}: building (label ${INPUTS_LABEL}=${inputs.digest})`);
    } else if (!verified) {
      say(`no image tagged ${tag} is proven to be built from these inputs: building (label ${INPUTS_LABEL}=${inputs.digest})`);
    }
    return this.buildFromSnapshot(unit, inputs, untagged, build, say);
  }

  /**
   * Builds the unit from a private snapshot of the context (read again, once per run, by a read that hashes what it
   * copies), labelled and tagged with the digest of what the snapshot holds: a file changed during the run changes
   * neither the image nor its label. Without a snapshot the unit is built from the working tree, unlabelled, untagged.
   */
  private async buildFromSnapshot(unit: BuildUnit, inputs: Inputs, untagged: ImageReference[], build: Build, say: Say): Promise<BuildResult> {
    const { settings } = this.plan.reuse;
    const snap = await this.snapshotScan();
    if (snap instanceof Error || !snap.snapshot || !settings) {
      const why = snap instanceof Error ? snap.message : 'no snapshot was made';
      say(`the context could not be copied to a private snapshot (${why}): building from the working tree, without the inputs label and not tagged for reuse`);
      return build(withLabel(unit, undefined));
    }
    const baseImageDigests = Object.fromEntries(inputs.baseImages.flatMap((b) => (b.digest ? [[b.name, b.digest]] : [])));
    const now = inputsOf(snap, unitSettings(unit, settings), { baseImageDigests });
    let tagAs = untagged;
    if (now.digest !== inputs.digest) {
      if (!now.resolved || now.reusable === false) {
        say('the context changed after it was read at the start of the run: building what the snapshot holds, without the inputs label and not tagged for reuse');
        return build(withLabel(unit, undefined), snap.snapshot);
      }
      say(`the context changed after it was read at the start of the run: building what the snapshot holds, inputs ${now.digest}`);
      tagAs = untagged.map((ref) => ({ ...ref, tag: inputsTag(now.digest) }));
    }
    const result: BuildResult = { ...(await build(withLabel(unit, now.digest), snap.snapshot)), inputsDigest: now.digest };
    if (result.ok) await this.tagBuilt(result.pushed, tagAs, say);
    return result;
  }

  /** The context and Dockerfile read again into a private folder, once per run; an Error (said by the caller) when it cannot be. */
  private snapshotScan(): Promise<InputsScan | Error> {
    this.snapshot ??= (async (): Promise<InputsScan | Error> => {
      const source = this.plan.inputsSource;
      if (!source) return new Error('the plan names no context to read');
      const made = await createScratchDir(this.ctx.env, this.scratchIn);
      if (!made.dir) return new Error(made.problem ?? 'no private folder could be made');
      this.snapshotDir = made.dir;
      const started = performance.now();
      try {
        const scan = await scanInputs(source, { snapshotDir: made.dir });
        this.ctx.log.debug(`inputs: read the context again into the private snapshot ${made.dir} in ${Math.round(performance.now() - started)} ms`);
        return scan;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    })();
    return this.snapshot;
  }

  /** Removes the snapshot, once every unit is done. */
  async close(): Promise<void> {
    if (this.snapshotDir) await rm(this.snapshotDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** The first candidate, in search order (the unit's own repositories first), whose attestation passes every check. */
  private async firstProven(candidates: Found[], inputsDigest: string, say: Say): Promise<Verified | undefined> {
    const { trusted } = this.plan.reuse;
    for (const found of candidates) {
      const ref = parseReference(found.reference);
      if (!ref) continue;
      const verdict = await verifyCandidate(this.client(), { registry: ref.registry, repository: ref.repository, digest: found.digest }, inputsDigest, trusted);
      if (!verdict.ok) {
        say(`found ${found.reference} ${found.digest}, not reused: ${verdict.check}`);
        continue;
      }
      say(`found ${found.reference} ${found.digest}: its attestation ${verdict.attestation} is signed by ${verdict.trustedBy} and records these inputs`);
      return { found, promotion: { attestation: verdict.attestation, trustedBy: verdict.trustedBy, statement: verdict.statement } };
    }
    return undefined;
  }

  /** The inputs with every base image's digest, or undefined (said why) when one cannot be resolved. */
  private async resolvedInputs(unit: BuildUnit, say: Say): Promise<Inputs | undefined> {
    const { settings } = this.plan.reuse;
    if (!settings) return undefined;
    const unresolved = (unit.inputs?.baseImages ?? []).filter((b) => b.digest === undefined).map((b) => b.name);
    const digests: Record<string, string> = {};
    for (const name of unresolved) {
      const resolution = await this.bases.resolve(name);
      if ('why' in resolution) {
        say(`base image ${name} could not be resolved, so the inputs digest is unknown and nothing is looked up: building (${resolution.why})`);
        return undefined;
      }
      digests[name] = resolution.digest;
    }
    return inputsOf(this.plan.inputsScan, unitSettings(unit, settings), { baseImageDigests: digests });
  }

  /** The proven image copied (pinned by digest) to every destination and to the unit's repositories to tag; undefined (said why) to build instead. */
  private async copy({ found, promotion }: Verified, unit: BuildUnit, untagged: ImageReference[], inputs: Inputs, say: Say): Promise<BuildResult | undefined> {
    const source = parseReference(found.reference);
    if (!source) return undefined;
    say(`it matches: ${describeInputs(inputs)}`);
    const destinations = unit.destinations.flatMap((d) => (d.kind === 'registry' ? [d.image] : []));
    const pinned = { registry: source.registry, repository: source.repository, digest: found.digest };
    const results = await copyImage(this.client(), pinned, [...destinations, ...untagged], { debug: (line) => this.ctx.log.debug(line) });
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      say(`copying ${found.reference} failed, building instead: ${failed.map((r) => (r.ok ? '' : `${r.destination}: ${r.error}`)).join('; ')}`);
      return undefined;
    }
    const tagged = untagged.length > 0 ? `; tagged ${untagged.map(imageName).join(', ')}` : '';
    say(`not built: copied to ${destinations.map((d) => imageName(d)).join(', ')}${tagged}`);
    const pushed: PushedImage[] = unit.destinations.map((d) => ({ reference: d.reference, digest: found.digest }));
    return {
      ...(unit.variant === undefined ? {} : { variant: unit.variant }),
      ok: true,
      pushed,
      logFile: unit.logFile,
      reusedFrom: found.reference,
      inputsDigest: inputs.digest,
      promotion: { source: imageName(pinned), digest: found.digest, ...promotion },
    };
  }

  /** What a build pushed, tagged inputs-<hex> in each repository of the unit: the next build of these inputs finds it. */
  private async tagBuilt(pushed: PushedImage[], untagged: ImageReference[], say: Say): Promise<void> {
    const tagged: string[] = [];
    for (const target of untagged) {
      const image = pushed.map((p) => ({ p, ref: parseReference(p.reference) })).find(({ ref }) => ref && sameRepository(ref, target));
      if (!image?.ref) continue;
      const source = image.p.digest ? { ...target, tag: undefined, digest: image.p.digest } : image.ref;
      const [result] = await copyImage(this.client(), source, [target], { debug: (line) => this.ctx.log.debug(line) });
      if (result?.ok) tagged.push(`${imageName(target)} ${result.digest}`);
      else say(`tagging ${imageName(target)} failed (the next build of these inputs will not find it there): ${result && !result.ok ? result.error : 'nothing copied'}`);
    }
    if (tagged.length > 0) say(`tagged ${tagged.join(', ')}`);
  }

  private client(): RegistryClient {
    this.registry ??= runRegistryClient(this.ctx, { credentials: this.credentials(), timeoutMs: REGISTRY_TIMEOUT_MS });
    return this.registry;
  }

  private credentials(): CredentialStore | undefined {
    try {
      return loadCredentials(this.ctx.env);
    } catch (err) {
      this.ctx.log.warn(`reuse: reading registries anonymously: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}

/** How the log names a trusted key or identity. */
function trustedName(t: Trusted): string {
  return t.kind === 'key' ? `${t.source} (${t.fingerprint})` : `${t.source} (${t.issuer}, identity ${t.identity})`;
}

/** The unit with the inputs label set to digest, or without it (a digest that is not known must not be claimed). */
function withLabel(unit: BuildUnit, digest: string | undefined): BuildUnit {
  const { [INPUTS_LABEL]: _planned, ...labels } = unit.labels ?? {};
  return { ...unit, labels: digest === undefined ? labels : { ...labels, [INPUTS_LABEL]: digest } };
}

/** The registry repositories a unit pushes to, each once, in destination order. */
function repositoriesOf(unit: BuildUnit): ImageReference[] {
  const out: ImageReference[] = [];
  for (const d of unit.destinations) {
    if (d.kind === 'registry' && !out.some((ref) => sameRepository(ref, d.image))) out.push({ registry: d.image.registry, repository: d.image.repository });
  }
  return out;
}

const sameRepository = (a: ImageReference, b: ImageReference): boolean => a.registry === b.registry && a.repository === b.repository;
