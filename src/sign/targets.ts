import { parseReference } from '../reference.js';
import { isIndex, type Manifest, type RegistryClient } from '../registry/client.js';

/** What a notary signing request says about one image: read from the registry, never from the build. */
export interface SignTarget {
  /** The image as given, for messages. */
  image: string;
  /** `registry/path`: the repository without the tag. */
  gun: string;
  tag: string;
  /** The manifest, or for an image index the index itself. */
  manifest: { digest: string; size: number; mediaType: string };
  /** The image config; for an index, that of its linux/amd64 image. Absent when not asked for. */
  config?: { digest: string; size: number };
}

export interface Resolved {
  targets: SignTarget[];
  /** One line per image that cannot be signed, naming it. */
  problems: string[];
}

/** Reads every image's manifest (and config descriptor when `withConfig`), concurrently; problems name the image. */
export async function resolveTargets(images: string[], registry: RegistryClient, withConfig: boolean): Promise<Resolved> {
  const outcomes = await Promise.all(
    images.map(async (image): Promise<SignTarget | string> => {
      try {
        return await resolveTarget(image, registry, withConfig);
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    }),
  );
  return {
    targets: outcomes.filter((o): o is SignTarget => typeof o !== 'string'),
    problems: outcomes.filter((o): o is string => typeof o === 'string'),
  };
}

async function resolveTarget(image: string, registry: RegistryClient, withConfig: boolean): Promise<SignTarget> {
  const ref = parseReference(image);
  if (!ref) throw new Error(`${image}: not a valid image reference; write registry/path:tag`);
  if (!ref.tag) throw new Error(`${image}: not a tag; notary signs tags, write registry/path:tag`);
  const manifest = await registry.getManifest(ref);
  const target: SignTarget = {
    image,
    gun: `${ref.registry}/${ref.repository}`,
    tag: ref.tag,
    manifest: { digest: manifest.digest, size: manifest.size, mediaType: manifest.mediaType },
  };
  if (!withConfig) return target;
  // compat: for an index the Go tool signed the config of the image a linux/amd64 client pulls.
  const single: Manifest = isIndex(manifest) ? await registry.getManifest({ ...ref, tag: undefined, digest: amd64Child(image, manifest) }) : manifest;
  const config = single.parsed.config;
  if (!config || typeof config.digest !== 'string' || typeof config.size !== 'number') {
    throw new Error(`${image}: the manifest has no config descriptor`);
  }
  return { ...target, config: { digest: config.digest, size: config.size } };
}

function amd64Child(image: string, index: Manifest): string {
  const child = index.parsed.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
  if (!child) throw new Error(`${image}: an image index without a linux/amd64 image; the token and signify protocols sign one image config`);
  return child.digest;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** Body of the `token` and `signify` protocols. */
export function tokenBody(targets: SignTarget[]): Array<{ notaryGun: string; sha256: string; byteSize: number; version: string }> {
  return targets.map((t) => {
    if (!t.config) throw new Error(`${t.image}: no config descriptor was read`);
    return { notaryGun: t.gun, sha256: hex(t.config.digest), byteSize: t.config.size, version: t.tag };
  });
}

/** Body of the `signify-mtls` protocol: one trusted collection per image; an index is signed by its own digest. */
export function mtlsBody(targets: SignTarget[]): { trustedCollections: Array<{ gun: string; targets: Array<{ name: string; byteSize: number; digest: string }> }> } {
  return {
    trustedCollections: targets.map((t) => ({ gun: t.gun, targets: [{ name: t.tag, byteSize: t.manifest.size, digest: hex(t.manifest.digest) }] })),
  };
}
