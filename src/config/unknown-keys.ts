import type { z } from 'zod';
import { editDistance } from '../support/closest.js';
import { isRecord } from '../support/json.js';

export interface UnknownKey {
  /** Path of the mapping holding the key. */
  path: PropertyKey[];
  key: string;
  /** The closest known key of that mapping, when one is close enough to be a typo. */
  suggestion?: string;
}

type Schema = z.core.$ZodType;

/** The schema a union uses for this data: by discriminator, else the first option of the data's shape. */
function unionOption(def: z.core.$ZodUnionDef & { discriminator?: string }, data: unknown): Schema | undefined {
  if (def.discriminator !== undefined) {
    const tag = isRecord(data) ? data[def.discriminator] : undefined;
    return def.options.find((option) => option._zod.propValues?.[def.discriminator as string]?.has(tag as never));
  }
  return def.options.find((option) => acceptsShapeOf(option, data));
}

function acceptsShapeOf(schema: Schema, data: unknown): boolean {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object':
    case 'record':
      return isRecord(data);
    case 'array':
      return Array.isArray(data);
    case 'union':
      return def.options.some((option) => acceptsShapeOf(option, data));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return acceptsShapeOf(def.innerType, data);
    case 'pipe':
      return acceptsShapeOf(def.in, data);
    default:
      return false;
  }
}

/** Keys of the data that the schema does not know, at any depth of its known structure. */
export function findUnknownKeys(schema: Schema, data: unknown, path: PropertyKey[] = []): UnknownKey[] {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object': {
      if (!isRecord(data)) return [];
      const known = Object.keys(def.shape);
      return Object.entries(data).flatMap(([key, value]) => {
        // Own keys only: "constructor" or "__proto__" in a config are unknown keys, not Object's.
        const field = Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
        if (field !== undefined) return findUnknownKeys(field, value, [...path, key]);
        if (def.catchall !== undefined) return [];
        const suggestion = closestKey(key, known);
        return [suggestion === undefined ? { path, key } : { path, key, suggestion }];
      });
    }
    case 'record':
      // Free-form keys: only the values have a known structure.
      return isRecord(data) ? Object.entries(data).flatMap(([key, value]) => findUnknownKeys(def.valueType, value, [...path, key])) : [];
    case 'array':
      return Array.isArray(data) ? data.flatMap((item, i) => findUnknownKeys(def.element, item, [...path, i])) : [];
    case 'union': {
      const option = unionOption(def, data);
      return option === undefined ? [] : findUnknownKeys(option, data, path);
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return findUnknownKeys(def.innerType, data, path);
    case 'pipe':
      return findUnknownKeys(def.in, data, path);
    default:
      return [];
  }
}

/** A typo is one edit per three characters (at least one), or a known key cut short. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const typed = key.toLowerCase();
  const limit = Math.max(1, Math.floor(key.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(typed, candidate.toLowerCase());
    const cutShort = typed.length >= 3 && candidate.toLowerCase().startsWith(typed);
    if ((distance <= limit || cutShort) && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}
