import { MASK } from '../support/secrets.js';
import { isSecretLookingName } from '../tags/index.js';

/** Build args whose names look secret (NPM_TOKEN, …) are shown masked wherever people can read them. */
export function maskArgs(args: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, isSecretLookingName(k) ? MASK : v]));
}
