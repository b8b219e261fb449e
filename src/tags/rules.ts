import type { Env, GitState } from '../ci/gitstate.js';
import { RE2JS } from 're2js';
import { InputError, Problems } from '../errors.js';
import type { Tag, TagOrigin, TagTemplate } from './tag.js';
import { renderTemplate, templateProblems, type TemplateData } from './template.js';

/** Default tags from config.yaml; unset ones fall back to the built-in defaults. */
export interface TagSettings {
  defaultCommitTag?: TagTemplate;
  defaultPrTag?: TagTemplate;
  defaultMergeGroupTag?: TagTemplate;
  additionalPrTag?: TagTemplate;
}

const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const OCI_GRAMMAR =
  '[A-Za-z0-9_][A-Za-z0-9._-]{0,127} (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128 characters)';

const BUILTIN_COMMIT_TAG: TagTemplate = { name: 'default_tag', value: 'v{{ .Date }}-{{ .ShortSHA }}' };
const BUILTIN_PR_TAG: TagTemplate = { name: 'default_tag', value: 'PR-{{ .PRNumber }}' };

const MISSING_SHA =
  'commit SHA could not be determined: tags are computed from the base commit; set PULL_BASE_SHA, run inside a git repository, or pass --commit-sha';

function tagLabel(name: string, context?: string): string {
  return `tag ${excerpt(name)}${context ? ` (${context})` : ''}`;
}

/** At most the first 80 characters of a text, quoted: a message must stay readable whatever the input. */
export function excerpt(text: string): string {
  return text.length <= 80 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 80))}… (${text.length} characters)`;
}

/** A template longer than this cannot make a tag (at most 128 characters); refused before rendering. */
export const MAX_TEMPLATE_LENGTH = 1024;

/**
 * The validation as the Go tool applies it: RE2 syntax and semantics (linear time, no backtracking), matching
 * anywhere in the value as regexp.MatchString does. A string is the reason the pattern is refused.
 */
export function validationMatches(pattern: string, value: string): boolean | string {
  if (pattern.length > MAX_TEMPLATE_LENGTH) return `it is ${pattern.length} characters long; at most ${MAX_TEMPLATE_LENGTH}`;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (err) {
    return (err as Error).message.replace(/^error parsing regexp: /, '');
  }
  return compiled.matcher(value).find();
}

function ociProblem(tag: Tag, label: string): string | undefined {
  if (OCI_TAG.test(tag.value)) return undefined;
  const slash = tag.value.includes('/') ? ' ("/" is not allowed: a branch such as feature/x cannot be a tag)' : '';
  return `${label}: value ${excerpt(tag.value)} is not a valid OCI tag${slash}; a tag must match ${OCI_GRAMMAR}`;
}

/** OCI tag grammar check; also used after variant suffixes are added. */
export function checkTagValue(tag: Tag, context?: string): void {
  const problem = ociProblem(tag, tagLabel(tag.name, context));
  if (problem !== undefined) throw new InputError(problem);
}

/** Renders one template into a checked tag; every problem names the tag. */
export function renderTag(t: TagTemplate, data: TemplateData): Tag {
  const tag = renderChecked(t, data, true);
  if (tag === undefined) throw new InputError(`${tagLabel(t.name)}: ${MISSING_SHA}`);
  return tag;
}

/** undefined only when the SHA is missing and reportMissingSHA is off: the caller reports it once. */
function renderChecked(t: TagTemplate, data: TemplateData, reportMissingSHA: boolean): Tag | undefined {
  const label = tagLabel(t.name, `template ${excerpt(t.value)}`);
  if (t.value.length > MAX_TEMPLATE_LENGTH || t.name.length > MAX_TEMPLATE_LENGTH) {
    throw new InputError(`${label}: ${t.value.length > MAX_TEMPLATE_LENGTH ? 'template' : 'name'} too long; a tag is at most 128 characters, a template at most ${MAX_TEMPLATE_LENGTH}`);
  }
  const rendered = renderTemplate(t.value, data, { reportMissingSHA });
  const problems = rendered.problems.map((p) => `${label}: ${p}`);
  if (problems.length > 0) throw new InputError(problems);
  if (rendered.value === undefined) return undefined;
  if (rendered.value === '') {
    const empty = rendered.emptyFields?.length ? `: ${rendered.emptyFields.join(', ')}` : '';
    throw new InputError(`${label}: renders to an empty value${empty}; check that the fields and variables it uses are set`);
  }

  const tag: Tag = { name: t.name, value: rendered.value.replaceAll(' ', '-') };
  const oci = ociProblem(tag, label);
  if (oci !== undefined) problems.push(oci);
  if (t.validation !== undefined) {
    const matches = validationMatches(t.validation, tag.value);
    if (typeof matches === 'string') problems.push(`${label}: validation ${excerpt(t.validation)} is not a valid RE2 regular expression (the syntax of Go's regexp): ${matches}`);
    else if (!matches) problems.push(`${label}: value ${excerpt(tag.value)} does not match its validation ${excerpt(t.validation)}`);
  }
  if (problems.length > 0) throw new InputError(problems);
  return tag;
}

/** The tag templates of a run, in order (compat, the 2026 tool's): user tags, the additional PR tag, the default tag. */
export function tagTemplatesFor(userTags: TagTemplate[], settings: TagSettings, gitState: GitState): Array<TagTemplate & { origin: TagOrigin }> {
  return [...userTags.map((t) => ({ ...t, origin: 'user' as const })), ...configTagTemplates(settings, gitState)];
}

function configTagTemplates(settings: TagSettings, gitState: GitState): Array<TagTemplate & { origin: TagOrigin }> {
  const commitTag = settings.defaultCommitTag ?? BUILTIN_COMMIT_TAG;
  let defaultTag: TagTemplate;
  if (gitState.isPullRequest) defaultTag = settings.defaultPrTag ?? BUILTIN_PR_TAG;
  else if (gitState.jobType === 'merge_group') defaultTag = settings.defaultMergeGroupTag ?? commitTag;
  else defaultTag = commitTag;
  const extra = gitState.isPullRequest && settings.additionalPrTag ? [{ ...settings.additionalPrTag, origin: 'additional-pr' as const }] : [];
  return [...extra, { ...defaultTag, origin: 'default' }];
}

/** The commit built: a pull request's head, else the base SHA (SPEC 5, HeadSHA). */
function builtCommit(gitState: GitState): string | undefined {
  return (gitState.isPullRequest ? gitState.pullHeadCommitSHA : undefined) ?? gitState.baseCommitSHA;
}

/** All tags of a run (SPEC section 5); every problem of every tag in one InputError. */
export function computeTags(input: {
  userTags: TagTemplate[];
  settings: TagSettings;
  gitState: GitState;
  env: Env;
  now: Date;
  /** --commit-sha: the commit built, so HeadSHA too (the caller has made it the base SHA already). */
  commitOverride?: string;
  /**
   * False when another party renders the user tags (the ADO pipeline, which may read an env file we never see):
   * they are checked for syntax and known fields, and kept only where they render cleanly here.
   */
  userTagsRenderedHere?: boolean;
}): Tag[] {
  const { gitState } = input;
  const renderedHere = input.userTagsRenderedHere ?? true;
  const problems = new Problems();
  const sha = gitState.baseCommitSHA;
  const shaKnown = sha !== undefined && sha !== '';
  if (!shaKnown) problems.add(MISSING_SHA);
  const data: TemplateData = {
    commitSHA: sha,
    headSHA: input.commitOverride || builtCommit(gitState),
    branch: gitState.branch,
    prNumber: gitState.pullRequestNumber,
    date: input.now,
    env: input.env,
  };

  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const template of tagTemplatesFor(input.userTags, input.settings, gitState)) {
    let tag: Tag | undefined;
    if (renderedHere || template.origin !== 'user') tag = problems.collect(() => renderChecked(template, data, shaKnown));
    else {
      for (const p of templateProblems(template.value)) problems.add(`${tagLabel(template.name, `template ${excerpt(template.value)}`)}: ${p}`);
      // What renders here is shown rendered; what needs the pipeline's env file is shown as written.
      tag = new Problems().collect(() => renderChecked(template, data, shaKnown)) ?? { name: template.name, value: template.value, renderedBy: 'pipeline' };
    }
    if (tag?.renderedBy) tags.push({ ...tag, origin: template.origin });
    else if (tag && !seen.has(tag.value)) {
      seen.add(tag.value);
      tags.push({ ...tag, origin: template.origin });
    }
  }
  problems.throwIfAny();
  return tags;
}
