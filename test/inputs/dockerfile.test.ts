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

describe('predefined proxy arguments', () => {
  it.each<[string, string, Record<string, string>, Record<string, string | null>]>([
    ['HTTP_PROXY given, not declared: an input (Docker passes it to RUN)', 'FROM scratch\n', { HTTP_PROXY: 'http://p:3128' }, { HTTP_PROXY: 'http://p:3128' }],
    ['every proxy name, both cases', 'FROM scratch\n', { https_proxy: 'a', FTP_PROXY: 'b', no_proxy: 'c', ALL_PROXY: 'd' }, { ALL_PROXY: 'd', FTP_PROXY: 'b', https_proxy: 'a', no_proxy: 'c' }],
    ['declared with a default: the given value', 'FROM scratch\nARG HTTP_PROXY=x\n', { HTTP_PROXY: 'y' }, { HTTP_PROXY: 'y' }],
    ['declared, not given: as any ARG', 'FROM scratch\nARG http_proxy\n', {}, { http_proxy: null }],
    ['not given: absent', 'FROM scratch\n', {}, {}],
    ['another undeclared argument is still no input', 'FROM scratch\n', { HTTP_PROXY_X: 'a', PROXY: 'b' }, {}],
  ])('%s', (_, text, given, expected) => {
    expect(args(text, { buildArgs: given })).toEqual(expected);
  });
});

describe('ADD from the network: not reusable', () => {
  const reason = (text: string, extra: Partial<BuildSettings> = {}): string | undefined => analyseDockerfile(text, settings(extra)).notReusable;
  const tail = 'whose content the inputs digest cannot cover: not reused, built every time';
  it.each<[string, string, Partial<BuildSettings>, string | undefined]>([
    ['an https URL', 'FROM alpine:3\nADD https://example.com/app.tar.gz /app/\n', {}, `line 2 of the Dockerfile: ADD downloads https://example.com/app.tar.gz, ${tail}`],
    ['an http URL with --checksum', 'FROM alpine:3\nRUN true\nADD --checksum=sha256:0123 http://example.com/a /a\n', {}, `line 3 of the Dockerfile: ADD downloads http://example.com/a, ${tail}`],
    ['a git@ repository', 'FROM alpine:3\nADD git@github.com:moby/buildkit.git /src\n', {}, `line 2 of the Dockerfile: ADD clones the git repository git@github.com:moby/buildkit.git, ${tail}`],
    ['an https .git repository with a ref', 'FROM alpine:3\nADD --keep-git-dir https://github.com/moby/buildkit.git#v0.10.1 /src\n', {}, `line 2 of the Dockerfile: ADD clones the git repository https://github.com/moby/buildkit.git#v0.10.1, ${tail}`],
    ['a git:// repository', 'FROM alpine:3\nADD git://example.com/r /src\n', {}, `line 2 of the Dockerfile: ADD clones the git repository git://example.com/r, ${tail}`],
    ['the JSON form', 'FROM alpine:3\nADD ["https://example.com/a", "/a"]\n', {}, `line 2 of the Dockerfile: ADD downloads https://example.com/a, ${tail}`],
    ['one local and one remote source', 'FROM alpine:3\nADD local.txt https://example.com/b /dst/\n', {}, `line 2 of the Dockerfile: ADD downloads https://example.com/b, ${tail}`],
    ['a URL from a stage ARG default', 'FROM alpine:3\nARG URL=https://example.com/x\nADD ${URL} /x\n', {}, `line 3 of the Dockerfile: ADD downloads https://example.com/x, ${tail}`],
    ['a URL from a given build arg', 'FROM alpine:3\nARG SRC=local.txt\nADD $SRC /x\n', { buildArgs: { SRC: 'https://example.com/y' } }, `line 3 of the Dockerfile: ADD downloads https://example.com/y, ${tail}`],
    ['a variable we cannot resolve, starting the source', 'FROM alpine:3\nENV SRC=x\nADD ${SRC} /x\n', {}, `line 3 of the Dockerfile: ADD fetches a source named by a variable we cannot resolve, possibly a URL: \${SRC}, ${tail}`],
    ['the first of several, by line', 'FROM alpine:3\nADD https://a.example/1 /1\nADD https://b.example/2 /2\n', {}, `line 2 of the Dockerfile: ADD downloads https://a.example/1, ${tail}`],
    ['a local file: reusable', 'FROM alpine:3\nADD app.tar.gz /app/\n', {}, undefined],
    ['a local file from an ARG: reusable', 'FROM alpine:3\nARG F=app.tar.gz\nADD ${F} /app/\n', {}, undefined],
    ['a URL as the destination only: reusable', 'FROM alpine:3\nADD a /https://x\n', {}, undefined],
    ['COPY never fetches: reusable', 'FROM alpine:3\nCOPY https://example.com/a /a\n', {}, undefined],
    ['in a stage after --target, never built: reusable', 'FROM alpine:3 AS app\nFROM alpine:3 AS fetch\nADD https://example.com/a /a\n', { target: 'app' }, undefined],
    ['in a builder stage that is built', 'FROM alpine:3 AS fetch\nADD https://example.com/a /a\nFROM alpine:3\n', {}, `line 2 of the Dockerfile: ADD downloads https://example.com/a, ${tail}`],
  ])('%s', (_, text, extra, expected) => {
    expect(reason(text, extra)).toBe(expected);
  });
});
