import { hasUrlCredentials, MASK } from '../support/secrets.js';
import { isSecretLookingName } from '../tags/index.js';

/**
 * Build args whose names look secret (NPM_TOKEN, …), and values holding a URL with credentials
 * (HTTP_PROXY=http://user:pass@proxy), are shown masked wherever people can read them.
 */
export function maskArgs<V extends string | null>(args: Record<string, V>): Record<string, V | typeof MASK> {
  // A declared ARG listed per stage is `NAME@stage`: its name decides.
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v !== null && (isSecretLookingName(k.split('@')[0] ?? k) || hasUrlCredentials(v)) ? MASK : v]));
}
