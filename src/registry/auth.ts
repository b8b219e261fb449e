import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '../ci/gitstate.js';
import { InputError, WorkError } from '../errors.js';
import { runCaptured } from '../support/spawn.js';
import { dict } from '../support/dict.js';
import { isRecord } from '../support/json.js';

/** A username and password for one registry, and the file they came from (for messages). */
export interface Credential {
  username: string;
  password: string;
  source: string;
}

/** The credentials of the user's credential files, read once. */
export interface CredentialStore {
  /** The credential of a registry (and repository, for repository-scoped keys of containers auth.json). */
  find(registry: string, repository: string): Promise<Credential | undefined>;
  /** The files searched, for messages. */
  files: string[];
}

/** Runs `docker-credential-<helper> get` for a server; undefined when the helper has no credential for it. */
export type CredentialHelper = (helper: string, serverUrl: string) => Promise<{ username: string; secret: string } | undefined>;

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

/**
 * Reads the credential files once; a missing file is skipped, a malformed one is an InputError naming it.
 * As Docker does, a registry's `credHelpers` entry wins, then `auths`, then the `credsStore` for every registry.
 */
export function loadCredentials(
  env: Env,
  readFile: (file: string) => string = (file) => readFileSync(file, 'utf8'),
  runHelper: CredentialHelper = (helper, serverUrl) => runCredentialHelper(helper, serverUrl, env),
): CredentialStore {
  const files = credentialFiles(env);
  const entries: Array<{ key: string; credential: Credential }> = [];
  const credHelpers: Record<string, { helper: string; file: string }> = {};
  let credsStore: { helper: string; file: string } | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch {
      continue;
    }
    entries.push(...parseAuthFile(text, file));
    const helpers = parseHelpers(text);
    for (const [host, helper] of Object.entries(helpers.credHelpers)) credHelpers[normalizeKey(host)] ??= { helper, file };
    if (helpers.credsStore) credsStore ??= { helper: helpers.credsStore, file };
  }
  // One call per helper and server, shared by concurrent lookups.
  const fromHelpers = new Map<string, Promise<Credential | undefined>>();
  const viaHelper = (use: { helper: string; file: string }, registry: string): Promise<Credential | undefined> => {
    const server = hostAliases(registry).length > 1 ? 'https://index.docker.io/v1/' : registry;
    const key = `${use.helper} ${server}`;
    let found = fromHelpers.get(key);
    if (!found) {
      found = runHelper(use.helper, server).then((answer) => answer && { username: answer.username, password: answer.secret, source: `docker-credential-${use.helper} (${use.file})` });
      fromHelpers.set(key, found);
    }
    return found;
  };
  const find = async (registry: string, repository: string): Promise<Credential | undefined> => {
    const helper = hostAliases(registry).map((host) => credHelpers[host]).find(Boolean);
    if (helper) return viaHelper(helper, registry);
    const keys = hostAliases(registry).flatMap((host) => [`${host}/${repository}`, host]);
    // The longest (most specific) key wins; among equals, the earlier file.
    let best: { key: string; credential: Credential } | undefined;
    for (const entry of entries) {
      const matches = keys.some((key) => key === entry.key || key.startsWith(`${entry.key}/`));
      if (matches && (!best || entry.key.length > best.key.length)) best = entry;
    }
    if (best) return best.credential;
    return credsStore ? viaHelper(credsStore, registry) : undefined;
  };
  return { find, files };
}

/** `credHelpers` (registry → helper name) and `credsStore` (the helper for every registry) of a credential file. */
export function parseHelpers(text: string): { credHelpers: Record<string, string>; credsStore?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { credHelpers: {} };
  }
  const credHelpers: Record<string, string> = dict();
  if (isRecord(json) && isRecord(json.credHelpers)) {
    for (const [host, helper] of Object.entries(json.credHelpers)) if (isHelperName(helper)) credHelpers[host] = helper;
  }
  const store = isRecord(json) ? json.credsStore : undefined;
  return isHelperName(store) ? { credHelpers, credsStore: store } : { credHelpers };
}

const isHelperName = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z0-9_.-]+$/.test(value);

/** The docker-credential-helpers protocol: `get`, the server on stdin, `{"Username","Secret"}` on stdout. */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  env: Env,
  signal?: AbortSignal,
): Promise<{ username: string; secret: string } | undefined> {
  const program = `docker-credential-${helper}`;
  const r = await runCaptured(program, ['get'], { input: serverUrl, env, timeoutMs: HELPER_TIMEOUT_MS, signal });
  if (r.spawnError) {
    const why = r.spawnError.code === 'ENOENT' ? 'is not installed (not on PATH)' : `did not run: ${r.spawnError.message}`;
    throw new WorkError(`${program}, the credential helper config.json names for ${serverUrl}, ${why}`);
  }
  if (r.timedOut) throw new WorkError(`${program} get did not answer for ${serverUrl} within ${HELPER_TIMEOUT_MS / 1000} s`);
  // Not its output: a helper may echo what it was given, and the answer holds the secret.
  if (r.exitCode !== 0) {
    if (/credentials not found/i.test(`${r.stdout}${r.stderr}`)) return undefined;
    throw new WorkError(`${program} get failed for ${serverUrl} (${r.exitCode === undefined ? `signal ${r.signal}` : `exit ${r.exitCode}`})`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(r.stdout);
  } catch {
    throw new WorkError(`${program} get answered for ${serverUrl} with something that is not JSON`);
  }
  if (!isRecord(answer) || typeof answer.Username !== 'string' || typeof answer.Secret !== 'string' || answer.Secret === '') {
    throw new WorkError(`${program} get answered for ${serverUrl} without Username and Secret`);
  }
  return { username: answer.Username, secret: answer.Secret };
}

const HELPER_TIMEOUT_MS = 30_000;

/** The `auths` of a Docker config.json or containers auth.json: base64 `auth`, else `username` + `password`. */
export function parseAuthFile(text: string, file: string): Array<{ key: string; credential: Credential }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file, and the file holds passwords.
    throw new InputError(`${file}: not valid JSON; fix it or remove it`);
  }
  const auths = isRecord(json) && isRecord(json.auths) ? json.auths : {};
  const result: Array<{ key: string; credential: Credential }> = [];
  for (const [rawKey, value] of Object.entries(auths)) {
    if (!isRecord(value)) continue;
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
