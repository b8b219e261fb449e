import { backendNamed } from '../src/backends/index.js';
import { kanikoBackend } from '../src/backends/kaniko.js';
import { describe, expect, it } from 'vitest';
import { closestFlag, parseArgs, validateOptions } from '../src/cli.js';
import { defaultOptions, type Options } from '../src/options.js';
import type { BackendName } from '../src/plan-types.js';

function parsed(argv: string[]): { options: Options; problems: string[]; empty: string[] } {
  const r = parseArgs(argv);
  if (r.kind !== 'options') throw new Error(`expected options, got ${r.kind}`);
  return r;
}

describe('flag syntax, as Go reads it', () => {
  it.each<[string, string[], Partial<Options>]>([
    ['--flag=value', ['--name=x'], { name: 'x' }],
    ['-flag=value (one dash)', ['-name=x'], { name: 'x' }],
    ['--flag value', ['--name', 'x'], { name: 'x' }],
    ['-flag value', ['-tag', 'latest'], { tags: ['latest'] }],
    ['a value that starts with a dash is still the value', ['--tag', '-x'], { tags: ['-x'] }],
    ['a value with "=" keeps it', ['--build-arg=A=b=c'], { buildArgs: ['A=b=c'] }],
    ['the last of repeated single flags wins', ['--name=a', '--name=b'], { name: 'b' }],
    ['repeatable flags accumulate in order', ['--tag=a', '-tag', 'b', '--tag=c'], { tags: ['a', 'b', 'c'] }],
    ['--platform and --images-to-sign split commas', ['--platform=linux/amd64, linux/arm64', '--platform=linux/s390x', '--images-to-sign=a,b'], { platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'], imagesToSign: ['a', 'b'] }],
    ['--tag does not split commas', ['--tag=a,b'], { tags: ['a,b'] }],
    ['defaults', [], { config: '/config/image-builder-config.yaml', context: '.', dockerfile: 'Dockerfile', logDir: '/logs/artifacts', exportTags: false }],
  ])('%s', (_name, argv, expected) => {
    const r = parsed(argv);
    expect(r.problems).toEqual([]);
    expect(r.options).toMatchObject(expected);
  });
});

describe('boolean values: Go strconv.ParseBool', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('--export-tags=%s is true', (v) => {
    expect(parsed([`--export-tags=${v}`])).toMatchObject({ problems: [], options: { exportTags: true } });
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('--export-tags=%s is false', (v) => {
    expect(parsed(['--export-tags', `--export-tags=${v}`])).toMatchObject({ problems: [], options: { exportTags: false } });
  });
  it('a boolean alone is true', () => {
    expect(parsed(['--build-in-ado', '-debug']).options).toMatchObject({ buildInAdo: true, debug: true });
  });
  it.each(['yes', 'no', 'on', '', 'tRUE', '2'])('--silent=%j is an error naming the flag', (v) => {
    expect(parsed([`--silent=${v}`]).problems).toEqual([`--silent: invalid boolean value ${JSON.stringify(v)}; use true or false (as in --silent=false)`]);
  });
  it('a boolean does not take the next argument: the hint says to use "="', () => {
    expect(parsed(['--export-tags', 'false']).problems).toEqual(['--export-tags false: a boolean flag takes its value with "=": write --export-tags=false']);
  });
});

describe('--reuse and --no-reuse: one setting, undefined when neither is given (config.yaml decides)', () => {
  it.each<[string[], boolean | undefined]>([
    [[], undefined],
    [['--reuse'], true],
    [['-reuse=true'], true],
    [['--reuse=false'], false],
    [['--reuse=0'], false],
    [['--no-reuse'], false],
    [['--no-reuse=false'], true],
    [['--no-reuse=F'], true],
    [['--reuse', '--reuse=false'], false],
    [['--no-reuse', '--reuse=false'], false],
    [['--reuse', '--no-reuse=false'], true],
  ])('%j → %s', (argv, reuse) => {
    const r = parsed(argv);
    expect(r.problems).toEqual([]);
    expect(r.options.reuse).toBe(reuse);
  });

  it.each([
    [['--reuse', '--no-reuse'], '--reuse and --no-reuse contradict each other; give one of them'],
    [['--no-reuse', '--reuse=1'], '--no-reuse and --reuse contradict each other; give one of them'],
    [['--reuse=yes'], '--reuse: invalid boolean value "yes"; use true or false (as in --reuse=false)'],
    [['--no-reuse=no'], '--no-reuse: invalid boolean value "no"; use true or false (as in --no-reuse=false)'],
  ])('%j is a problem', (argv, problem) => {
    expect(parsed(argv).problems).toEqual([problem]);
  });

  it('--reuse false (without "=") is the boolean hint, as for every boolean', () => {
    expect(parsed(['--no-reuse', 'false']).problems).toEqual(['--no-reuse false: a boolean flag takes its value with "=": write --no-reuse=false']);
  });
});

describe('empty values', () => {
  it.each<[string, keyof Options]>([
    ['--target=', 'target'], ['--env-file=', 'envFile'], ['--variant=', 'variant'], ['--tag-base64=', 'tagBase64'], ['--commit-sha=', 'commitSha'],
    ['--oidc-token=', 'oidcToken'], ['--azure-access-token=', 'azureAccessToken'], ['--repo=', 'repo'], ['--backend=', 'backend'],
  ])('%s is the same as not giving it', (arg, key) => {
    const r = parsed([arg]);
    expect(r.problems).toEqual([]);
    expect(r.options[key]).toBeUndefined();
  });
  it('--log-dir= keeps the default', () => {
    expect(parsed(['--log-dir=']).options.logDir).toBe('/logs/artifacts');
  });
  it('an empty repeatable value adds nothing', () => {
    expect(parsed(['--tag=', '--build-arg=', '--platform=', '--tag=x']).options).toMatchObject({ tags: ['x'], buildArgs: [], platforms: [] });
  });
  it.each(['name', 'context', 'dockerfile', 'config'])('--%s= is an error naming the flag', (flag) => {
    const r = parsed([`--${flag}=`]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(new RegExp(`^--${flag} is empty`));
    expect(r.empty).toEqual([flag]);
  });
});

describe('problems, every one reported', () => {
  it.each<[string, string[], string[]]>([
    ['a flag missing its value', ['--name=x', '--tag'], ['--tag needs a value: write --tag=<value>']],
    ['an unknown flag, with the closest known one', ['--tgs=x'], ['unknown flag --tgs; did you mean --tag? (run with --help to list the flags)']],
    ['camelCase is not a flag', ['--buildArg=A=1'], ['unknown flag --buildArg; did you mean --build-arg? (run with --help to list the flags)']],
    ['an unknown flag is named once', ['--nmae=a', '--nmae=b', '-nmae'], ['unknown flag --nmae; did you mean --name? (run with --help to list the flags)']],
    ['no hint when nothing is close', ['--zzzzzzzz'], ['unknown flag --zzzzzzzz (run with --help to list the flags)']],
    ['a positional argument', ['--name=x', 'extra'], ['unexpected argument "extra": image-builder takes only flags (--name=value); run with --help to list them']],
    ['three dashes', ['---name=x'], ['bad flag syntax: "---name=x"; write --name=value']],
    ['an unknown backend', ['--backend=docker'], ['--backend: unknown backend "docker"; use one of kaniko, buildkit, buildah, ado']],
  ])('%s', (_name, argv, problems) => {
    expect(parsed(argv).problems).toEqual(problems);
  });

  it('all at once', () => {
    expect(parsed(['--tgs=a', '--silent=yes', '--name=', 'x', '--tag']).problems).toHaveLength(5);
  });

  it('--help and -h win over everything', () => {
    expect(parseArgs(['--bogus', '--help']).kind).toBe('help');
    expect(parseArgs(['-h']).kind).toBe('help');
    expect(parseArgs(['--version']).kind).toBe('version');
  });
});

describe('closestFlag', () => {
  it.each([['tgs', 'tag'], ['dockerfil', 'dockerfile'], ['buildarg', 'build-arg'], ['images-to-sing', 'images-to-sign'], ['export_tags', 'export-tags'], ['platforms', 'platform'], ['zzzz', undefined]])('%s → %s', (typo, flag) => {
    expect(closestFlag(typo)).toBe(flag);
  });
});

describe('validateOptions: the rules between flags (SPEC 2)', () => {
  const opts = (o: Partial<Options>): Options => ({ ...defaultOptions(), name: 'app', ...o });
  it.each<[string, Partial<Options>, BackendName, string[]]>([
    ['a valid build', {}, 'kaniko', []],
    ['--name missing in build mode', { name: undefined }, 'kaniko', ['--name is required to build']],
    ['--name not needed to parse tags or sign', { name: undefined, parseTagsOnly: true }, 'kaniko', []],
    ['--sign-only without images', { signOnly: true }, 'kaniko', ['--sign-only needs at least one --images-to-sign']],
    ['images without --sign-only', { imagesToSign: ['a'] }, 'kaniko', ['--images-to-sign is only used with --sign-only']],
    ['--sign-only and --parse-tags-only together', { signOnly: true, imagesToSign: ['a'], parseTagsOnly: true }, 'kaniko', ['--sign-only and --parse-tags-only are two different modes']],
    ['a preview needs no --name', { name: undefined, adoPreviewRun: true, adoPreviewRunYamlPath: 'p.yaml' }, 'ado', []],
    ['--variant is fine with a backend that builds variants', { variant: 'x' }, 'buildah', []],
    ['--variant with ADO', { variant: 'x' }, 'ado', ['--variant is not supported with the ado backend']],
    ['--env-file with ADO is fine: the pipeline reads it', { envFile: 'envs' }, 'ado', []],
    ['--ado-preview-run without ADO', { adoPreviewRun: true, adoPreviewRunYamlPath: 'p.yaml' }, 'kaniko', ['--ado-preview-run needs the ADO backend']],
    ['--ado-preview-run without its YAML', { adoPreviewRun: true }, 'ado', ['--ado-preview-run needs --ado-preview-run-yaml-path']],
    ['the YAML without --ado-preview-run', { adoPreviewRunYamlPath: 'p.yaml' }, 'ado', ['--ado-preview-run-yaml-path is only used with --ado-preview-run']],
    ['--ado-state-output without --sign-only', { adoStateOutput: true }, 'ado', ['--ado-state-output is only used with --sign-only']],
    ['--build-in-ado against another --backend', { buildInAdo: true, backend: 'buildah' }, 'buildah', ['--build-in-ado conflicts with --backend buildah']],
    ['--commit-sha not hex', { commitSha: 'main' }, 'kaniko', ['--commit-sha "main" is not a commit SHA']],
    ['--ado-param without =', { adoParams: ['X'] }, 'ado', ['--ado-param "X" is not KEY=VALUE']],
    ['platforms os/arch and os/arch/variant', { platforms: ['linux/amd64', 'linux/arm/v7', 'windows/amd64', 'linux/arm64/v8'] }, 'buildah', []],
    ['a platform that is a path', { platforms: ['../../x'] }, 'buildah', ['--platform "../../x" is not a platform']],
    ['a platform without arch', { platforms: ['linux'] }, 'buildah', ['--platform "linux" is not a platform']],
    ['a platform in capitals', { platforms: ['Linux/AMD64'] }, 'buildah', ['--platform "Linux/AMD64" is not a platform']],
    ['--reuse with a backend that reuses', { reuse: true }, 'buildah', []],
    ['--reuse with ADO', { reuse: true }, 'ado', ['--reuse is not supported with the ado backend, which does not reuse images; drop --reuse, or build with --backend kaniko, --backend buildkit, --backend buildah']],
    ['--no-reuse with ADO is fine: nothing is reused anyway', { reuse: false }, 'ado', []],
    ['--reuse with ADO outside build mode is not its business', { reuse: true, parseTagsOnly: true, name: undefined }, 'ado', []],
  ])('%s', (_name, o, backend, fragments) => {
    const problems = validateOptions(opts(o), backendNamed(backend)!);
    expect(problems).toHaveLength(fragments.length);
    fragments.forEach((f, i) => expect(problems[i]).toContain(f));
  });

  it('an empty --name is reported once, not also as missing', () => {
    expect(validateOptions(opts({ name: undefined }), kanikoBackend, ['name'])).toEqual([]);
  });
});
