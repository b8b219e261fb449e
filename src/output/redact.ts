import { isSecretLookingName } from '../tags/index.js';

export const MASK = '***';

/** Build args whose names look secret (NPM_TOKEN, …) are shown masked wherever people can read them. */
export function maskArgs(args: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, isSecretLookingName(k) ? MASK : v]));
}

/** Replaces every known secret value in a text; values shorter than 4 characters are left alone to keep text readable. */
export function redactText(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(MASK);
  }
  return out;
}
