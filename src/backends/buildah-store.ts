/** The tool's own buildah store (never the user's default one). */
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';

/** Every image this tool names in its store starts so (see localImageName); base images are kept as a cache. */
export const LOCAL_IMAGE_PREFIX = 'localhost/image-builder/';

/** The tool's own cache, never the user's global container store. */
export function cacheDir(env: Env): string {
  if (env.IMAGE_BUILDER_CACHE_DIR) return env.IMAGE_BUILDER_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'image-builder');
  return path.join(env.HOME || os.homedir(), '.cache', 'image-builder');
}

/** buildah with the options of our store: the start of every buildah argv. */
export function storeArgv(env: Env): string[] {
  const store = path.join(cacheDir(env), 'buildah');
  return [env.BUILDAH || 'buildah', '--root', path.join(store, 'root'), '--runroot', path.join(store, 'runroot'), '--storage-driver=vfs'];
}
