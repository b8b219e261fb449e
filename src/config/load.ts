import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { InputError } from '../errors.js';
import { isMapping, kindOf } from './fields.js';
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

function readYaml(text: string, file: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) throw new InputError(doc.errors.map((error) => yamlProblem(file, lines, error)));
  try {
    return doc.toJS();
  } catch (err) {
    throw new InputError(`${file}: cannot read YAML: ${(err as Error).message}`);
  }
}

// An empty value (`cache:`) means "not set", as it does for the Go tool's configs.
function withoutNullValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullValues);
  if (!isMapping(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNullValues(v)]));
}

/** Parses and validates config.yaml; every problem is in one InputError naming the file and the key path. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const data = withoutNullValues(readYaml(text, file) ?? {});
  if (!isMapping(data)) {
    throw new InputError(`${file}: expected a mapping of settings (key: value) at the top level, got ${kindOf(data)}`);
  }
  const warnings = findUnknownKeys(configSchema, data).map(({ path, key, suggestion }) => {
    const where = path.length === 0 ? '' : `${formatPath(path)}: `;
    const hint = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
    return `${file}: ${where}unknown key ${JSON.stringify(key)}${hint}; ignored`;
  });
  const result = configSchema.safeParse(data, { error: readableMessage });
  // Unknown keys go with the errors: a misspelt key often explains a missing one.
  if (!result.success) throw new InputError([...formatIssues(result.error.issues, file), ...warnings]);
  return { config: result.data, warnings };
}
