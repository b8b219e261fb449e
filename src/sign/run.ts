import { readFileSync } from 'node:fs';
import type { BuildResult } from '../backends/backend.js';
import { parseDestination } from '../reference.js';
import type { Signer } from '../config/schema.js';
import { InputError, Problems, WorkError } from '../errors.js';
import type { Plan } from '../plan-types.js';
import { loadCredentials } from '../registry/auth.js';
import { runRegistryClient, type RegistryClient } from '../registry/client.js';
import type { RunContext } from '../support/context.js';
import { cosignSigner } from './cosign.js';
import { notarySigner } from './notary.js';
import { readIdentityToken, type IdentityToken } from './oidc.js';
import { describeSkip, type SkippedSigner } from './select.js';
import type { ImageSigner } from './signer.js';

/** Bound of each registry request of the signers (reading images, pushing cosign signatures). */
const REGISTRY_TIMEOUT_MS = 60_000;

/** The run's signers, secrets read and checked, and the registry client they share. */
export interface Signing {
  signers: ImageSigner[];
  /** Configured signers that do not run in this run, with the reason: said when signing would happen. */
  skipped: SkippedSigner[];
  registry: RegistryClient;
}

/** What signers record about the run: the CI build number (cosign's default annotations; the run's start is ctx.now()). */
export interface SigningRun {
  buildNumber?: string;
  /** The plan's skipped signers, to be named when signing happens. */
  skipped?: SkippedSigner[];
  /** --oidc-token: the identity token of keyless signers outside GitHub Actions. */
  oidcToken?: string;
}

/**
 * Prepares every selected signer before anything is built or sent: a missing or malformed secret, a bad endpoint,
 * an unreadable cosign key or a wrong key password, a missing or expired identity token for keyless signing, or a
 * broken credentials file is an InputError listing them all.
 */
export async function prepareSigning(
  configs: Signer[],
  ctx: Pick<RunContext, 'env' | 'log' | 'signal' | 'now' | 'sleep'>,
  readFile = (path: string) => readFileSync(path, 'utf8'),
  run: SigningRun = {},
): Promise<Signing> {
  const problems = new Problems();
  const identityToken = await keylessToken(configs, ctx, run.oidcToken, problems);
  const cosignRun = { buildNumber: run.buildNumber, now: ctx.now(), identityToken };
  const signers = configs.flatMap((config) => {
    const signer = problems.collect(() => (config.type === 'notary' ? notarySigner(config, readFile, ctx) : cosignSigner(config, ctx, readFile, cosignRun)));
    return signer ? [signer] : [];
  });
  // Credentials are read only when something will be signed: a broken config.json must not stop unsigned runs.
  const credentials = configs.length > 0 ? problems.collect(() => loadCredentials(ctx.env, readFile)) : undefined;
  problems.throwIfAny();
  const registry = runRegistryClient(ctx, { ...(credentials ? { credentials } : {}), timeoutMs: REGISTRY_TIMEOUT_MS });
  return { signers, skipped: run.skipped ?? [], registry };
}

/** The identity token, read once for all keyless signers; a problem with it joins the others. */
async function keylessToken(configs: Signer[], ctx: Pick<RunContext, 'env' | 'log' | 'signal' | 'now'>, flagToken: string | undefined, problems: Problems): Promise<IdentityToken | undefined> {
  const keyless = configs.filter((config) => config.type === 'cosign' && config.config.keyless).map((config) => `"${config.name}"`);
  if (keyless.length === 0) return undefined;
  try {
    return await readIdentityToken(ctx.env, flagToken, ctx, `sign-config ${keyless.length === 1 ? 'signer' : 'signers'} ${keyless.join(', ')}`);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    for (const problem of err.problems) problems.add(problem);
    return undefined;
  }
}

/** Runs every signer on the images, each one even when another failed; returns one line per failed signer. */
export async function runSigners(signing: Signing, images: string[], ctx: Pick<RunContext, 'log' | 'signal' | 'sleep'>): Promise<string[]> {
  const unique = [...new Set(images)];
  // SPEC 11: a configured signer that does not run is named with the reason, not hidden behind "none configured".
  for (const skip of signing.skipped) ctx.log.info(describeSkip(skip));
  if (signing.signers.length === 0) {
    ctx.log.info(signing.skipped.length === 0 ? 'no signers configured for this run: nothing signed' : 'no signer runs for this run: nothing signed');
    return [];
  }
  if (unique.length === 0) {
    ctx.log.info('no registry images to sign');
    return [];
  }
  const failures: string[] = [];
  // One signer after the other: their progress lines stay readable, and the services see one request at a time.
  for (const signer of signing.signers) {
    try {
      const result = await signer.sign(unique, signing.registry, ctx);
      if (!result.ok) failures.push(`${signer.name}: ${result.error ?? 'signing failed'}`);
    } catch (err) {
      failures.push(`${signer.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}

/** Sign-only mode: the plan's signers on the given images. */
export async function signImages(plan: Plan, images: string[], ctx: Pick<RunContext, 'env' | 'log' | 'signal' | 'now' | 'sleep'>): Promise<string[]> {
  return runSigners(await prepareSigning(plan.signers, ctx, undefined, signingRun(plan)), images, ctx);
}

/** What the plan tells the signers about the run. */
export function signingRun(plan: Plan): SigningRun {
  return { buildNumber: plan.gitState.buildNumber, skipped: plan.skippedSigners, oidcToken: plan.oidcToken };
}

/**
 * Build mode: signs every pushed registry destination, pinned to the digest the builder reported (so a tag moved
 * since the push is refused, not signed). oci:/oci-archive: destinations are not in a registry: noted and skipped.
 */
export async function signPushed(signing: Signing, results: BuildResult[], ctx: Pick<RunContext, 'log' | 'signal' | 'sleep'>): Promise<string[]> {
  const pushed = results.flatMap((result) => result.pushed);
  const isOnDisk = (reference: string): boolean => {
    const destination = parseDestination(reference);
    return typeof destination !== 'string' && destination.kind === 'disk';
  };
  const onDisk = pushed.filter((image) => isOnDisk(image.reference));
  if (onDisk.length > 0 && signing.signers.length > 0) {
    ctx.log.info(`not signed (on disk, not in a registry): ${onDisk.map((image) => image.reference).join(', ')}`);
  }
  const images = pushed
    .filter((image) => !isOnDisk(image.reference))
    .map((image) => (image.digest ? `${image.reference}@${image.digest}` : image.reference));
  return runSigners(signing, images, ctx);
}

/** The error of a signing step with failures: exit 1, one line per failed signer. */
export function signingError(failures: string[], signerCount: number): WorkError {
  return new WorkError([`signing failed for ${failures.length} of ${signerCount} ${signerCount === 1 ? 'signer' : 'signers'}:`, ...failures.map((f) => `  ${f}`)].join('\n'));
}
