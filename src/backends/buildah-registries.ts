/**
 * buildah pulls over HTTPS unless a registries.conf says otherwise, while SPEC 6 speaks plain HTTP to loopback
 * registries: each build gets a registries.conf of its own, the one buildah would read plus an insecure entry for each
 * loopback registry the build pulls from or pushes to, and no other.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import { analyseDockerfile, type BuildSettings } from '../inputs/dockerfile.js';
import type { BuildUnit, Plan } from '../plan-types.js';
import { isLoopbackHost, registryHost, type Destination } from '../reference.js';

/** The loopback registries a build reaches: those of the images its Dockerfile pulls (ARGs substituted) and its destinations. */
export function loopbackRegistries(dockerfile: string, settings: BuildSettings, destinations: readonly Destination[]): string[] {
  const pulled = analyseDockerfile(dockerfile, settings).baseImages.map(registryHost);
  const pushed = destinations.flatMap((d) => (d.kind === 'registry' ? [d.image.registry] : []));
  return [...new Set([...pulled, ...pushed].filter(isLoopbackHost))].sort();
}

/**
 * The registries.conf buildah reads when we say nothing (containers-registries.conf(5), libimage): the one the
 * environment names (explicit), else the user's, else the system's.
 */
export function baseRegistriesConf(env: Env): { file: string; explicit: boolean } {
  const named = env.CONTAINERS_REGISTRIES_CONF || env.REGISTRIES_CONFIG_PATH;
  if (named) return { file: named, explicit: true };
  const user = path.join(env.HOME || os.homedir(), '.config', 'containers', 'registries.conf');
  return { file: existsSync(user) ? user : '/etc/containers/registries.conf', explicit: false };
}

const V1_TABLE = /^\s*\[\s*registries\.(?:search|insecure|block)\s*\]/m;
const V1_INSECURE = /^(\s*\[\s*registries\.insecure\s*\][^[]*?\bregistries\s*=\s*\[)/m;

/**
 * `base` (a registries.conf, v2 or the old v1 format, which must not be mixed) with each registry marked insecure.
 * A registry base already configures is left as it is: a second entry with another `insecure` is an error to buildah.
 */
export function insecureRegistriesConf(base: string, registries: readonly string[]): string {
  const text = base === '' || base.endsWith('\n') ? base : `${base}\n`;
  const quoted = registries.map((registry) => JSON.stringify(registry));
  if (V1_TABLE.test(text)) {
    // A trailing comma is valid TOML, so the list may be empty or not.
    if (V1_INSECURE.test(text)) return text.replace(V1_INSECURE, (head) => `${head}${quoted.join(', ')}, `);
    return `${text}\n[registries.insecure]\nregistries = [${quoted.join(', ')}]\n`;
  }
  const configured = new Set([...text.matchAll(/^\s*location\s*=\s*["']([^"']*)["']/gm)].map((m) => m[1]));
  const entries = quoted.filter((_, i) => !configured.has(registries[i])).map((q) => `\n[[registry]]\nlocation = ${q}\ninsecure = true\n`);
  return `${text}${entries.join('')}`;
}

/**
 * The environment of buildah for one build: when it reaches loopback registries, CONTAINERS_REGISTRIES_CONF names a
 * registries.conf written into dir (the build's private folder) that marks them insecure. `log` says what was done.
 */
export async function buildahEnv(plan: Plan, unit: BuildUnit, env: Env, dir: string | undefined, log: (line: string) => void): Promise<Env> {
  let registries: string[];
  try {
    const dockerfile = await readFile(path.resolve(plan.context, plan.dockerfile), 'utf8');
    registries = loopbackRegistries(dockerfile, { buildArgs: unit.buildArgs, target: plan.target, platforms: plan.platforms }, unit.destinations);
  } catch {
    // buildah reads the Dockerfile next and says what is wrong with it.
    return env;
  }
  if (registries.length === 0) return env;
  const base = baseRegistriesConf(env);
  const file = dir && path.join(dir, 'registries.conf');
  try {
    // A file the environment names must be there (buildah says so otherwise); the default ones need not.
    const text = await readFile(base.file, 'utf8').catch((err: unknown) => (base.explicit ? Promise.reject(err) : ''));
    if (!file) throw new Error('no private folder for it');
    await writeFile(file, `# image-builder: ${base.file}, and the loopback registries of this build over plain HTTP\n${insecureRegistriesConf(text, registries)}`);
  } catch (err) {
    log(`image-builder: no registries.conf of our own (${err instanceof Error ? err.message : String(err)}): buildah reaches ${registries.join(', ')} over HTTPS`);
    return env;
  }
  log(`image-builder: buildah reaches ${registries.join(', ')} over plain HTTP (loopback registries; ${file})`);
  return { ...env, CONTAINERS_REGISTRIES_CONF: file };
}
