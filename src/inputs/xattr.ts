import { InputError } from '../errors.js';
import { batches, runTool, type ToolResult } from './tool.js';

/** Extended attributes of one entry: name → value in lowercase hex. */
export type Xattrs = Record<string, string>;

/** The one name left out: the SELinux label is the machine's, set by its policy, not by the context. */
const MACHINE_NAMES = new Set(['security.selinux']);
const TIMEOUT_MS = 120_000;
/** Per batch: values are at most 64 KiB each (128 KiB in hex); a context carrying more than this is refused. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * The extended attributes of the given context entries (relative paths), read without following links: one getfattr
 * process per batch of paths. Entries without any are absent from the map.
 */
export async function readXattrs(contextDir: string, paths: readonly string[]): Promise<Map<string, Xattrs>> {
  const found = new Map<string, Xattrs>();
  for (const batch of batches(paths)) {
    const result = await runTool('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--', ...batch], { cwd: contextDir, timeoutMs: TIMEOUT_MS, maxBytes: MAX_OUTPUT });
    checkGetfattr(result, contextDir);
    for (const [path, xattrs] of parseGetfattr(result.stdout)) found.set(path, xattrs);
  }
  return found;
}

function checkGetfattr(result: ToolResult, contextDir: string): void {
  if (result.spawnError?.code === 'ENOENT') {
    throw new InputError(
      'reuse needs getfattr to read the extended attributes of the build context (they are inputs of the image): install it (apt-get install attr), or turn reuse off with --no-reuse',
    );
  }
  if (result.spawnError) throw new Error(`cannot run getfattr: ${result.spawnError.message}`);
  if (result.overflowed) throw new InputError(`the extended attributes of the build context ${contextDir} exceed ${MAX_OUTPUT} bytes of getfattr output: remove them, or turn reuse off with --no-reuse`);
  if (result.timedOut) throw new Error(`getfattr did not finish reading the extended attributes of the build context ${contextDir} in ${TIMEOUT_MS / 1000} s`);
  if (result.exitCode === undefined) throw new Error(`getfattr died while reading the extended attributes of the build context ${contextDir}`);
  // A filesystem without extended attributes answers "Operation not supported": no attributes, not an error.
  const problems = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/: Operation not supported$/.test(line));
  for (const line of problems) {
    const m = /^getfattr: (.*): ([^:]+)$/.exec(line);
    if (!m) continue;
    const [, path, why] = m as unknown as [string, string, string];
    if (why === 'No such file or directory' || why === 'Not a directory') {
      throw new InputError(`cannot read the extended attributes of ${path} in the build context ${contextDir}: it changed while the context was read: build from a context nothing writes to`);
    }
    if (why === 'Permission denied') throw new InputError(`cannot read the extended attributes of ${path} in the build context ${contextDir}: permission denied: make it readable, or exclude it in .dockerignore`);
    throw new InputError(`cannot read the extended attributes of ${path} in the build context ${contextDir}: ${why}`);
  }
  if (result.exitCode !== 0 && problems.length > 0) throw new Error(`getfattr failed in ${contextDir}: ${problems.join('; ')}`);
}

/** getfattr's `-d -e hex` dump: `# file: <path>` blocks of `name=0x<hex>` lines, names and paths escaped as `\ooo`. */
export function parseGetfattr(output: Buffer): Map<string, Xattrs> {
  const found = new Map<string, Xattrs>();
  let current: Xattrs | undefined;
  // latin1: one character per byte, so escapes and raw UTF-8 bytes come back as the bytes they were.
  for (const line of output.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = unescapeName(line.slice('# file: '.length));
      current = found.get(path) ?? {};
      found.set(path, current);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (!current) throw new Error(`unexpected getfattr output: ${JSON.stringify(line)}`);
    const eq = line.indexOf('=');
    const name = unescapeName(eq < 0 ? line : line.slice(0, eq));
    const value = eq < 0 ? '0x' : line.slice(eq + 1);
    if (!/^0x[0-9a-fA-F]*$/.test(value)) throw new Error(`unexpected getfattr value for ${name}: ${JSON.stringify(value)}`);
    if (!MACHINE_NAMES.has(name)) current[name] = value.slice(2).toLowerCase();
  }
  for (const [path, xattrs] of found) {
    if (Object.keys(xattrs).length === 0) found.delete(path);
    else found.set(path, Object.fromEntries(Object.entries(xattrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }
  return found;
}

/** `\ooo` escapes back to bytes, then UTF-8 (the walk's paths are strings decoded the same way). */
function unescapeName(text: string): string {
  const bytes = text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8) & 0xff));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A name or path for setfattr --restore: every byte but printable ASCII (and `\`, `=`) as `\ooo`. */
function escapeName(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x3d ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** The dump setfattr --restore reads: the attributes that were read (and hashed), to write them on the snapshot. */
export function restoreDump(entries: Iterable<{ path: string; xattrs?: Xattrs }>): string {
  let dump = '';
  for (const { path, xattrs } of entries) {
    if (!xattrs || Object.keys(xattrs).length === 0) continue;
    dump += `# file: ${escapeName(path)}\n`;
    for (const [name, hex] of Object.entries(xattrs)) dump += `${escapeName(name)}=0x${hex}\n`;
    dump += '\n';
  }
  return dump;
}

/** Writes the attributes on the entries under dir (not following links): one setfattr process. */
export async function writeXattrs(dir: string, entries: Iterable<{ path: string; xattrs?: Xattrs }>): Promise<void> {
  const dump = restoreDump(entries);
  if (dump === '') return;
  const result = await runTool('setfattr', ['-h', '--restore=-'], { cwd: dir, input: dump, timeoutMs: TIMEOUT_MS, maxBytes: 1024 * 1024 });
  if (result.exitCode === 0) return;
  const why = result.spawnError
    ? result.spawnError.code === 'ENOENT'
      ? 'setfattr is not installed (apt-get install attr)'
      : result.spawnError.message
    : result.timedOut
      ? `setfattr did not finish in ${TIMEOUT_MS / 1000} s`
      : result.stderr.trim() || `setfattr exited with ${result.exitCode ?? 'a signal'}`;
  throw new Error(`cannot write the extended attributes of the build context's snapshot in ${dir}: ${why}`);
}
