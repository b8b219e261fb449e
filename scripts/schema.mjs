// Writes config.schema.json from the zod schema, via the build (npm run schema).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../dist/json-schema.js';

const target = new URL('../config.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.error(`wrote ${target.pathname}`);
