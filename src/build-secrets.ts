import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from './ci/gitstate.js';
import { InputError } from './errors.js';

/**
 * A build secret (--secret) as the plan keeps it: its id and where its value is, never the value. The Dockerfile mounts
 * it with `RUN --mount=type=secret,id=<id>`.
 */
export type BuildSecret = { id: string; src: string } | { id: string; env: string };

/** BuildKit refuses larger secrets; a value is read whole to be masked. */
export const MAX_SECRET_BYTES = 500 * 1024;

const SYNTAX = 'write --secret id=ID,src=PATH (a file) or --secret id=ID,env=VARIABLE (an environment variable)';
const KEYS = ['type', 'id', 'src', 'source', 'env'];

/**
 * One --secret as docker buildx reads it: CSV fields KEY=VALUE (keys in any case), `type` file or env, `src` or
 * `source` a file path (from the working directory), `env` a variable. Without a source the id names it: for type=env
 * the variable, for type=file the file; without a type, the variable when the environment has it, else the file.
 * Beyond buildx: no id, an id given twice (see readBuildSecrets) and both a file and a variable are errors.
 */
export function parseSecretFlag(raw: string, env: Env, cwd: string): BuildSecret {
  return parse(raw, env, cwd).secret;
}

/** The secret, and whether its source was guessed from the id alone (its problem then says how the guess went). */
function parse(raw: string, env: Env, cwd: string): { secret: BuildSecret; byId: boolean } {
  const bad = (why: string) => new InputError(`--secret ${JSON.stringify(raw)}: ${why}; ${SYNTAX}`);
  const fields: Record<string, string> = {};
  for (const field of csvFields(raw, bad)) {
    const eq = field.indexOf('=');
    if (eq < 0) throw bad(`${JSON.stringify(field)} is not KEY=VALUE`);
    const key = field.slice(0, eq).toLowerCase();
    if (!KEYS.includes(key)) throw bad(`unknown key ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
    fields[key === 'source' ? 'src' : key] = field.slice(eq + 1);
  }
  const { type, id, env: variable } = fields;
  const src = fields.src || undefined;
  if (type !== undefined && type !== 'file' && type !== 'env') throw bad(`type ${JSON.stringify(type)} is not a secret type: use type=file or type=env, or leave it out`);
  if (!id) throw bad('no id (the name the Dockerfile mounts it by)');
  if (type === 'file' && variable) throw bad('type=file reads a file, not env=');
  if (type === undefined && variable && src) throw bad('both src= and env= given: a secret comes from one of them');
  const byId = type === undefined && !variable && !src;
  if (type === 'env') return { secret: { id, env: variable || src || id }, byId };
  if (variable) return { secret: { id, env: variable }, byId };
  if (byId && Object.hasOwn(env, id)) return { secret: { id, env: id }, byId };
  return { secret: { id, src: resolve(cwd, src ?? id) }, byId };
}

/** How the secret files are read: a size before the read, so that a huge file is refused unread. */
export interface SecretFiles {
  stat(path: string): { isFile(): boolean; size: number };
  read(path: string): string;
}

const nodeFiles: SecretFiles = { stat: (path) => statSync(path), read: (path) => readFileSync(path, 'utf8') };

/**
 * The --secret flags of a build: parsed, each source checked (the file readable, the variable set) and each value read,
 * so that the caller masks the values from the start. Every problem is returned; the plan keeps only ids and sources.
 */
export function readBuildSecrets(raws: readonly string[], env: Env, cwd: string, files: SecretFiles = nodeFiles): { secrets: BuildSecret[]; values: string[]; problems: string[] } {
  const secrets: BuildSecret[] = [];
  const values: string[] = [];
  const problems: string[] = [];
  for (const raw of raws) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(raw, env, cwd);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(...err.problems);
      continue;
    }
    const { secret } = parsed;
    if (secrets.some((s) => s.id === secret.id)) {
      problems.push(`--secret id=${secret.id} is given twice; give each id once`);
      continue;
    }
    secrets.push(secret);
    const read = secretValue(secret, parsed.byId, env, files);
    if ('problem' in read) problems.push(read.problem);
    else values.push(read.value);
  }
  return { secrets, values, problems };
}

/** Builders print line by line: a value of several lines is masked whole and by each line long enough not to be a common word. */
export function maskedForms(value: string): string[] {
  const lines = value.split(/\r?\n/).filter((line) => line.trim().length >= MIN_LINE);
  return lines.length > 1 ? [value, ...lines] : [value];
}

/** A line shorter than this ("true", "}") of a secret file is masked only inside the whole value. */
const MIN_LINE = 8;

function secretValue(secret: BuildSecret, byId: boolean, env: Env, files: SecretFiles): { value: string } | { problem: string } {
  const by = `--secret id=${secret.id}`;
  if ('env' in secret) {
    const value = env[secret.env];
    if (value !== undefined) return { value };
    return { problem: `${by}: the environment variable ${secret.env} is not set; set it, or give the secret from a file with src=PATH` };
  }
  const fix = byId
    ? `a secret given by its id alone is read from the variable ${secret.id} when it is set, else from the file ${secret.src}: set ${secret.id}, or give env=VARIABLE or src=PATH`
    : 'give src=PATH of a readable file (relative to the working directory)';
  try {
    const stat = files.stat(secret.src);
    if (!stat.isFile()) return { problem: `${by}: ${secret.src} is not a file; ${fix}` };
    if (stat.size > MAX_SECRET_BYTES) return { problem: `${by}: ${secret.src} has ${stat.size} bytes, more than a secret may (${MAX_SECRET_BYTES}, as BuildKit); mount large files another way` };
    return { value: files.read(secret.src) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `${by}: ${secret.src} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}; ${fix}` };
  }
}

/** A CSV record as Go's encoding/csv reads one (buildx): fields split on commas, a field in double quotes may hold commas and "" for a quote. */
function csvFields(text: string, bad: (why: string) => Error): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let field = '';
      for (i++; ; i++) {
        if (i >= text.length) throw bad('a quoted field is not closed');
        if (text[i] !== '"') field += text[i];
        else if (text[i + 1] === '"') field += text[++i];
        else break;
      }
      i++;
      if (i < text.length && text[i] !== ',') throw bad('a quoted field goes on after its closing quote');
      fields.push(field);
    } else {
      const end = text.indexOf(',', i);
      const field = text.slice(i, end < 0 ? text.length : end);
      if (field.includes('"')) throw bad('a quote inside an unquoted field (quote the whole field: "src=a,b")');
      fields.push(field);
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) return fields;
    i++; // the comma
  }
}
