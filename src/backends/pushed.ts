/** What was pushed: the builder's exit status says whether; its digest file, else the registry's answer, says which. */
import { readFile } from 'node:fs/promises';
import type { BuildUnit, Plan } from '../plan-types.js';
import type { Destination } from '../reference.js';
import { loadCredentials, type CredentialStore } from '../registry/auth.js';
import { runRegistryClient, RegistryError, type RegistryClient } from '../registry/client.js';
import { annotateIndex } from '../registry/annotate.js';
import type { BuildResult, PushedImage } from './backend.js';
import type { RunContext } from '../support/context.js';
import { type BuildLog, openLog, runBuilder, unitResult } from './process.js';
import { withScratchDir } from './scratch.js';
import { secretMounts, withSecretFiles } from './secret-files.js';

/** Bound of each request when reading back what was pushed or checking that a registry answers. */
const REGISTRY_TIMEOUT_MS = 15_000;

/** A `sha256:<64 hex>` digest file's content, trimmed; undefined for anything else. */
export function sha256Digest(text: string): string | undefined {
  return /^sha256:[0-9a-f]{64}$/.exec(text.trim())?.[0];
}

/** The registries one unit pushes to, asked through our registry client with the user's credentials. */
export class PushRegistries {
  private client?: RegistryClient;
  private readonly checks = new Map<string, Promise<string | undefined>>();
  private readonly unreachable = new Map<string, string>();

  constructor(
    private readonly io: RunContext,
    private readonly log: BuildLog,
  ) {}

  /** Why nothing answers at host, once a check found so; undefined otherwise. */
  knownUnreachable(host: string): string | undefined {
    return this.unreachable.get(host);
  }

  /**
   * Why nothing answers at host (connection refused, no such host, no answer in time), or undefined when something
   * does, with any HTTP status. Concurrent callers share one check; an unreachable host stays so for the unit.
   */
  check(host: string): Promise<string | undefined> {
    const known = this.unreachable.get(host);
    if (known) return Promise.resolve(known);
    let check = this.checks.get(host);
    if (!check) {
      check = this.registry()
        .ping(host)
        .then(
          () => undefined,
          (err: unknown) => (err instanceof RegistryError && err.reason === 'unreachable' ? err.message : undefined),
        )
        .then((why) => {
          this.checks.delete(host);
          if (why) this.unreachable.set(host, why);
          return why;
        });
      this.checks.set(host, check);
    }
    return check;
  }

  /**
   * The image the builder said it pushed to destination. Without a digest file, or with `verify`, the registry is
   * asked: for the file's digest if there is one (what we pushed, even if the tag moved since), else for the tag.
   * An error when the registry answers that it does not have it; when it cannot be asked, the digest of the file
   * (or none), and a line in the log.
   */
  async confirm(to: Destination, fileDigest: string | undefined, verify = false): Promise<{ image: PushedImage } | { error: string }> {
    const destination = to.reference;
    if (fileDigest && !verify) return { image: { reference: destination, digest: fileDigest } };
    const ref = to.kind === 'registry' ? to.image : undefined;
    if (!ref) {
      if (!fileDigest) this.log.line(`image-builder: ${destination} written; its digest is unknown (the builder wrote no digest file)`);
      return { image: { reference: destination, ...(fileDigest ? { digest: fileDigest } : {}) } };
    }
    try {
      const manifest = await this.registry().getManifest(fileDigest ? { registry: ref.registry, repository: ref.repository, digest: fileDigest } : ref);
      if (!fileDigest) this.log.line(`image-builder: ${destination} is ${manifest.digest} (the registry's answer)`);
      return { image: { reference: destination, digest: manifest.digest } };
    } catch (err) {
      if (err instanceof RegistryError && err.reason === 'not-found') {
        return { error: `the builder reported success, but the registry does not have ${destination}${fileDigest ? ` (${fileDigest})` : ''}` };
      }
      const detail = err instanceof Error ? err.message : String(err);
      this.log.line(`image-builder: ${destination} pushed; ${fileDigest ? `the registry could not confirm ${fileDigest}` : 'its digest is unknown'}: ${detail}`);
      return { image: { reference: destination, ...(fileDigest ? { digest: fileDigest } : {}) } };
    }
  }

  /** The index pushed to `to` with annotations added through the registry, under the same tag: its new digest. */
  async annotateIndex(to: Destination, image: PushedImage, annotations: Readonly<Record<string, string>>): Promise<{ image: PushedImage } | { error: string }> {
    if (to.kind !== 'registry') {
      this.log.line(`image-builder: ${to.reference}: index annotations are written through a registry; this destination keeps none`);
      return { image };
    }
    try {
      const digest = await annotateIndex(this.registry(), to.image, image.digest, annotations);
      this.log.line(`image-builder: ${to.reference}: index annotated, now ${digest}`);
      return { image: { ...image, digest } };
    } catch (err) {
      return { error: `pushed, but the index could not be annotated: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private registry(): RegistryClient {
    // Its --debug lines go to the unit's build log, beside the builder's.
    const debug = this.io.log.debugEnabled ? (line: string) => this.log.line(`image-builder: ${line}`) : () => undefined;
    this.client ??= runRegistryClient(this.io, { credentials: this.credentials(), timeoutMs: REGISTRY_TIMEOUT_MS, debug });
    return this.client;
  }

  private credentials(): CredentialStore | undefined {
    try {
      return loadCredentials(this.io.env);
    } catch (err) {
      this.log.line(`image-builder: reading the registry anonymously: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}

export interface SelfPushingRun {
  /** The builder's argv; with scratch undefined it asks for no digest file. */
  argv: (scratch: string | undefined) => string[];
  /** Where in the scratch folder the builder writes its digest (or metadata) file. */
  digestFile: (scratch: string) => string;
  readDigest: (text: string) => string | undefined;
  missingHint: string;
  /** Folders to make the scratch folder in before the system temp folder. */
  scratchIn?: string[];
}

/** Runs a builder that pushes every destination itself (kaniko, buildctl) and confirms what it pushed. */
export async function runSelfPushingBuilder(plan: Plan, unit: BuildUnit, io: RunContext, run: SelfPushingRun): Promise<BuildResult> {
  const log = await openLog(unit, io, plan.silent);
  try {
    return await withScratchDir(
      io.env,
      async (scratch, problem) => {
        if (problem) log.line(`image-builder: ${problem}; digests will be read from the registry`);
        const outcome = await withSecretFiles(secretMounts(plan.secrets, scratch), { dir: scratch, problem }, io.env, log, () => runBuilder(run.argv(scratch), log, io, run.missingHint));
        if (outcome.error) return { ...unitResult(unit), error: outcome.error };
        const digest = scratch ? await readFile(run.digestFile(scratch), 'utf8').then(run.readDigest, () => undefined) : undefined;
        const registries = new PushRegistries(io, log);
        const confirmed = await Promise.all(unit.destinations.map((destination) => registries.confirm(destination, digest)));
        const pushed = confirmed.flatMap((c) => ('image' in c ? [c.image] : []));
        const errors = confirmed.flatMap((c) => ('error' in c ? [c.error] : []));
        return { ...unitResult(unit), ok: errors.length === 0, pushed, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
      },
      run.scratchIn,
    );
  } finally {
    await log.close();
  }
}
