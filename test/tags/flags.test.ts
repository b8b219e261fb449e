import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { encodeTagsBase64, parseTagBase64, parseTagFlag } from '../../src/tags/index.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('parseTagFlag', () => {
  it.each([
    ['latest', 'latest'],
    ['v{{ .ShortSHA }}-{{ .Date }}', 'vShortSHA-Date'],
    ['{{ .Env "PULL_BASE_REF" }}-{{ .ShortSHA }}', 'EnvPULL_BASE_REF-ShortSHA'],
    ['v1.2.3', 'v123'],
    ['{{ShortSHA}}', 'ShortSHA'],
  ])('derives the name of %j as %j', (raw, name) => {
    expect(parseTagFlag(raw)).toEqual({ name, value: raw });
  });

  it.each([
    ['release=v1.2.3', { name: 'release', value: 'v1.2.3' }],
    ['commit={{ .ShortSHA }}', { name: 'commit', value: '{{ .ShortSHA }}' }],
    ['env={{ .Env "A.B" }}', { name: 'env', value: '{{ .Env "A.B" }}' }],
  ])('parses name=value %j', (raw, tag) => {
    expect(parseTagFlag(raw)).toEqual(tag);
  });

  it.each([
    ['a=b=c', /--tag "a=b=c": more than one "="/],
    ['=value', /--tag "=value": the tag name is empty/],
    ['name=', /--tag "name=": the tag value is empty/],
    ['', /the tag value is empty/],
    ['{{ . }}', /--tag "\{\{ \. \}\}": no tag name can be derived/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseTagFlag(raw)).toThrow(InputError);
    expect(() => parseTagFlag(raw)).toThrow(message);
  });
});

describe('parseTagBase64', () => {
  it.each([
    ['a=1,b=2', [{ name: 'a', value: '1' }, { name: 'b', value: '2' }]],
    ['latest', [{ name: 'latest', value: 'latest' }]],
    ['x={{ .ShortSHA }}, v{{ .Date }}', [{ name: 'x', value: '{{ .ShortSHA }}' }, { name: 'vDate', value: 'v{{ .Date }}' }]],
    ['a=1,', [{ name: 'a', value: '1' }]],
  ])('decodes %j', (text, tags) => {
    expect(parseTagBase64(b64(text))).toEqual(tags);
  });

  it.each([
    ['not base64!', /not valid base64/],
    ['YWJj$', /not valid base64/],
    ['', /no tags in it/],
    [b64(' , '), /no tags in it/],
    [b64('a=1=2,b=2,=3'), /more than one "="[\s\S]*the tag name is empty/],
  ])('refuses %j', (value, message) => {
    expect(() => parseTagBase64(value)).toThrow(InputError);
    expect(() => parseTagBase64(value)).toThrow(message);
  });

  it('reports every bad entry together', () => {
    try {
      parseTagBase64(b64('a=1=2,=3'));
      expect.unreachable();
    } catch (err) {
      expect((err as InputError).problems).toHaveLength(2);
    }
  });
});

describe('encodeTagsBase64', () => {
  it.each([
    [[{ name: 'a', value: '1' }]],
    [[{ name: 'default_tag', value: 'v20261125-01234567' }, { name: 'latest', value: 'latest' }]],
    [[{ name: 'x', value: '{{ .Env "PULL_BASE_REF" }}-{{ .ShortSHA }}' }]],
  ])('round-trips %j', (tags) => {
    const encoded = encodeTagsBase64(tags);
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(tags.map((t) => `${t.name}=${t.value}`).join(','));
    expect(parseTagBase64(encoded)).toEqual(tags);
  });

  it.each([
    [{ name: 'a,b', value: '1' }],
    [{ name: 'a', value: '1=2' }],
    [{ name: 'a', value: '1,2' }],
  ])('refuses what would not round-trip: %j', (tag) => {
    expect(() => encodeTagsBase64([tag])).toThrow(/cannot be passed to the ADO pipeline/);
  });
});
