import { sign, verify, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { parseReference, type ImageReference } from '../reference.js';
import { DOCKER_MANIFEST, imageName, OCI_MANIFEST, RegistryError, type RegistryClient } from '../registry/client.js';
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
} from './cosign-format.js';
import { loadSignerKey, type CosignKey, type CosignSignerConfig } from './cosign-key.js';
import { attestImages } from './attestation.js';
import type { ImageSigner, SignResult } from './signer.js';

/** Every request for a `.sig` manifest asks for push too: one token per repository. */
const PUSH = ['pull', 'push'];

/** What the annotations say about the run. */
export interface CosignRun {
  /** The CI system's build number (GitState.buildNumber), for the buildNumber annotation. */
  buildNumber?: string;
  /** The run's start, for the buildTimestamp annotation. */
  now: Date;
}

/**
 * The cosign signer (kpack's way): the key is opened now (its secrets registered in ctx.log.secrets), so a bad key or
 * password is an InputError before anything is built; each image's manifest digest is signed and the signature
 * appended to its `sha256-<hex>.sig` manifest.
 */
export function cosignSigner(signer: CosignSignerConfig, ctx: Pick<RunContext, 'env' | 'log'>, readFile: (path: string) => string, run: CosignRun): ImageSigner {
  const { name, config } = signer;
  const target = config.repository === undefined ? undefined : signatureRepository(config.repository, name);
  const key = loadSignerKey(signer, ctx.env, readFile, ctx.log.secrets);
  const annotations = signatureAnnotations(config.annotations, run);
  return {
    name,
    async sign(images, registry, { log, signal }): Promise<SignResult> {
      const signed: string[] = [];
      const problems: string[] = [];
      // One image after the other: tags of one digest share a .sig manifest, which must not be written concurrently.
      for (const image of images) {
        try {
          const line = await signImage(image, { key, annotations, target, dockerMediaTypes: config['docker-media-types'] }, registry, log);
          log.info(`${name}: ${line}`);
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
    attest: (attestations, registry, runCtx) =>
      attestImages(name, attestations, { key, target, dockerMediaTypes: config['docker-media-types'] }, registry, readSignatures, runCtx),
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
  key: CosignKey;
  annotations: Record<string, string>;
  target?: Pick<ImageReference, 'registry' | 'repository'>;
  dockerMediaTypes: boolean;
}

/** Resolves the image's digest, signs cosign's payload for it, and adds the signature unless it is there already. */
async function signImage(image: string, options: SignOptions, registry: RegistryClient, log: Logger): Promise<string> {
  const ref = parseReference(image);
  if (!ref) throw new Error(`${image}: not a valid image reference; write registry/path:tag`);
  const { digest } = await registry.getManifest(ref);
  const payload = simpleSigningPayload(dockerReference(ref), digest, options.annotations);
  log.debug(`cosign payload for ${image}: ${payload.toString('utf8')}`);
  const sigRef: ImageReference = { ...(options.target ?? { registry: ref.registry, repository: ref.repository }), tag: signatureTag(digest) };
  const where = imageName(sigRef);
  const named = ref.digest ? image : `${image} (${digest})`;
  const existing = await readSignatures(registry, sigRef);
  if (hasSignature(existing, sha256(payload), (signature) => verifies(payload, signature, options.key.publicKey))) {
    return `${named} already has this signature in ${where}; nothing pushed`;
  }
  const layer = signatureLayer(payload, sign('sha256', payload, options.key.privateKey).toString('base64'));
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
