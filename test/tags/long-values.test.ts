import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { checkTagValue, computeTags, encodeTagsBase64, renderTag, type TemplateData } from '../../src/tags/index.js';
import { inputMessage } from '../support/errors.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const MB = 1024 * 1024;
const data = (env: Record<string, string>): TemplateData => ({ commitSHA: SHA, prNumber: 42, date: new Date('2026-11-25T10:00:00Z'), env });
const uses = (n: number, name = 'BIG'): string => `{{ .Env "${name}" }}`.repeat(n);


describe('a tag whose rendered value is far longer than a tag can be', () => {
  it.each<{ what: string; env: Record<string, string>; template: string }>([
    { what: 'a 10 MB value used once', env: { BIG: 'a'.repeat(10 * MB) }, template: uses(1) },
    { what: 'a 1 MB value used 60 times', env: { BIG: 'b'.repeat(MB) }, template: uses(60) },
    { what: 'a 5,000-character value', env: { BIG: 'c'.repeat(5000) }, template: uses(1) },
    { what: 'many short values that add up', env: { A: 'd'.repeat(200) }, template: uses(60, 'A') },
    { what: 'a long value after a prefix', env: { BIG: 'e'.repeat(2 * MB) }, template: `v1-{{ .ShortSHA }}-${uses(3)}` },
  ])('$what: refused as too long, the message short', ({ env, template }) => {
    const started = Date.now();
    const message = inputMessage(() => renderTag({ name: 'big', value: template }, data(env)));
    expect(Date.now() - started).toBeLessThan(5000); // a bound, not a benchmark
    expect(message).toMatch(/^tag "big" \(template .*\): renders to more than 4096 characters/);
    expect(message).toContain('a tag is at most 128 characters');
    expect(message.length).toBeLessThan(600);
  });

  it('computeTags reports each too-long tag once, every message short', () => {
    let problems: string[] = [];
    try {
      computeTags({
        userTags: [{ name: 'one', value: uses(40) }, { name: 'two', value: `x-${uses(2)}` }],
        settings: {},
        gitState: { ciSystem: 'github-actions', jobType: 'postsubmit', isPullRequest: false, baseCommitSHA: SHA },
        env: { BIG: 'f'.repeat(MB) },
        now: new Date('2026-11-25T10:00:00Z'),
      });
    } catch (err) {
      problems = (err as InputError).problems;
    }
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p.length).toBeLessThan(600);
    expect(problems[0]).toMatch(/^tag "one" .*renders to more than 4096 characters/);
    expect(problems[1]).toMatch(/^tag "two" .*renders to more than 4096 characters/);
  });

  it('a value of exactly the bound renders (and is then refused as an invalid OCI tag, quoted short)', () => {
    const message = inputMessage(() => renderTag({ name: 'edge', value: uses(1) }, data({ BIG: 'g'.repeat(4096) })));
    expect(message).toContain('is not a valid OCI tag');
    expect(message).not.toContain('renders to more than');
  });
});

describe('messages quote at most 80 characters of a rendered value, with an ellipsis and the full length', () => {
  const long = (n: number, c = 'h'): string => c.repeat(n);
  it.each([
    {
      what: 'an invalid OCI tag (129 characters)',
      fn: () => renderTag({ name: 'q', value: uses(1) }, data({ BIG: long(129) })),
      length: 129,
    },
    {
      what: 'an invalid OCI tag (4,000 characters)',
      fn: () => renderTag({ name: 'q', value: uses(1) }, data({ BIG: long(4000) })),
      length: 4000,
    },
    {
      what: 'a value that does not match its validation',
      fn: () => renderTag({ name: 'q', value: uses(1), validation: '^v' }, data({ BIG: long(128) })),
      length: 128,
    },
    {
      what: 'a tag made invalid by a variant suffix',
      fn: () => checkTagValue({ name: 'q', value: `${long(3000)}-variant` }, 'variant x'),
      length: 3008,
    },
    {
      what: 'a tag that cannot be passed to the ADO pipeline',
      fn: () => encodeTagsBase64([{ name: 'q', value: `${long(3000)},x` }]),
      length: 3002,
    },
  ])('$what', ({ fn, length }) => {
    const message = inputMessage(fn);
    expect(message).toContain(`"${'h'.repeat(80)}"… (${length} characters)`);
    expect(message).not.toContain('h'.repeat(81));
  });

  it('a short value is quoted whole, without an ellipsis', () => {
    const message = inputMessage(() => renderTag({ name: 'q', value: 'bad/tag' }, data({})));
    expect(message).toContain('value "bad/tag" is not a valid OCI tag');
    expect(message).not.toContain('…');
  });
});
