import { createHash } from 'node:crypto';
import type { ContextEntry } from './context.js';

/**
 * The inputs digest is sha256 over this text, UTF-8, every line ending in "\n", every string
 * JSON-encoded (so no path, value or name can forge a line), in this order:
 *
 *   image-builder-inputs 1
 *   dockerfile sha256:<hex of the Dockerfile's bytes>
 *   target "<stage>"                        | target null
 *   platform "<os/arch[/variant]>"          one line each, sorted
 *   arg "<NAME>" "<value>"                  | arg "<NAME>" null      (declared but no value); sorted by name
 *   base "<image after substitution>" "sha256:<hex>"  | … null       (unresolved); sorted by image
 *   file "<path>" <mode> sha256:<hex>       the context entries, sorted by path (UTF-16 code units)
 *   dir "<path>" <mode>
 *   symlink "<path>" "<link text>"
 *   fifo|char|block "<path>" <mode>
 *
 * Mode is 4 octal digits (permission bits with setuid/setgid/sticky). Nothing machine-specific enters:
 * no mtimes, owners or absolute paths. Any change to what enters or how it is written bumps the version.
 */
export const INPUTS_FORMAT_VERSION = 1;

export interface BaseImage {
  /** The image as the build names it, after ARG substitution. */
  name: string;
  /** What it resolves to in its registry (the index digest for a multi-platform image); undefined while unresolved. */
  digest?: string;
}

/** Everything that decides the image, in the order of the format above. */
export interface Description {
  dockerfile: string;
  target?: string;
  platforms: readonly string[];
  buildArgs: Readonly<Record<string, string | null>>;
  baseImages: readonly BaseImage[];
  entries: readonly ContextEntry[];
}

const json = (value: string | null | undefined): string => JSON.stringify(value ?? null);
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical text, line by line. */
export function* canonicalLines(d: Description): Generator<string> {
  yield `image-builder-inputs ${INPUTS_FORMAT_VERSION}\n`;
  yield `dockerfile ${d.dockerfile}\n`;
  yield `target ${json(d.target)}\n`;
  for (const platform of [...d.platforms].sort(byText)) yield `platform ${json(platform)}\n`;
  for (const name of Object.keys(d.buildArgs).sort(byText)) yield `arg ${json(name)} ${json(d.buildArgs[name])}\n`;
  for (const base of [...d.baseImages].sort((a, b) => byText(a.name, b.name))) yield `base ${json(base.name)} ${json(base.digest)}\n`;
  for (const e of [...d.entries].sort((a, b) => byText(a.path, b.path))) {
    if (e.type === 'file') yield `file ${json(e.path)} ${e.mode} ${e.sha256}\n`;
    else if (e.type === 'symlink') yield `symlink ${json(e.path)} ${json(e.target)}\n`;
    else yield `${e.type} ${json(e.path)} ${e.mode}\n`;
  }
}

/** `sha256:<hex>` of the canonical text. */
export function inputsDigest(d: Description): string {
  const hash = createHash('sha256');
  for (const line of canonicalLines(d)) hash.update(line);
  return `sha256:${hash.digest('hex')}`;
}
