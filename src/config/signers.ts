import { z } from 'zod';
import { isRecord } from '../support/json.js';
import { duration, httpUrl, kindOf } from './fields.js';

const SECRET_TYPES = ['token', 'signify', 'signify-mtls'] as const;

const notarySecret = z.object({
  path: z.string().min(1).meta({ description: 'file holding the secret' }),
  type: z.enum(SECRET_TYPES, {
    error: (iss) =>
      iss.input === undefined
        ? `missing; expected one of: ${SECRET_TYPES.join(', ')}`
        : `unknown secret type ${JSON.stringify(iss.input)} (known: ${SECRET_TYPES.join(', ')})`,
  }),
});

/** What a notary signer without `secret` becomes: it signs without authentication (compat). Never written in config.yaml. */
export const NO_SECRET = { type: 'none' } as const;

const notaryConfig = z.object({
  endpoint: httpUrl().meta({ description: 'signing service URL' }),
  timeout: duration('5m', { positive: true }),
  'retry-timeout': duration('10s'),
  secret: notarySecret
    .optional()
    .transform((secret): z.output<typeof notarySecret> | typeof NO_SECRET => secret ?? NO_SECRET)
    .meta({ description: 'how to authenticate to the signing service; leave it out to sign without authentication' }),
});

/** The public sigstore instance, where keyless signatures go unless fulcio-url and rekor-url say otherwise. */
export const PUBLIC_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_REKOR_URL = 'https://rekor.sigstore.dev';

const cosignConfig = z
  .object({
    key: z.string().min(1).optional().meta({ description: 'path of the cosign private key; leave it out with keyless: true' }),
    'password-env': z.string().min(1).optional().meta({ description: 'environment variable holding the key password' }),
    'password-file': z.string().min(1).optional().meta({ description: 'file holding the key password' }),
    keyless: z.boolean().default(false).meta({ description: "sign with a short-lived Fulcio certificate for the CI's OIDC identity, recorded in Rekor" }),
    'fulcio-url': httpUrl().default(PUBLIC_FULCIO_URL).meta({ description: 'Fulcio (certificate authority) of a keyless signer' }),
    'rekor-url': httpUrl().default(PUBLIC_REKOR_URL).meta({ description: 'Rekor (transparency log) of a keyless signer' }),
    'trusted-root': z.string().min(1).optional().meta({ description: 'sigstore trusted-root JSON of a private instance; each keyless signature is verified against it' }),
    recursive: z.boolean().default(false).meta({ description: 'also sign each platform manifest of an image index' }),
    repository: z.string().min(1).optional().meta({ description: 'repository to store signatures in (COSIGN_REPOSITORY)' }),
    'docker-media-types': z.boolean().default(false),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((config, ctx) => {
    if (config['password-env'] !== undefined && config['password-file'] !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password-file'], message: 'give either password-env or password-file, not both' });
    }
    if (config.keyless) {
      for (const field of ['key', 'password-env', 'password-file'] as const) {
        if (config[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `a keyless signer has no ${field}; remove it (or remove keyless: true, to sign with the key)` });
      }
    } else {
      if (config.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'missing; give the path of the cosign private key, or keyless: true' });
      if (config['trusted-root'] !== undefined) ctx.addIssue({ code: 'custom', path: ['trusted-root'], message: 'is for keyless signing; add keyless: true or remove it' });
    }
  });

const signerFields = {
  name: z.string().min(1),
  'job-type': z
    .array(z.enum(['presubmit', 'postsubmit', 'merge_group', 'workflow_dispatch', 'schedule']))
    .optional()
    .meta({ description: 'run only in CI jobs of these types' }),
};

const signerOptions = [
  z.object({ ...signerFields, type: z.literal('notary'), config: notaryConfig }),
  z.object({ ...signerFields, type: z.literal('cosign'), config: cosignConfig }),
] as const;

export const SIGNER_TYPES = signerOptions.map((option) => option.shape.type.value);

const signer = z.discriminatedUnion('type', signerOptions, {
  error: (iss) => {
    if (iss.code !== 'invalid_union') return `expected a signer mapping {name, type, config}, got ${kindOf(iss.input)}`;
    const type = isRecord(iss.input) ? iss.input.type : undefined;
    const known = SIGNER_TYPES.join(', ');
    return type === undefined ? `missing; expected one of: ${known}` : `unknown signer type ${JSON.stringify(type)} (known: ${known})`;
  },
});

function namesOf(signers: unknown): (string | undefined)[] {
  if (!Array.isArray(signers)) return [];
  return signers.map((s: unknown) => (isRecord(s) && typeof s.name === 'string' ? s.name : undefined));
}

export const signConfigSchema = z
  .object({
    'enabled-signers': z
      .record(
        z.string().regex(/^(\*|[^/\s]+\/[^/\s]+)$/, { error: 'expected "*" (every repository) or "org/repo"' }),
        z.array(z.string().min(1)),
      )
      .default({})
      .meta({ description: 'signer names to use, for every repository ("*") or for one "org/repo"' }),
    signers: z.array(signer).default([]),
  })
  .superRefine(
    (value, ctx) => {
      const names = namesOf(value.signers);
      names.forEach((name, i) => {
        const first = names.indexOf(name);
        if (name !== undefined && first < i) {
          ctx.addIssue({ code: 'custom', path: ['signers', i, 'name'], message: `signer name ${JSON.stringify(name)} is already used by signers[${first}]` });
        }
      });
      const defined = [...new Set(names.filter((name) => name !== undefined))];
      const enabled: unknown = value['enabled-signers'];
      for (const [repo, list] of Object.entries(isRecord(enabled) ? enabled : {})) {
        if (!Array.isArray(list)) continue;
        list.forEach((name: unknown, i) => {
          if (typeof name !== 'string' || defined.includes(name)) return;
          const known = defined.length > 0 ? `defined: ${defined.join(', ')}` : 'none defined';
          ctx.addIssue({ code: 'custom', path: ['enabled-signers', repo, i], message: `signer ${JSON.stringify(name)} is not defined under sign-config.signers (${known})` });
        });
      }
    },
    // Runs even when a signer has errors, so that every problem is reported in one go.
    { when: (payload) => isRecord(payload.value) },
  );

export type SignConfig = z.output<typeof signConfigSchema>;
export type Signer = SignConfig['signers'][number];
