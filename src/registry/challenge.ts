import { dict } from '../support/dict.js';
import { isRecord } from '../support/json.js';

/** What a registry's 401 asks for: `Bearer realm=…,service=…,scope=…` or `Basic realm=…`. */
export interface Challenge {
  /** Lower-case: `bearer`, `basic`, or another scheme the client does not speak. */
  scheme: string;
  params: Record<string, string>;
}

/** Parses the first challenge of a WWW-Authenticate header; quoted values may hold commas and escaped quotes. */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  const head = /^\s*([A-Za-z][\w-]*)(?:\s+(.*))?$/s.exec(header ?? '');
  if (!head?.[1]) return undefined;
  const params: Record<string, string> = dict();
  const rest = head[2] ?? '';
  const param = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/gy;
  for (let m = param.exec(rest); m; m = param.exec(rest)) {
    const [, name = '', quoted, bare] = m;
    params[name.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
    if (param.lastIndex >= rest.length) break;
  }
  return { scheme: head[1].toLowerCase(), params };
}

/** The token URL of a bearer challenge: realm?service=…&scope=… (the scope the registry asked for, else ours). */
export function tokenUrl(challenge: Challenge, fallbackScope: string): URL {
  const url = new URL(challenge.params.realm ?? '');
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const scope of (challenge.params.scope || fallbackScope).split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
  return url;
}

/** A token server answers `{token}` (Docker) or `{access_token}` (OAuth2); either is the bearer token. */
export function tokenOf(answer: unknown): string | undefined {
  if (!isRecord(answer)) return undefined;
  const { token, access_token: accessToken } = answer;
  if (typeof token === 'string' && token !== '') return token;
  if (typeof accessToken === 'string' && accessToken !== '') return accessToken;
  return undefined;
}
