import { sign, verify, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { parseReference, type ImageReference } from '../reference.js';
import { DOCKER_MANIFEST, imageName, isIndex, OCI_MANIFEST, RegistryError, type RegistryClient } from '../registry/client.js';
import type { Logger } from '../output/logger.js';
import type { RunContext } from '../support/context.js';
import { sha256 } from '../support/digest.js';
import {
  appendSignature,
  dockerReference,
  hasSignature,
  signatureAnnotations,
  signatureLayer,
  signatureTag,
  simpleSigningPayload,
  type ExistingSignatures,
  type SignatureLayer,
} from './cosign-format.js';
import { loadSignerKey, type CosignKey, type CosignSignerConfig } from './cosign-key.js';
import { attestImages, keyAttesting, keylessAttesting, type SignStatement } from './attestation.js';
import { keylessService, signKeyless, type KeylessService } from './keyless.js';
import type { IdentityToken } from './oidc.js';
import type { ImageSigner, SignResult } from './signer.js';

/** Every request for a `.sig` manifest asks for push too: one token per repository. */
const PUSH = ['pull', 'push'];

/** What the annotations say about the run. */
export interface CosignRun {
  /** The CI system's build number (GitState.buildNumber), for the buildNumber annotation. */
  buildNumber?: string;
  /** The run's start, for the buildTimestamp annotation. */
  now: Date;
  /** The CI's identity token, read before the build when a signer is keyless. */
  identityToken?: IdentityToken;
}

/** How a signer signs a payload: a layer to add, or undefined when a layer already holds this signature. */
type SignPayload = (payload: Buffer, existing: ExistingSignatures | undefined) => Promise<SignatureLayer | undefined>;

/**
 * The cosign signer (kpack's way): the key is opened now (its secrets registered in ctx.log.secrets), so a bad key or
 * password is an InputError before anything is built; each image's manifest digest is signed and the signature
 * appended to its `sha256-<hex>.sig` manifest, and each provenance statement attested in its `.att` manifest. A
 * keyless signer signs both with Fulcio certificates for the run's identity token instead; with `recursive`, each
 * platform manifest of an index is signed too.
 */
export function cosignSigner(signer: CosignSignerConfig, ctx: Pick<RunContext, 'env' | 'log'>, readFile: (path: string) => string, run: CosignRun): ImageSigner {
  const { name, config } = signer;
  const target = config.repository === undefined ? undefined : signatureRepository(config.repository, name);
  const key = config.keyless ? undefined : loadSignerKey(signer, ctx.env, readFile, ctx.log.secrets);
  const { signPayload, signStatement } = key ? { signPayload: keySigning(key), signStatement: keyAttesting(key) } : keylessMethods(signer, readFile, run);
  const annotations = signatureAnnotations(config.annotations, run);
  const options: SignOptions = { signPayload, annotations, target, dockerMediaTypes: config['docker-media-types'] };
  return {
    name,
    async sign(images, registry, { log, signal }): Promise<SignResult> {
      const signed: string[] = [];
      const problems: string[] = [];
      // One image after the other: tags of one digest share a .sig manifest, which must not be written concurrently.
      for (const image of images) {
        try {
          for (const manifest of await manifestsToSign(image, registry, config.recursive)) {
            log.info(`${name}: ${await signImage(manifest, options, registry, log)}`);
          }
          signed.push(image);
        } catch (err) {
          if (signal.aborted) throw err;
          problems.push(err instanceof Error ? err.message : String(err));
        }
      }
      if (problems.length === 0) return { signer: name, ok: true, signed };
      const count = `${problems.length} of ${images.length} ${images.length === 1 ? 'image' : 'images'}`;
      return { signer: name, ok: false, signed, error: `${count} not signed:\n    ${problems.join('\n    ')}` };
    },
    attest: (attestations, registry, runCtx) => attestImages(name, attestations, { signStatement, target, dockerMediaTypes: config['docker-media-types'] }, registry, readSignatures, runCtx),
    // What this run's key attests is trusted by reuse, where this signer stores it.
    ...(key ? { trustKey: { publicKey: key.publicKey, ...(target ? { repository: target } : {}) } } : {}),
  } satisfies ImageSigner;
}

/** With a key: cosign's duplicate check first (this payload already signed by this key: nothing added). */
function keySigning(key: CosignKey): SignPayload {
  return (payload, existing) => {
    if (hasSignature(existing, sha256(payload), (signature) => verifies(payload, signature, key.publicKey))) return Promise.resolve(undefined);
    return Promise.resolve(signatureLayer(payload, sign('sha256', payload, key.privateKey).toString('base64')));
  };
}

/** A keyless signer's ways to sign, its services checked (URLs, trusted root read) now, with the run's identity token. */
function keylessMethods(signer: CosignSignerConfig, readFile: (path: string) => string, run: CosignRun): { signPayload: SignPayload; signStatement: SignStatement } {
  const where = `sign-config signer "${signer.name}"`;
  const service = keylessService(signer.config, readFile, where);
  // Never without a token: prepareSigning reports a missing one (exit 2) before anything is built.
  const token = run.identityToken ?? { origin: where, current: () => Promise.reject(new Error(`${where}: no identity token`)) };
  return { signPayload: keylessSigning(service, token), signStatement: keylessAttesting(service, token) };
}

/** Keyless: a new certificate for each signature, as `cosign sign` without a key; an earlier run's is never taken for it. */
function keylessSigning(service: KeylessService, token: IdentityToken): SignPayload {
  const signedNow = new Set<string>();
  return async (payload, existing) => {
    // Tags of one digest share the payload: signed once per run, not once per tag.
    const digest = sha256(payload);
    if (signedNow.has(digest) && hasSignature(existing, digest, () => true)) return undefined;
    const keyless = await signKeyless(payload, service, token);
    signedNow.add(digest);
    return signatureLayer(payload, keyless.signature, keyless);
  };
}

/** `repository` of the config: where signatures go instead of the image's repository (COSIGN_REPOSITORY). */
export function signatureRepository(text: string, signer: string): Pick<ImageReference, 'registry' | 'repository'> {
  const ref = parseReference(text);
  if (!ref || ref.tag !== undefined || ref.digest !== undefined) {
    throw new InputError(`sign-config signer "${signer}": repository ${JSON.stringify(text)} is not a repository; write registry/path, without tag or digest`);
  }
  return { registry: ref.registry, repository: ref.repository };
}

interface SignOptions {
  signPayload: SignPayload;
  annotations: Record<string, string>;
  target?: Pick<ImageReference, 'registry' | 'repository'>;
  dockerMediaTypes: boolean;
}

/** One manifest to sign: where it is, its digest, and how lines name it. */
interface ManifestToSign {
  ref: ImageReference;
  digest: string;
  named: string;
}

/** The image's manifest by digest; with `recursive` and an index, each of its manifests after it (cosign sign --recursive). */
async function manifestsToSign(image: string, registry: RegistryClient, recursive: boolean): Promise<ManifestToSign[]> {
  const ref = parseReference(image);
  if (!ref) throw new Error(`${image}: not a valid image reference; write registry/path:tag`);
  const manifest = await registry.getManifest(ref);
  const top = { ref, digest: manifest.digest, named: ref.digest ? image : `${image} (${manifest.digest})` };
  if (!recursive || !isIndex(manifest)) return [top];
  const children = (manifest.parsed.manifests ?? []).map((child) => {
    const platform = child.platform ? ` (${[child.platform.os, child.platform.architecture, child.platform.variant].filter(Boolean).join('/')})` : '';
    return { ref: { ...ref, tag: undefined, digest: child.digest }, digest: child.digest, named: `${imageName({ ...ref, tag: undefined, digest: child.digest })}${platform}` };
  });
  return [top, ...children];
}

/** Signs cosign's payload for the manifest's digest, and adds the signature unless it is there already. */
async function signImage({ ref, digest, named }: ManifestToSign, options: SignOptions, registry: RegistryClient, log: Logger): Promise<string> {
  const payload = simpleSigningPayload(dockerReference(ref), digest, options.annotations);
  log.debug(`cosign payload for ${named}: ${payload.toString('utf8')}`);
  const sigRef: ImageReference = { ...(options.target ?? { registry: ref.registry, repository: ref.repository }), tag: signatureTag(digest) };
  const where = imageName(sigRef);
  const existing = await readSignatures(registry, sigRef);
  const layer = await options.signPayload(payload, existing);
  if (!layer) return `${named} already has this signature in ${where}; nothing pushed`;
  const next = appendSignature(existing, layer, options.dockerMediaTypes);
  await registry.pushBlob(sigRef, payload);
  await registry.pushBlob(sigRef, next.config);
  await registry.putManifest(sigRef, next.manifest, next.mediaType);
  return `signed ${named} → ${where} (${next.count} ${next.count === 1 ? 'signature' : 'signatures'})`;
}

/** The `.sig` (or `.att`) manifest and its config, or undefined when the image has none yet. */
export async function readSignatures(registry: RegistryClient, sigRef: ImageReference): Promise<ExistingSignatures | undefined> {
  let manifest;
  try {
    manifest = await registry.getManifest(sigRef, PUSH);
  } catch (err) {
    if (err instanceof RegistryError && err.reason === 'not-found') return undefined;
    throw err;
  }
  const where = imageName(sigRef);
  if (manifest.mediaType !== OCI_MANIFEST && manifest.mediaType !== DOCKER_MANIFEST) {
    throw new Error(`${where}: holds ${manifest.mediaType}, not a cosign signature manifest; not overwritten`);
  }
  const configDigest = manifest.parsed.config?.digest;
  if (typeof configDigest !== 'string') throw new Error(`${where}: the signature manifest has no config; not overwritten`);
  let config: unknown;
  try {
    config = JSON.parse((await registry.getBlob(sigRef, configDigest, PUSH)).toString('utf8'));
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    config = undefined;
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${where}: the signature config is not a JSON object; not overwritten`);
  return { mediaType: manifest.mediaType, manifest: manifest.parsed as ExistingSignatures['manifest'], config: config as Record<string, unknown> };
}

function verifies(payload: Buffer, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', payload, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
