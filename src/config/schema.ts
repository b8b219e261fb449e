import { z } from 'zod';
import type { TagTemplate } from '../tags/tag.js';
import { isRecord } from '../support/json.js';
import { duration, httpUrl, kindOf, re2Source, stringOrList, tagTemplateObject, tagTemplateStringOrObject } from './fields.js';
import { signConfigSchema } from './signers.js';

const LOG_FORMATS = ['text', 'color', 'json'] as const;

const cacheSchema = z
  .object({
    enabled: z.boolean().default(false),
    'cache-repo': z.string().min(1).optional().meta({ description: 'repository holding cached layers' }),
    'cache-run-layers': z.boolean().default(false),
    'cache-copy-layers': z.boolean().default(false),
  })
  .superRefine((cache, ctx) => {
    if (cache.enabled && cache['cache-repo'] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cache-repo'], message: 'missing: required when cache.enabled is true' });
    }
  });

/** RE2 (as Go's regexp, linear in time) that must match the whole certificate identity. */
const identityPattern = re2Source("RE2 regular expression (Go's syntax) the WHOLE certificate identity (SAN URI or email) must match");

const trustedKeyless = z.object({
  issuer: z.string().min(1).meta({ description: 'OIDC issuer the certificate must name, e.g. https://token.actions.githubusercontent.com' }),
  identity: identityPattern,
  'trusted-root': z.string().min(1).optional().meta({ description: 'sigstore trusted-root JSON of the Fulcio and Rekor that signed (for the public sigstore instance, its trusted_root.json: none is built in)' }),
});

/** One signer whose attestations make an image reusable: exactly one of a cosign public key or a keyless identity. */
const trustedEntry = z
  .object({
    key: z.string().min(1).optional().meta({ description: 'path of a cosign public key (PEM, ECDSA P-256)' }),
    keyless: trustedKeyless.optional().meta({ description: 'a keyless identity: Fulcio certificate for this OIDC issuer and identity' }),
  })
  .transform(({ key, keyless }, ctx) => {
    if (key !== undefined && keyless !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keyless'], message: 'give either key or keyless, not both: write each signer as its own entry' });
      return z.NEVER;
    }
    if (key !== undefined) return { key };
    if (keyless !== undefined) return { keyless };
    ctx.addIssue({ code: 'custom', message: 'missing: give key (a cosign public key file) or keyless ({issuer, identity})' });
    return z.NEVER;
  })
  .meta({ description: 'exactly one of key or keyless' });

const reuseSchema = z.object({
  enabled: z.boolean().default(false).meta({ description: 'reuse the image already built from the same inputs instead of building it again (not with the ado backend)' }),
  trusted: z
    .array(trustedEntry)
    .default([])
    .meta({ description: 'signers whose provenance attestation makes an image found under inputs-<digest> reusable; nothing found is reused without one' }),
});

const pipelineId = z.union(
  [
    z.int().positive(),
    z
      .string()
      .regex(/^[1-9][0-9]*$/, { error: (iss) => `expected a positive integer, got ${JSON.stringify(iss.input)}` })
      .transform(Number),
  ],
  { error: (iss) => (iss.input === undefined ? 'missing: expected a positive integer' : `expected a positive integer, got ${kindOf(iss.input)}`) },
);

const adoConfigSchema = z.object({
  'ado-organization-url': httpUrl().meta({ description: 'e.g. https://dev.azure.com/my-org' }),
  'ado-project-name': z.string().min(1),
  'ado-pipeline-id': pipelineId,
  'ado-pipeline-version': z.int().min(0).optional().meta({ description: 'pipeline version to run; 0 or absent = latest' }),
  'ado-retry-strategy': z
    .object({
      attempts: z.int().min(1).default(3),
      delay: duration('5s'),
    })
    .prefault({}),
  'ado-refresh-interval': duration('30s', { positive: true }),
  'ado-timeout': duration('3h', { positive: true }),
});

/** tag-template is the legacy spelling of default-commit-tag: the output keeps only the latter. */
function foldTagTemplate<T extends { 'tag-template'?: TagTemplate; 'default-commit-tag'?: TagTemplate }>({
  'tag-template': legacy,
  ...rest
}: T): Omit<T, 'tag-template'> {
  const commitTag = rest['default-commit-tag'] ?? legacy;
  return commitTag === undefined ? rest : { ...rest, 'default-commit-tag': commitTag };
}

export const configSchema = z
  .object({
    registry: stringOrList('repositories images are pushed to'),
    'dev-registry': stringOrList('repositories for pull requests and merge groups'),
    'tag-template': tagTemplateStringOrObject()
      .optional()
      .meta({ description: 'legacy spelling of default-commit-tag: a template string or {name, value, validation}' }),
    'default-commit-tag': tagTemplateObject(false).optional(),
    'default-pr-tag': tagTemplateObject(false).optional(),
    'default-merge-group-tag': tagTemplateObject(false).optional(),
    'additional-pr-tag': tagTemplateObject(true).optional().meta({ description: 'extra tag for pull requests' }),
    reproducible: z.boolean().default(false).meta({ description: 'kaniko --reproducible' }),
    'log-format': z.enum(LOG_FORMATS).optional().meta({ description: 'kaniko --log-format' }),
    cache: cacheSchema.prefault({}),
    reuse: reuseSchema.prefault({}).meta({ description: 'build only what changed: see "Reuse of unchanged images" in the README' }),
    'ado-config': adoConfigSchema.optional().meta({ description: 'Azure DevOps pipeline that builds the image' }),
    'sign-config': signConfigSchema.optional(),
  })
  .superRefine(
    (config, ctx) => {
      if (config['tag-template'] !== undefined && config['default-commit-tag'] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['default-commit-tag'],
          message: 'tag-template and default-commit-tag are two spellings of one setting; keep one',
        });
      }
    },
    // Runs even when other keys have errors, so that every problem is reported in one go.
    { when: (payload) => isRecord(payload.value) },
  )
  .transform(foldTagTemplate);

export type Config = z.output<typeof configSchema>;
export type { SignConfig, Signer } from './signers.js';
