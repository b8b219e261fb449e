import { createHash } from 'node:crypto';
import type { ContextEntry } from './context.js';

/**
 * The inputs digest is sha256 over this text, UTF-8, every line ending in "\n", every string
 * JSON-encoded (so no path, value or name can forge a line), in this order:
 *
 *   image-builder-inputs 2
 *   dockerfile sha256:<hex of the Dockerfile's bytes>
 *   target "<stage>"                        | target null
 *   platform "<os/arch[/variant]>"          one line each, sorted; the host's platform when none was asked for
 *   arg "<NAME>" "<value>"                  | arg "<NAME>" null      (declared but no value); sorted by name;
 *                                           the predefined proxy ARGs (HTTP_PROXY, http_proxy…) when given, declared or not
 *   label "<key>" "<value>"                 the user's --label values, sorted by key
 *   annotation "<key>" "<value>"            the user's --annotation values, sorted by key
 *   secret "<id>"                           the ids of the build secrets (--secret), sorted; never a value: a new
 *                                           value keeps the digest
 *   base "<image after substitution>" "sha256:<hex>"  | … null       (unresolved); sorted by image
 *   file "<path>" <mode> sha256:<hex>       the context entries, sorted by path (UTF-16 code units)
 *   hardlink "<path>" "<first path>"        a regular file sharing its inode with an earlier `file` (same content, mode, xattrs)
 *   dir "<path>" <mode>
 *   symlink "<path>" "<link text>"
 *   fifo|char|block "<path>" <mode>
 *   xattr "<path>" "<name>" <hex>           after each entry's own line: its extended attributes (read without following
 *                                           links), sorted by name, the value in lowercase hex (nothing after the space
 *                                           when empty); every name but security.selinux, a label of the machine
 *                                           (trusted.* is listed to root only: read the context as the same user)
 *
 * Mode is 4 octal digits (permission bits with setuid/setgid/sticky). Nothing machine-specific enters:
 * no mtimes, owners or absolute paths. Any change to what enters or how it is written bumps the version; a kind of
 * line only a new option writes (secret) leaves every earlier text as it was, and needs none.
 */
export const INPUTS_FORMAT_VERSION = 2;

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
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  /** Build secret ids. */
  secrets?: readonly string[];
  baseImages: readonly BaseImage[];
  entries: readonly ContextEntry[];
}

const json = (value: string | null | undefined): string => JSON.stringify(value ?? null);
const hex = (value: string | undefined): string => {
  if (value === undefined || !/^[0-9a-f]*$/.test(value)) throw new Error(`not lowercase hex: ${JSON.stringify(value)}`);
  return value;
};
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical text, line by line. */
export function* canonicalLines(d: Description): Generator<string> {
  yield `image-builder-inputs ${INPUTS_FORMAT_VERSION}\n`;
  yield `dockerfile ${d.dockerfile}\n`;
  yield `target ${json(d.target)}\n`;
  for (const platform of [...d.platforms].sort(byText)) yield `platform ${json(platform)}\n`;
  for (const name of Object.keys(d.buildArgs).sort(byText)) yield `arg ${json(name)} ${json(d.buildArgs[name])}\n`;
  for (const key of Object.keys(d.labels ?? {}).sort(byText)) yield `label ${json(key)} ${json(d.labels?.[key])}\n`;
  for (const key of Object.keys(d.annotations ?? {}).sort(byText)) yield `annotation ${json(key)} ${json(d.annotations?.[key])}\n`;
  for (const id of [...(d.secrets ?? [])].sort(byText)) yield `secret ${json(id)}\n`;
  for (const base of [...d.baseImages].sort((a, b) => byText(a.name, b.name))) yield `base ${json(base.name)} ${json(base.digest)}\n`;
  for (const e of [...d.entries].sort((a, b) => byText(a.path, b.path))) {
    if (e.hardlink !== undefined) yield `hardlink ${json(e.path)} ${json(e.hardlink)}\n`;
    else if (e.type === 'file') yield `file ${json(e.path)} ${e.mode} ${e.sha256}\n`;
    else if (e.type === 'symlink') yield `symlink ${json(e.path)} ${json(e.target)}\n`;
    else yield `${e.type} ${json(e.path)} ${e.mode}\n`;
    for (const name of Object.keys(e.xattrs ?? {}).sort(byText)) yield `xattr ${json(e.path)} ${json(name)} ${hex(e.xattrs?.[name])}\n`;
  }
}

/** `sha256:<hex>` of the canonical text. */
export function inputsDigest(d: Description): string {
  const hash = createHash('sha256');
  for (const line of canonicalLines(d)) hash.update(line);
  return `sha256:${hash.digest('hex')}`;
}
