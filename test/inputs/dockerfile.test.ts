import { describe, expect, it } from 'vitest';
import { analyseDockerfile, type BuildSettings } from '../../src/inputs/dockerfile.js';
import { expandWord } from '../../src/inputs/expand.js';

const settings = (extra: Partial<BuildSettings> = {}): BuildSettings => ({ buildArgs: {}, platforms: [], ...extra });
const images = (text: string, extra: Partial<BuildSettings> = {}): string[] => analyseDockerfile(text, settings(extra)).baseImages;
const args = (text: string, extra: Partial<BuildSettings> = {}): Record<string, string | null> => analyseDockerfile(text, settings(extra)).buildArgs;

describe('base images', () => {
  it.each<[string, string, Partial<BuildSettings>, string[]]>([
    ['a plain FROM', 'FROM alpine:3.20\n', {}, ['alpine:3.20']],
    ['global ARG default substituted', 'ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\n', {}, ['golang:1.22']],
    ['global ARG given', 'ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\n', { buildArgs: { GO_VERSION: '1.23' } }, ['golang:1.23']],
    ['$VAR without braces', 'ARG TAG=3\nFROM alpine:$TAG\n', {}, ['alpine:3']],
    ['a default built from an earlier ARG', 'ARG V=1.22\nARG IMAGE=golang:${V}-alpine\nFROM ${IMAGE}\n', { buildArgs: { V: '1.23' } }, ['golang:1.23-alpine']],
    ['${X:-default} when unset', 'ARG BASE\nFROM ${BASE:-debian:12}\n', {}, ['debian:12']],
    ['${X:-default} when given', 'ARG BASE\nFROM ${BASE:-debian:12}\n', { buildArgs: { BASE: 'ubuntu:24.04' } }, ['ubuntu:24.04']],
    ['${X:+alt}', 'ARG SLIM\nFROM python:3${SLIM:+-slim}\n', { buildArgs: { SLIM: '1' } }, ['python:3-slim']],
    ['an undeclared variable expands to nothing, as in Docker', 'FROM alpine${NOPE}:3\n', { buildArgs: { NOPE: 'x' } }, ['alpine:3']],
    ['a stage ARG is not visible to FROM', 'FROM alpine:3\nARG T=9\nFROM busybox:${T}\n', {}, ['alpine:3', 'busybox:']],
    ['stage names excluded', 'FROM golang:1.22 AS build\nFROM build\nFROM build AS test\n', {}, ['golang:1.22']],
    ['stage names are case-insensitive', 'FROM golang:1.22 AS Build\nFROM build\n', {}, ['golang:1.22']],
    ['a stage named later is an image here', 'FROM base\nFROM alpine:3 AS base\n', {}, ['alpine:3', 'base']],
    ['an ARG that names a stage', 'ARG FINAL=build\nFROM golang:1.22 AS build\nFROM ${FINAL}\n', {}, ['golang:1.22']],
    ['scratch excluded', 'FROM scratch\n', {}, []],
    ['--platform flag is not the image', 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 alpine:3\n', {}, ['alpine:3', 'golang:1.22']],
    ['lower-case keywords and AS', 'from golang:1.22 as build\nfrom build\n', {}, ['golang:1.22']],
    ['duplicates once, sorted', 'FROM b:1\nFROM a:1\nFROM b:1\n', {}, ['a:1', 'b:1']],
    ['quotes removed', 'FROM "alpine:3"\n', {}, ['alpine:3']],
    ['a pinned digest kept', `FROM alpine:3@sha256:${'a'.repeat(64)}\n`, {}, [`alpine:3@sha256:${'a'.repeat(64)}`]],
    ['COPY --from an image', 'FROM scratch\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n', {}, ['nginx:1.27']],
    ['COPY --from a stage or an index', 'FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n', {}, ['golang:1.22']],
    ['COPY --from with a stage ARG', 'FROM scratch\nARG TOOLS=busybox:1.36\nCOPY --from=${TOOLS} /bin/sh /sh\n', {}, ['busybox:1.36']],
    ['RUN --mount from an image', 'FROM alpine:3\nRUN --mount=type=bind,from=golang:1.22,target=/go true\n', {}, ['alpine:3', 'golang:1.22']],
    ['TARGETARCH per platform', 'FROM alpine-${TARGETARCH}:3\n', { platforms: ['linux/arm64', 'linux/amd64'] }, ['alpine-amd64:3', 'alpine-arm64:3']],
    ['TARGETARCH without platforms stays as written', 'FROM alpine-${TARGETARCH}:3\n', {}, ['alpine-${TARGETARCH}:3']],
    ['BUILDARCH depends on the machine: as written', 'FROM tools-${BUILDARCH}:1\n', { platforms: ['linux/amd64'] }, ['tools-${BUILDARCH}:1']],
    ['stages after --target are not built', 'FROM golang:1.22 AS build\nFROM alpine:3 AS release\nFROM debian:12 AS debug\n', { target: 'release' }, ['alpine:3', 'golang:1.22']],
    ['an unknown --target trims nothing', 'FROM golang:1.22 AS build\nFROM alpine:3\n', { target: 'nope' }, ['alpine:3', 'golang:1.22']],
    ['the escape directive', '# escape=`\nARG V=1\nFROM "alp`$ine:${V}"\n', {}, ['alp$ine:1']],
  ])('%s', (_, text, extra, expected) => {
    expect(images(text, extra)).toEqual(expected);
  });
});

describe('declared build arguments', () => {
  it.each<[string, string, Record<string, string>, Record<string, string | null>]>([
    ['global and stage ARGs with their defaults', 'ARG A=1\nFROM scratch\nARG B=2\n', {}, { A: '1', B: '2' }],
    ['a given value wins', 'ARG A=1\nFROM scratch\n', { A: '5' }, { A: '5' }],
    ['an undeclared argument is not an input', 'FROM scratch\n', { COMMIT_SHA: 'abc', TAG_default_tag: 'v1' }, {}],
    ['COMMIT_SHA counts where declared', 'FROM scratch\nARG COMMIT_SHA\n', { COMMIT_SHA: 'abc', TAG_default_tag: 'v1' }, { COMMIT_SHA: 'abc' }],
    ['declared without value and not given: null', 'FROM scratch\nARG X\n', {}, { X: null }],
    ['given the empty string', 'FROM scratch\nARG X\n', { X: '' }, { X: '' }],
    ['several in one ARG', 'FROM scratch\nARG A=1 B="two words" C\n', {}, { A: '1', B: 'two words', C: null }],
    ['single quotes keep $', "FROM scratch\nARG P='$HOME'\n", {}, { P: '$HOME' }],
    ['a stage redeclaring a global ARG inherits its value', 'ARG V=1\nFROM scratch\nARG V\n', {}, { V: '1' }],
    ['a global default from an earlier global ARG', 'ARG V=1\nARG IMG=x:${V}\nFROM ${IMG}\n', { V: '2' }, { V: '2', IMG: 'x:2' }],
    ['a stage default naming a variable stays as written', 'FROM scratch\nENV P=/usr\nARG D=${P}/bin\n', {}, { D: '${P}/bin' }],
    ['different values per scope', 'ARG V=1\nFROM scratch AS a\nARG V=2\nFROM scratch\nARG V\n', {}, { 'V@a': '2', 'V@global': '1', 'V@#1': '1' }],
    ['a given value makes the scopes agree', 'ARG V=1\nFROM scratch AS a\nARG V=2\n', { V: '3' }, { V: '3' }],
    ['ONBUILD ARG is for child images', 'FROM scratch\nONBUILD ARG X=1\n', {}, {}],
    ['ARGs of every stage count', 'FROM scratch AS a\nARG A\nFROM scratch AS b\nARG B\n', {}, { A: null, B: null }],
  ])('%s', (_, text, given, expected) => {
    expect(args(text, { buildArgs: given })).toEqual(expected);
  });

  it('trims stages after --target', () => {
    expect(args('FROM scratch AS a\nARG A\nFROM scratch AS b\nARG B\n', { target: 'a' })).toEqual({ A: null });
  });

  it('a prototype-named ARG is an own key', () => {
    const result = args('FROM scratch\nARG __proto__=x\n');
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });
});

describe('expandWord', () => {
  const scope = new Map<string, string | undefined>([
    ['SET', 'v'],
    ['EMPTY', ''],
    ['UNSET', undefined],
  ]);
  it.each<[string, string | undefined]>([
    ['$SET/${SET}', 'v/v'],
    ['${EMPTY:-d}|${EMPTY-d}|${UNSET-d}', 'd||d'],
    ['${SET:+a}|${EMPTY:+a}|${EMPTY+a}|${UNSET+a}', 'a||a|'],
    ['${UNSET:-${SET}x}', 'vx'],
    ["'$SET'\"$SET\"", '$SETv'],
    ['\\$SET', '$SET'],
    ['a$', 'a$'],
    ['${SET#v}', undefined],
    ['${SET', undefined],
  ])('%s → %s', (word, expected) => {
    expect(expandWord(word, scope, { unknown: 'empty' })).toBe(expected);
  });

  it('abandons on a name outside the scope when asked to', () => {
    expect(expandWord('${OTHER}', scope, { unknown: 'abandon' })).toBeUndefined();
    expect(expandWord('${OTHER}', scope, { unknown: 'empty' })).toBe('');
    expect(expandWord('${OTHER}', scope, { unknown: 'empty', opaque: new Set(['OTHER']) })).toBeUndefined();
  });
});
