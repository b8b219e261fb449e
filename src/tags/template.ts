import Handlebars from 'handlebars';
import type { Env } from '../ci/gitstate.js';
import { editDistance } from '../support/closest.js';
import { translateGoTemplate } from './gotemplate.js';
import { secretLookingPart } from './secrets.js';

/** What a tag template can read. */
export interface TemplateData {
  /** The base SHA: CommitSHA, ShortSHA. */
  commitSHA?: string;
  /** The commit built: HeadSHA, ShortHeadSHA; the base SHA when not given. */
  headSHA?: string;
  branch?: string;
  prNumber?: number;
  date: Date;
  env: Env;
}

/** Rendering stops past this many characters of variables: a tag is at most 128, so the value is refused anyway. */
export const MAX_RENDERED_LENGTH = 4096;

const FIELD_NAMES = ['CommitSHA', 'ShortSHA', 'HeadSHA', 'ShortHeadSHA', 'Branch', 'Date', 'PRNumber'] as const;
type Field = (typeof FIELD_NAMES)[number];
export const KNOWN_FIELDS = `${FIELD_NAMES.join(', ')}, Env "NAME"`;
const FIELDS = new Set<string>(FIELD_NAMES);
const BASE_SHA_FIELDS = ['CommitSHA', 'ShortSHA'];
const HEAD_SHA_FIELDS = ['HeadSHA', 'ShortHeadSHA'];
// Why a field that may be empty is empty: said when a tag renders to nothing.
const EMPTY_BECAUSE: Partial<Record<Field, string>> = {
  Branch: 'no branch is known for this run: a tag build, or outside CI without PULL_BASE_REF',
  PRNumber: 'this run is not a pull request',
};

// An isolated instance without the built-in block helpers; templates are checked before compiling anyway.
const hb = Handlebars.create();
for (const name of ['each', 'if', 'unless', 'with', 'lookup', 'log']) hb.unregisterHelper(name);

interface Analysis {
  /** Problems with the template itself, without the tag prefix. */
  problems: string[];
  fields: Set<string>;
  /** The variables Env reads. */
  envNames: Set<string>;
  render?: HandlebarsTemplateDelegate;
}

const cache = new Map<string, Analysis>();
const CACHE_LIMIT = 500;

/** Parses and checks a template once; the result is cached per template string. */
function analyse(template: string): Analysis {
  const cached = cache.get(template);
  if (cached) return cached;
  const analysis: Analysis = { problems: [], fields: new Set(), envNames: new Set() };
  const source = translateGoTemplate(template);
  let program: hbs.AST.Program | undefined;
  try {
    program = hb.parse(source);
  } catch (err) {
    analysis.problems.push(`syntax error: ${syntaxMessage(err)}; write fields as {{ .ShortSHA }} or {{ShortSHA}}`);
  }
  if (program) {
    for (const statement of program.body) checkStatement(statement, analysis);
    if (analysis.problems.length === 0) {
      analysis.render = hb.compile(source, {
        strict: true,
        noEscape: true,
        knownHelpers: { Env: true },
        knownHelpersOnly: true,
      });
    }
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(template, analysis);
  return analysis;
}

function syntaxMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n');
  const expecting = lines.find((l) => l.startsWith('Expecting'));
  return expecting ?? lines.join(' ');
}

function checkStatement(node: hbs.AST.Statement, analysis: Analysis): void {
  const problems = analysis.problems;
  switch (node.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return;
    case 'MustacheStatement':
      return checkMustache(node as hbs.AST.MustacheStatement, analysis);
    case 'BlockStatement':
    case 'DecoratorBlock': {
      const name = describe((node as hbs.AST.BlockStatement).path);
      problems.push(`blocks such as "{{#${name}}}" are not supported; known fields: ${KNOWN_FIELDS}`);
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      problems.push(`partials ("{{> ...}}") are not supported; known fields: ${KNOWN_FIELDS}`);
      return;
    default:
      problems.push(`"${node.type}" is not supported; known fields: ${KNOWN_FIELDS}`);
  }
}

function checkMustache(node: hbs.AST.MustacheStatement, analysis: Analysis): void {
  const problems = analysis.problems;
  const path = node.path as hbs.AST.PathExpression;
  const name = describe(node.path);
  const simple =
    path.type === 'PathExpression' && !path.data && path.depth === 0 && path.parts.length === 1 && path.parts[0] === name;
  const hasHash = (node.hash?.pairs.length ?? 0) > 0;
  if (simple && name === 'Env') {
    const arg = node.params[0];
    if (node.params.length !== 1 || hasHash || arg?.type !== 'StringLiteral') {
      problems.push('Env needs exactly one quoted variable name, as in {{ .Env "NAME" }}');
      return;
    }
    const variable = (arg as hbs.AST.StringLiteral).value;
    const secret = secretLookingPart(variable);
    if (variable === '') problems.push('Env "" names no variable');
    else if (secret !== undefined)
      problems.push(
        `Env "${variable}" is refused: the variable name looks like a secret ("${secret}") and tags must never publish secrets; use a variable whose name does not look secret`,
      );
    analysis.fields.add('Env');
    analysis.envNames.add(variable);
  } else if (simple && FIELDS.has(name)) {
    if (node.params.length > 0 || hasHash) problems.push(`field "${name}" takes no arguments`);
    analysis.fields.add(name);
  } else {
    const hint = closestField(name);
    problems.push(`unknown field "${name}"${hint ? ` (did you mean ${hint}?)` : ''}; known fields: ${KNOWN_FIELDS}`);
  }
}

/** The known field a mistyped one most likely meant (HeadSha → HeadSHA, branch → Branch), if one is near enough. */
export function closestField(name: string): string | undefined {
  const typed = name.toLowerCase();
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: { field: string; distance: number } | undefined;
  for (const field of [...FIELD_NAMES, 'Env']) {
    const distance = editDistance(typed, field.toLowerCase());
    const cutShort = typed.length >= 3 && field.toLowerCase().startsWith(typed);
    if ((distance <= limit || cutShort) && (best === undefined || distance < best.distance)) best = { field, distance };
  }
  return best?.field;
}

function describe(node: hbs.AST.Node): string {
  if ('original' in node) return String(node.original);
  return node.type;
}

/** Syntax, unknown fields and refused variables of a template, without rendering it. */
export function templateProblems(template: string): string[] {
  return [...analyse(template).problems];
}

/** Rendered value, or the problems (without tag prefix) that prevent rendering. */
export function renderTemplate(
  template: string,
  data: TemplateData,
  options: { reportMissingSHA?: boolean } = {},
): { value?: string; problems: string[]; emptyFields?: string[] } {
  const analysis = analyse(template);
  const problems = [...analysis.problems];
  const sha = data.commitSHA ?? '';
  const head = data.headSHA || sha;
  const uses = (f: string): boolean => analysis.fields.has(f);
  const shaField = (sha === '' ? BASE_SHA_FIELDS.find(uses) : undefined) ?? (head === '' ? HEAD_SHA_FIELDS.find(uses) : undefined);
  if (shaField !== undefined) {
    if (options.reportMissingSHA !== false)
      problems.push(
        `uses ${shaField}, but the commit SHA could not be determined; set PULL_BASE_SHA, run inside a git repository, or pass --commit-sha`,
      );
    return { problems };
  }
  if (problems.length > 0 || !analysis.render) return { problems };
  const context: Record<Field, string> = {
    CommitSHA: sha,
    ShortSHA: sha.slice(0, 8),
    HeadSHA: head,
    ShortHeadSHA: head.slice(0, 8),
    Branch: data.branch ?? '',
    Date: formatDate(data.date),
    PRNumber: data.prNumber === undefined ? '' : String(data.prNumber),
  };
  const env = boundedEnv(data.env);
  let value: string;
  try {
    value = analysis.render(context, { helpers: { Env: env.helper } });
  } catch (err) {
    return { problems: [`cannot be rendered: ${err instanceof Error ? err.message : String(err)}`] };
  }
  if (env.exceeded() || value.length > MAX_RENDERED_LENGTH)
    return {
      problems: [
        `renders to more than ${MAX_RENDERED_LENGTH} characters, and a tag is at most 128 characters; check the values of the variables it reads (the environment, --env-file)`,
      ],
    };
  return value === '' ? { value, problems, emptyFields: emptyFields(analysis, context, data.env) } : { value, problems };
}

/** The fields and variables a template reads that are empty in this run, each with why where that is known. */
function emptyFields(analysis: Analysis, context: Record<Field, string>, env: Env): string[] {
  const fields = FIELD_NAMES.filter((f) => analysis.fields.has(f) && context[f] === '').map((f) =>
    EMPTY_BECAUSE[f] ? `${f} is empty (${EMPTY_BECAUSE[f]})` : `${f} is empty`,
  );
  const variables = [...analysis.envNames].filter((n) => !Object.hasOwn(env, n) || !env[n]).map((n) => `Env "${n}" is unset or empty`);
  return [...fields, ...variables];
}

/** The Env helper of one rendering: past MAX_RENDERED_LENGTH characters of variables it returns nothing more. */
function boundedEnv(env: Env): { helper: (name: unknown) => string; exceeded: () => boolean } {
  let left = MAX_RENDERED_LENGTH;
  let exceeded = false;
  const helper = (name: unknown): string => {
    // Checked before compiling too; refusing here again means a secret is never read.
    if (typeof name !== 'string' || secretLookingPart(name) !== undefined) throw new Error('Env variable refused');
    if (exceeded) return '';
    const value = Object.hasOwn(env, name) ? (env[name] ?? '') : '';
    if (value.length <= left) {
      left -= value.length;
      return value;
    }
    exceeded = true;
    return '';
  };
  return { helper, exceeded: () => exceeded };
}

/** YYYYMMDD in UTC. */
export function formatDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('formatDate: invalid date');
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
}
