import dockerignore from '@balena/dockerignore';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';

/** The .dockerignore rules of one build, matched as Docker matches them. */
export interface IgnoreRules {
  /** True when the context-relative path (forward slashes) is not sent. */
  ignores(relativePath: string): boolean;
  /** Some rule re-includes (`!pattern`): an ignored directory must still be walked. */
  hasExceptions: boolean;
  /** The file the rules came from, absolute; undefined when there is none. */
  file?: string;
}

/**
 * Where Docker looks for the rules: `<Dockerfile>.dockerignore` beside the Dockerfile, else `.dockerignore`
 * at the context root (BuildKit and kaniko agree). A backend that looks elsewhere (buildah reads
 * `.containerignore` first) passes its own candidates.
 */
export function defaultIgnoreCandidates(contextDir: string, dockerfile: string): string[] {
  return [`${dockerfile}.dockerignore`, path.join(contextDir, '.dockerignore')];
}

/** The rules of the first candidate that exists; none when none does. */
export async function loadIgnoreRules(candidates: readonly string[]): Promise<IgnoreRules> {
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new InputError(`cannot read the ignore file ${file} (${code ?? String(err)}): make it readable`);
    }
    return { ...ignoreRules(text), file };
  }
  return { ignores: () => false, hasExceptions: false };
}

/** Rules from the text of an ignore file. */
export function ignoreRules(fileText: string): Omit<IgnoreRules, 'file'> {
  const text = fileText.replace(/^\uFEFF/, ''); // Docker drops a UTF-8 byte order mark
  // Docker matches case-sensitively on Linux; the library's default is case-insensitive.
  // .default: a CommonJS module typed as ESM; module.exports carries itself as .default.
  const rules = dockerignore.default({ ignorecase: false }).add(text);
  // The library caches answers in a plain object, where `toString` or `constructor` would answer from its prototype.
  (rules as unknown as { _cache: object })._cache = Object.create(null) as object;
  const hasExceptions = text.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  return { ignores: (relativePath) => rules.ignores(relativePath), hasExceptions };
}
