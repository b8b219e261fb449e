import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/json-schema.js';

interface JsonSchema {
  [key: string]: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

const schema = configJsonSchema() as JsonSchema;
const props = schema.properties ?? {};

function at(root: JsonSchema | undefined, ...keys: string[]): JsonSchema | undefined {
  return keys.reduce<JsonSchema | undefined>((node, key) => node?.properties?.[key], root);
}

describe('configJsonSchema describes what people write', () => {
  it('is a draft 2020-12 schema with an id, title and description', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: expect.any(String),
      title: expect.any(String),
      description: expect.any(String),
      type: 'object',
    });
    expect(schema.required).toBeUndefined();
  });

  it('lists every top-level key in its input spelling', () => {
    expect(Object.keys(props).sort()).toEqual(
      [
        'registry', 'dev-registry', 'tag-template', 'default-commit-tag', 'default-pr-tag', 'default-merge-group-tag',
        'additional-pr-tag', 'reproducible', 'log-format', 'cache', 'reuse', 'ado-config', 'sign-config',
      ].sort(),
    );
  });

  it.each(['registry', 'dev-registry'])('%s is a string or a list of strings', (key) => {
    expect(props[key]?.anyOf).toEqual([
      { type: 'string', minLength: 1 },
      { type: 'array', items: { type: 'string', minLength: 1 } },
    ]);
  });

  it('tag-template is a string or a {name, value, validation} object', () => {
    const [text, object] = props['tag-template']?.anyOf ?? [];
    expect(text).toMatchObject({ type: 'string' });
    expect(object).toMatchObject({ type: 'object', required: ['value'], properties: { name: { default: 'default_tag' } } });
    expect(Object.keys(object?.properties ?? {})).toEqual(['name', 'value', 'validation']);
  });

  it('additional-pr-tag requires its name', () => {
    expect(props['additional-pr-tag']?.required).toEqual(['name', 'value']);
  });

  it('durations are strings with their Go defaults, not milliseconds', () => {
    expect(at(schema, 'ado-config', 'ado-timeout')).toMatchObject({ type: 'string', default: '3h' });
    expect(at(schema, 'ado-config', 'ado-retry-strategy', 'delay')).toMatchObject({ type: 'string', default: '5s' });
  });

  it('ado-pipeline-id is a positive integer or a numeric string', () => {
    expect(at(schema, 'ado-config', 'ado-pipeline-id')?.anyOf).toMatchObject([{ type: 'integer', exclusiveMinimum: 0 }, { type: 'string' }]);
  });

  it('signers are a union on type, each with its own config', () => {
    const options = at(schema, 'sign-config', 'signers')?.items?.oneOf ?? [];
    expect(options.map((option) => at(option, 'type')?.const)).toEqual(['notary', 'cosign']);
    const [notary, cosign] = options;
    expect(at(notary, 'config', 'secret', 'type')?.enum).toEqual(['token', 'signify', 'signify-mtls']);
    // A notary signer without secret signs without authentication (compat).
    expect(at(notary, 'config')?.required).toEqual(['endpoint']);
    expect(at(notary, 'config', 'secret')?.required).toEqual(['path', 'type']);
    expect(at(notary, 'config', 'timeout')).toMatchObject({ type: 'string', default: '5m' });
    expect(Object.keys(at(cosign, 'config')?.properties ?? {})).toEqual([
      'key', 'password-env', 'password-file', 'keyless', 'fulcio-url', 'rekor-url', 'trusted-root', 'recursive', 'repository', 'docker-media-types', 'annotations',
    ]);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('config.schema.json at the project root', () => {
  it('is what `npm run schema` writes from the current schema (run it after changing the schema)', async () => {
    const { readFileSync } = await import('node:fs');
    const committed = JSON.parse(readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
