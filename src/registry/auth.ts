import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import { InputError } from '../errors.js';

/** A username and password for one registry, and the file they came from (for messages). */
export interface Credential {
  username: string;
  password: string;
  source: string;
}

/** The credentials of the user's credential files, read once. */
export interface CredentialStore {
  /** The credential of a registry (and repository, for repository-scoped keys of containers auth.json). */
  find(registry: string, repository: string): Credential | undefined;
  /** The files searched, for messages. */
  files: string[];
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
}

/**
 * The credential files, first match wins: REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json
 * (where buildah login writes), then $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 */
export function credentialFiles(env: Env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  else if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  const dockerDir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  files.push(path.join(dockerDir, 'config.json'));
  return files;
}

/** Reads the credential files once; a missing file is skipped, a malformed one is an InputError naming it. */
export function loadCredentials(env: Env, readFile: (file: string) => string = (file) => readFileSync(file, 'utf8')): CredentialStore {
  const files = credentialFiles(env);
  const entries: Array<{ key: string; credential: Credential }> = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch {
      continue;
    }
    entries.push(...parseAuthFile(text, file));
  }
  const find = (registry: string, repository: string): Credential | undefined => {
    const keys = hostAliases(registry).flatMap((host) => [`${host}/${repository}`, host]);
    // The longest (most specific) key wins; among equals, the earlier file.
    let best: { key: string; credential: Credential } | undefined;
    for (const entry of entries) {
      const matches = keys.some((key) => key === entry.key || key.startsWith(`${entry.key}/`));
      if (matches && (!best || entry.key.length > best.key.length)) best = entry;
    }
    return best?.credential;
  };
  return { find, files };
}

/** The `auths` of a Docker config.json or containers auth.json: base64 `auth`, else `username` + `password`. */
export function parseAuthFile(text: string, file: string): Array<{ key: string; credential: Credential }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file, and the file holds passwords.
    throw new InputError(`${file}: not valid JSON; fix it or remove it`);
  }
  const auths = isObject(json) && isObject(json.auths) ? json.auths : {};
  const result: Array<{ key: string; credential: Credential }> = [];
  for (const [rawKey, value] of Object.entries(auths)) {
    if (!isObject(value)) continue;
    const credential = credentialOf(value as AuthEntry, file);
    if (credential) result.push({ key: normalizeKey(rawKey), credential });
  }
  return result;
}

function credentialOf(entry: AuthEntry, source: string): Credential | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}

/** `https://host/v1/` and `host` name the same registry in config.json. */
export function normalizeKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '')
    .replace(/\/v[12]$/, '');
}

/** Docker Hub is written three ways; its credentials are stored under index.docker.io. */
function hostAliases(registry: string): string[] {
  const hub = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
  return hub.includes(registry) ? hub : [registry];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
