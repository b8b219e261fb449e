import { InputError, Problems } from '../errors.js';
import { excerpt } from './rules.js';
import type { TagTemplate } from './tag.js';

/** `--tag` value: `name=value`, or `value` with the name derived from it. */
export function parseTagFlag(raw: string): TagTemplate {
  return parseTagEntry(raw, '--tag');
}

function parseTagEntry(raw: string, flag: string): TagTemplate {
  const where = `${flag} ${excerpt(raw)}`;
  const parts = raw.split('=');
  if (parts.length > 2)
    throw new InputError(`${where}: more than one "="; give name=value or just value (a value cannot contain "=")`);
  const [name, value] =
    parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : [raw.replace(/[^A-Za-z0-9_-]/g, ''), raw];
  const problems: string[] = [];
  if (value === '') problems.push(`${where}: the tag value is empty; give name=value or just value`);
  else if (name === '')
    problems.push(
      parts.length === 2
        ? `${where}: the tag name is empty; give name=value`
        : `${where}: no tag name can be derived (it keeps only A-Z, a-z, 0-9, "_" and "-"); give name=value`,
    );
  if (problems.length > 0) throw new InputError(problems);
  return { name, value };
}

/** `--tag-base64`: base64 of comma-separated `name=value` (or `value`) tags. */
export function parseTagBase64(b64: string): TagTemplate[] {
  const text = b64.trim();
  const decoded = Buffer.from(text, 'base64');
  // Buffer.from skips invalid characters silently; re-encoding catches them.
  const unpadded = (s: string): string => s.replace(/=+$/, '');
  const valid = /^[A-Za-z0-9+/]*={0,2}$/.test(text) && unpadded(decoded.toString('base64')) === unpadded(text);
  const usage = 'give base64 of comma-separated name=value tags';
  if (!valid) throw new InputError(`--tag-base64: ${excerpt(b64)} is not valid base64; ${usage}`);
  const entries = decoded.toString('utf8').split(',').map((e) => e.trim());
  if (entries.every((e) => e === '')) throw new InputError(`--tag-base64: no tags in it; ${usage}`);
  const problems = new Problems();
  const tags: TagTemplate[] = [];
  for (const entry of entries) {
    if (entry === '') continue;
    const tag = problems.collect(() => parseTagEntry(entry, '--tag-base64 tag'));
    if (tag) tags.push(tag);
  }
  problems.throwIfAny();
  return tags;
}

/** The inverse of parseTagBase64, used to pass tags to the ADO pipeline. */
export function encodeTagsBase64(tags: Array<{ name: string; value: string }>): string {
  const problems = new Problems();
  for (const { name, value } of tags) {
    if (/[=,]/.test(name) || /[=,]/.test(value))
      problems.add(`tag ${excerpt(name)} = ${excerpt(value)} cannot be passed to the ADO pipeline: its name and value must not contain "=" or ","`);
  }
  problems.throwIfAny();
  return Buffer.from(tags.map((t) => `${t.name}=${t.value}`).join(','), 'utf8').toString('base64');
}
