import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema (draft 2020-12) of what people write in config.yaml, for editors and linters. */
export function configJsonSchema(): object {
  const { $schema, ...rest } = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    $schema,
    $id: 'urn:image-builder:config',
    title: 'image-builder config.yaml',
    description: 'Registries, tags, cache, Azure DevOps pipeline and signers used by image-builder.',
    ...rest,
  };
}
