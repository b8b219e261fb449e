import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Tag } from '../tags/tag.js';

/** The tags JSON of --parse-tags-only and --tags-output-file: one array of {name, value}. */
export function tagsJson(tags: readonly Tag[]): string {
  return JSON.stringify(tags.map((t) => ({ name: t.name, value: t.value })));
}

export function writeFileCreatingDirs(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
