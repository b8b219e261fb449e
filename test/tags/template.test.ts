import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { isSecretLookingName, renderTag, type TemplateData } from '../../src/tags/index.js';
import { translateGoTemplate } from '../../src/tags/gotemplate.js';
import { inputMessage } from '../support/errors.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const data: TemplateData = {
  commitSHA: SHA,
  prNumber: 42,
  date: new Date('2026-11-25T10:00:00Z'),
  env: { PULL_BASE_REF: 'main', 'A.B': 'dotted', SPACED: 'a b', GITHUB_TOKEN: 'ghp_SUPERSECRETVALUE', EMPTY: '' },
};

const render = (value: string, d: TemplateData = data): string => renderTag({ name: 't', value }, d).value;


describe('translateGoTemplate', () => {
  it.each([
    ['{{ .ShortSHA }}', '{{ ShortSHA }}'],
    ['{{.Date}}', '{{Date}}'],
    ['{{ .Env "A.B" }}', '{{ Env "A.B" }}'],
    ["{{ .Env 'A.B' }}", "{{ Env 'A.B' }}"],
    ['{{- .ShortSHA -}}', '{{~ ShortSHA ~}}'],
    ['{{-.ShortSHA}}', '{{-.ShortSHA}}'],
    ['v1.2.3-{{ShortSHA}}', 'v1.2.3-{{ShortSHA}}'],
    ['{{ ../x }}', '{{ ../x }}'],
    ['{{ShortSHA', '{{ShortSHA'],
  ])('%j → %j', (go, hbs) => {
    expect(translateGoTemplate(go)).toBe(hbs);
  });
});

describe('renderTag', () => {
  it.each([
    ['{{ .ShortSHA }}', '{{ShortSHA}}', '01234567'],
    ['{{.CommitSHA}}', '{{CommitSHA}}', SHA],
    ['{{ .Date }}', '{{Date}}', '20261125'],
    ['PR-{{ .PRNumber }}', 'PR-{{PRNumber}}', 'PR-42'],
    ['{{ .Env "PULL_BASE_REF" }}', '{{Env "PULL_BASE_REF"}}', 'main'],
    ['{{ .Env "A.B" }}', '{{Env "A.B"}}', 'dotted'],
    ['v{{ .Date }}-{{ .ShortSHA }}', 'v{{Date}}-{{ShortSHA}}', 'v20261125-01234567'],
  ])('Go %j and Handlebars %j both render %j', (go, hbs, expected) => {
    expect(render(go)).toBe(expected);
    expect(render(hbs)).toBe(expected);
  });

  it.each([
    ['x-{{ .PRNumber }}', 'x-'],
    ['x{{ .Env "UNSET" }}', 'x'],
    ['x{{ .Env "EMPTY" }}', 'x'],
    ['x{{ .Env "constructor" }}', 'x'],
  ])('renders %j as %j when the value is empty', (template, expected) => {
    expect(render(template, { ...data, prNumber: undefined })).toBe(expected);
  });

  it.each([
    ['a {{- .ShortSHA -}} b', 'a01234567b'],
    ['a {{- .ShortSHA }} b', 'a01234567-b'],
    ['a {{ .ShortSHA -}} b', 'a-01234567b'],
    ['a {{~ShortSHA~}} b', 'a01234567b'],
  ])('trim markers: %j → %j', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it('formats the date in UTC', () => {
    expect(render('{{ .Date }}', { ...data, date: new Date('2026-11-25T23:30:00-05:00') })).toBe('20261126');
  });

  it.each([
    ['{{ .Foo }}', 'unknown field "Foo"; known fields: CommitSHA, ShortSHA, HeadSHA, ShortHeadSHA, Branch, Date, PRNumber, Env "NAME"'],
    ['{{Foo}}', 'unknown field "Foo"'],
    ['{{ .ShortSHA.length }}', 'unknown field "ShortSHA.length"'],
    ['{{#each x}}y{{/each}}', 'blocks such as "{{#each}}" are not supported'],
    ['{{#if ShortSHA}}y{{/if}}', 'blocks such as "{{#if}}" are not supported'],
    ['{{> p}}', 'partials ("{{> ...}}") are not supported'],
    ['{{lookup this "ShortSHA"}}', 'unknown field "lookup"'],
    ['{{ printf "%s" .ShortSHA }}', 'unknown field "printf"'],
    ['{{ .ShortSHA "x" }}', 'field "ShortSHA" takes no arguments'],
    ['{{ .Env }}', 'Env needs exactly one quoted variable name'],
    ['{{ .Env PULL_BASE_REF }}', 'Env needs exactly one quoted variable name'],
    ['{{ShortSHA', 'syntax error'],
    ['{{ .ShortSHA | x }}', 'syntax error'],
    ['{{#if x}}', 'syntax error'],
  ])('refuses %j: %s', (template, problem) => {
    const message = inputMessage(() => renderTag({ name: 'mytag', value: template }, data));
    expect(message).toContain(`tag "mytag" (template ${JSON.stringify(template)}): `);
    expect(message).toContain(problem);
  });

  it.each([
    ['{{constructor}}'],
    ['{{__proto__}}'],
    ['{{ShortSHA.constructor}}'],
    ['{{this.constructor}}'],
    ['{{lookup this "constructor"}}'],
    ['{{#with this}}{{constructor}}{{/with}}'],
    ['{{@root.constructor}}'],
  ])('refuses prototype access %j', (template) => {
    expect(() => render(template)).toThrow(InputError);
  });

  it('refuses an empty rendered value, naming the tag', () => {
    expect(inputMessage(() => renderTag({ name: 'e', value: '{{ .Env "UNSET" }}' }, data))).toMatch(
      /^tag "e" \(template .*\): renders to an empty value/,
    );
  });

  it('refuses a template that needs the SHA when none is known', () => {
    const message = inputMessage(() => renderTag({ name: 's', value: 'v{{ .ShortSHA }}' }, { ...data, commitSHA: undefined }));
    expect(message).toContain('tag "s"');
    expect(message).toContain('commit SHA could not be determined');
    expect(render('PR-{{ .PRNumber }}', { ...data, commitSHA: undefined })).toBe('PR-42');
  });

  it.each([
    ['a b c', 'a-b-c'],
    ['{{ .Env "SPACED" }}', 'a-b'],
  ])('replaces spaces: %j → %j', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it.each([['.hidden'], ['-dash'], ['a/b'], ['a:b'], ['x'.repeat(129)], ['tab\there'], ['ünïcode']])(
    'refuses the invalid OCI tag %j',
    (value) => {
      const message = inputMessage(() => renderTag({ name: 'bad', value }, data));
      expect(message).toContain(`tag "bad"`);
      const quoted = value.length <= 80 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)`;
      expect(message).toContain(`value ${quoted} is not a valid OCI tag`);
      expect(message).toContain('[A-Za-z0-9_][A-Za-z0-9._-]{0,127}');
    },
  );

  it.each([['_x'], ['x'.repeat(128)], ['v1.2.3'], ['A_b-C.9']])('accepts the OCI tag %j', (value) => {
    expect(render(value)).toBe(value);
  });

  it.each([
    ['0.0.0-MG.{{ .ShortSHA }}', '^0\\.0\\.0-MG\\.[0-9a-f]{8}$', true],
    ['v{{ .PRNumber }}-PR', '^v[0-9]+-PR$', true],
    ['v{{ .PRNumber }}-PR', '^v[0-9]+$', false],
    ['main-{{ .ShortSHA }}', 'main', true],
    ['x{{ .ShortSHA }}', '^[0-9]+$', false],
  ])('validation of %j by %j passes: %s', (value, validation, passes) => {
    const tag = { name: 'v', value, validation };
    if (passes) expect(renderTag(tag, data).name).toBe('v');
    else expect(inputMessage(() => renderTag(tag, data))).toMatch(/tag "v" .*: value ".*" does not match its validation/);
  });

  it('reports an invalid validation regex', () => {
    expect(inputMessage(() => renderTag({ name: 'v', value: 'x', validation: '(' }, data))).toContain(
      'validation "(" is not a valid RE2 regular expression',
    );
  });

  it.each([
    ['a match anywhere in the value, as Go\'s regexp.MatchString', 'v1', 'v1-PR', true],
    ['anchors where the pattern has them', '^v[0-9]+$', 'v1-PR', false],
    ['the merge-group tag of SPEC 3', '^0\\.0\\.0-MG\\.[0-9a-f]{8}$', '0.0.0-MG.0123abcd', true],
  ])('validation: %s', (_name, pattern, value, ok) => {
    const fn = () => renderTag({ name: 'v', value, validation: pattern }, data);
    if (ok) expect(fn()).toEqual({ name: 'v', value });
    else expect(inputMessage(fn)).toContain('does not match its validation');
  });

  it('a pattern that backtracks catastrophically in JavaScript runs in linear time (RE2)', () => {
    // Backtracking would take hours for 60 characters: this test would time out.
    const value = `${'a'.repeat(60)}b`;
    expect(inputMessage(() => renderTag({ name: 'v', value, validation: '^(a+)+$' }, data))).toContain('does not match its validation');
  });

  it.each([
    ['a backreference', '(a)\\1'],
    ['a lookahead', 'v(?=1)'],
  ])('%s is refused as RE2 refuses it, naming the tag', (_name, pattern) => {
    expect(inputMessage(() => renderTag({ name: 'v', value: 'v1', validation: pattern }, data))).toMatch(/^tag "v" .*validation .* is not a valid RE2 regular expression/);
  });

  it('a template of 50 MB is refused at once, and the message quotes a short excerpt', () => {
    const huge = 'x'.repeat(50 * 1024 * 1024);
    const message = inputMessage(() => renderTag({ name: 'big', value: huge }, data));
    expect(message).toContain('template too long');
    expect(message.length).toBeLessThan(400);
  });
});

describe('Env and secrets', () => {
  it.each([
    ['ADO_PAT'],
    ['GITHUB_TOKEN'],
    ['API_KEY'],
    ['MY_SECRETS'],
    ['npm_auth'],
    ['DB_PASSWORD'],
    ['ROOT_PASSWD'],
    ['AZURE_CREDENTIALS'],
    ['APIKEY'],
    ['githubToken'],
    ['KEY'],
  ])('refuses %j', (name) => {
    expect(isSecretLookingName(name)).toBe(true);
    const env = { [name]: 'the-secret-value' };
    const message = inputMessage(() => renderTag({ name: 'leak', value: `{{ .Env "${name}" }}` }, { ...data, env }));
    expect(message).toContain('tag "leak"');
    expect(message).toContain(`Env "${name}" is refused`);
    expect(message).toContain('tags must never publish secrets');
    expect(message).not.toContain('the-secret-value');
  });

  it.each([['PATH'], ['PULL_BASE_REF'], ['KEYBOARD'], ['PATTERN'], ['AUTHOR'], ['MONKEY_NAME'], ['BUILD_ID']])(
    'allows %j',
    (name) => {
      expect(isSecretLookingName(name)).toBe(false);
      expect(render(`{{ .Env "${name}" }}`, { ...data, env: { [name]: 'ok' } })).toBe('ok');
    },
  );

  it('never shows a secret value, even in a template with other problems', () => {
    const message = inputMessage(() =>
      renderTag({ name: 'leak', value: '{{ .Env "GITHUB_TOKEN" }} {{ .Foo }}' }, data),
    );
    expect(message).not.toContain('ghp_SUPERSECRETVALUE');
    expect((inputMessage(() => renderTag({ name: 'x', value: '{{Env "GITHUB_TOKEN"}}' }, data)))).not.toContain('ghp_');
  });
});
