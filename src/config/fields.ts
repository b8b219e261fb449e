import { z } from 'zod';
import { validationMatches } from '../tags/rules.js';
import { InputError } from '../errors.js';
import type { TagTemplate } from '../tags/tag.js';
import { DURATION_SYNTAX, parseDuration } from './duration.js';

/** What a YAML value is, in the words people use for YAML. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

/** A string or a list of strings, always a list in the output. */
export function stringOrList(description: string) {
  return z
    .union([z.string().min(1).transform((one) => [one]), z.array(z.string().min(1))], {
      error: (iss) => `expected a string or a list of strings, got ${kindOf(iss.input)}`,
    })
    .default([])
    .meta({ description });
}

export function httpUrl() {
  return z.url({
    protocol: /^https?$/,
    error: (iss) => (iss.input === undefined ? undefined : `expected an http(s) URL, got ${JSON.stringify(iss.input)}`),
  });
}

/** A Go duration string in the input, milliseconds in the output. */
export function duration(defaultText: string, { positive = false } = {}) {
  return z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `expected ${DURATION_SYNTAX}, got ${kindOf(iss.input)} ${JSON.stringify(iss.input)}` +
            (typeof iss.input === 'number' ? ` (a number needs a unit, e.g. "${iss.input}s")` : ''),
    })
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms < 0 || (positive && ms === 0)) {
          ctx.addIssue({ code: 'custom', message: `must be ${positive ? 'greater than 0' : 'at least 0'}, got ${JSON.stringify(text)}` });
          return z.NEVER;
        }
        return ms;
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
        return z.NEVER;
      }
    })
    .prefault(defaultText)
    .meta({ description: `Go duration such as "300ms", "10s", "5m", "1h30m" (default ${defaultText})` });
}

/** A regular expression in RE2 syntax, as the Go tool's regexp: the same patterns are valid, and matching is linear in time. */
export function re2Source(description: string) {
  return z
    .string()
    .min(1)
    .superRefine((source, ctx) => {
      const refused = validationMatches(source, '');
      if (typeof refused === 'string') ctx.addIssue({ code: 'custom', message: `not a valid RE2 regular expression (the syntax of Go's regexp): ${refused}` });
    })
    .meta({ description });
}

const regexSource = re2Source('regular expression (RE2 syntax, as Go) the rendered tag value must match');

/** {name, value, validation?}; name defaults to default_tag unless required. */
export function tagTemplateObject(nameRequired: boolean) {
  const name = z.string().min(1).meta({ description: 'tag name, how scripts find the tag' });
  return z
    .object({
      name: nameRequired ? name : name.default('default_tag'),
      value: z.string().min(1).meta({ description: 'template of the tag value, e.g. v{{ .Date }}-{{ .ShortSHA }}' }),
      validation: regexSource.optional(),
    })
    .transform(({ name, value, validation }): TagTemplate => (validation === undefined ? { name, value } : { name, value, validation }));
}

/** The legacy tag-template: a bare template string, or the object form. */
export function tagTemplateStringOrObject() {
  return z.union(
    [
      z
        .string()
        .min(1)
        .transform((value): TagTemplate => ({ name: 'default_tag', value })),
      tagTemplateObject(false),
    ],
    { error: (iss) => `expected a template string or a mapping {name, value, validation}, got ${kindOf(iss.input)}` },
  );
}
