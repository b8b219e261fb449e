/** Base images of a build, resolved to the digests their registries give them now: part of the inputs digest. */
import { resolveBaseImage, type Resolution } from '../registry/base-image.js';
import type { RegistryClient } from '../registry/client.js';

/** Resolves each name once per run: variants mostly share their base images. Never throws. */
export class BaseImages {
  private readonly resolved = new Map<string, Promise<Resolution>>();

  constructor(private readonly client: () => RegistryClient) {}

  resolve(name: string): Promise<Resolution> {
    let found = this.resolved.get(name);
    if (!found) {
      found = resolveBaseImage(this.client(), name);
      this.resolved.set(name, found);
    }
    return found;
  }
}
