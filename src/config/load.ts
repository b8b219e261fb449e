import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError, type YAMLMap } from 'yaml';
import { excerpt } from '../tags/rules.js';
import { InputError } from '../errors.js';
import { isRecord } from '../support/json.js';
import { kindOf } from './fields.js';
import { formatIssues, formatPath, readableMessage } from './issues.js';
import { configSchema, type Config } from './schema.js';
import { findUnknownKeys } from './unknown-keys.js';

export interface LoadedConfig {
  config: Config;
  /** Unknown keys, ignored: a typo must not pass silently, a newer config must not break an older binary. */
  warnings: string[];
}

function yamlProblem(file: string, lines: LineCounter, error: YAMLError): string {
  const at = lines.linePos(error.pos[0]);
  const where = `${file}:${at.line}:${at.col}`;
  const message = error.code === 'MULTIPLE_DOCS' ? 'holds more than one YAML document; keep one (remove the extra "---")' : error.message;
  return `${where}: YAML syntax error: ${message}`;
}

/** A config.yaml is a few kilobytes; these bound the time and memory a broken or hostile one can cost. */
export const MAX_CONFIG_BYTES = 256 * 1024;
const MAX_CONFIG_KEYS = 10_000;
const MAX_WARNINGS = 20;

/** Duplicate keys, found in linear time (the YAML library's own check is quadratic in the keys of a mapping). */
function duplicateKeys(doc: Document, file: string, lines: LineCounter): string[] {
  const problems: string[] = [];
  let keys = 0;
  visit(doc, {
    Map(_, map: YAMLMap) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (++keys > MAX_CONFIG_KEYS) return visit.BREAK;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) {
          const at = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
          problems.push(`${file}${at ? `:${at.line}:${at.col}` : ''}: duplicate key ${excerpt(key)}; keep one`);
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  if (keys > MAX_CONFIG_KEYS) return [`${file}: more than ${MAX_CONFIG_KEYS} keys; a config.yaml has a few dozen`];
  return problems;
}

function readYaml(text: string, file: string): unknown {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new InputError(`${file}: ${text.length} bytes is too large for a config.yaml (at most ${MAX_CONFIG_BYTES}); check that --config names the right file`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) throw new InputError(doc.errors.map((error) => yamlProblem(file, lines, error)));
  const duplicates = duplicateKeys(doc, file, lines);
  if (duplicates.length > 0) throw new InputError(duplicates);
  try {
    return doc.toJS();
  } catch (err) {
    throw new InputError(`${file}: cannot read YAML: ${(err as Error).message}`);
  }
}

// An empty value (`cache:`) means "not set", as it does for the Go tool's configs.
function withoutNullValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullValues);
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNullValues(v)]));
}

/** Parses and validates config.yaml; every problem is in one InputError naming the file and the key path. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const data = withoutNullValues(readYaml(text, file) ?? {});
  if (!isRecord(data)) {
    throw new InputError(`${file}: expected a mapping of settings (key: value) at the top level, got ${kindOf(data)}`);
  }
  const unknown = findUnknownKeys(configSchema, data);
  const warnings = unknown.slice(0, MAX_WARNINGS).map(({ path, key, suggestion }) => {
    const where = path.length === 0 ? '' : `${formatPath(path)}: `;
    const hint = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
    return `${file}: ${where}unknown key ${excerpt(key)}${hint}; ignored`;
  });
  if (unknown.length > MAX_WARNINGS) warnings.push(`${file}: ${unknown.length - MAX_WARNINGS} more unknown keys; ignored`);
  const result = configSchema.safeParse(data, { error: readableMessage });
  // Unknown keys go with the errors: a misspelt key often explains a missing one.
  if (!result.success) throw new InputError([...formatIssues(result.error.issues, file), ...warnings]);
  return { config: result.data, warnings };
}
