import { readFileSync } from 'node:fs';
import type { Env } from './ci/gitstate.js';
import type { Plan } from './plan-types.js';
import type { Signer } from './config/schema.js';
import { maskArgs } from './output/redact.js';
import { backendNamed } from './backends/index.js';
import { provenancePreview } from './sign/provenance-run.js';
import { describeClientCertificate } from './sign/notary-secret.js';
import { describeTrusted } from './reuse/trusted.js';
import { isRecord } from './support/json.js';
import type { Secrets } from './support/secrets.js';

/**
 * The dry-run as printed: JSON whose every key and string value is masked through the run's secrets, so that what a
 * secret went into (ARG DERIVED=pre-${NPM_TOKEN}) is masked too; masked before it is serialised, the JSON stays valid.
 */
export function dryRunJson(report: Record<string, unknown>, secrets: Pick<Secrets, 'redact'>): string {
  const mask = (_key: string, value: unknown): unknown => {
    if (typeof value === 'string') return secrets.redact(value);
    // The values of this copy pass through here in turn.
    return isRecord(value) ? Object.fromEntries(Object.entries(value).map(([key, v]) => [secrets.redact(key), v])) : value;
  };
  return JSON.stringify(report, mask, 2);
}

/** The whole plan as printed by --dry-run: no network, no builder, secrets masked. */
export function dryRunReport(plan: Plan, env: Env, version = ''): Record<string, unknown> {
  const masked: Plan = {
    ...plan,
    builds: plan.builds.map((b) => ({ ...b, buildArgs: maskArgs(b.buildArgs), ...(b.inputs ? { inputs: { ...b.inputs, buildArgs: maskArgs(b.inputs.buildArgs) } } : {}) })),
  };
  const building = plan.mode === 'build';
  const trusted = building && plan.reuse.enabled ? trustedList(plan) : undefined;
  const description = building ? backendNamed(plan.backend)?.describe(masked, env) : undefined;
  return {
    dryRun: true,
    mode: plan.mode,
    backend: building ? plan.backend : undefined,
    gitState: plan.gitState,
    name: plan.name,
    context: plan.context,
    dockerfile: plan.dockerfile,
    tags: plan.tags,
    repositories: plan.repositories,
    platforms: plan.platforms,
    target: plan.target,
    // Ids and sources (a file, a variable), never a value.
    secrets: building && plan.secrets.length > 0 ? plan.secrets : undefined,
    cache: plan.cache,
    reuse: building ? { ...plan.reuse, trusted } : undefined,
    ...description?.fields,
    builds: masked.builds.map((unit, i) => ({
      ...unit,
      ...(unit.inputs ? { inputs: { ...unit.inputs, trusted } } : {}),
      destinations: unit.destinations.map((d) => d.reference),
      commands: description?.commands?.[i],
    })),
    signers: plan.signers.map((s) => ({ name: s.name, type: s.type, ...signerFields(s) })),
    skippedSigners: plan.skippedSigners.length > 0 ? plan.skippedSigners : undefined,
    provenance: provenancePreview(masked, env, version),
    imagesToSign: plan.mode === 'sign-only' ? plan.imagesToSign : undefined,
    outputs: { ...plan.outputs, logDir: plan.logDir },
  };
}

/** Who may prove a reused image's origin: reuse.trusted, then each cosign signer of the run with a key (its public key). */
function trustedList(plan: Plan): Record<string, unknown>[] {
  const own = plan.signers.flatMap((s) => (s.type === 'cosign' && !s.config.keyless && s.config.key ? [{ trusted: `signer "${s.name}"`, key: s.config.key, publicKey: 'derived from the signing key when the run starts' }] : []));
  return [...plan.reuse.trusted.map(describeTrusted), ...own];
}

/**
 * What a signer's line of the dry-run says besides its name and type: where it signs, never a secret; for a TLS client
 * certificate (read from the secret file, if readable) when it expires, and a warning when it is (nearly) out of date.
 */
function signerFields(s: Signer, readFile = (path: string) => readFileSync(path, 'utf8'), now = new Date()): Record<string, unknown> {
  if (s.type === 'notary') return { endpoint: s.config.endpoint, secretType: s.config.secret.type, ...describeClientCertificate(s, readFile, now) };
  const where = s.config.keyless ? { fulcioUrl: s.config['fulcio-url'], rekorUrl: s.config['rekor-url'] } : {};
  return { keyless: s.config.keyless, ...where, recursive: s.config.recursive };
}
