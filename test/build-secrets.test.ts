import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SECRET_BYTES, maskedForms, parseSecretFlag, readBuildSecrets, type BuildSecret } from '../src/build-secrets.js';
import { InputError } from '../src/errors.js';
import { removeTempDirs, tempDir } from './support/tools.js';

afterAll(removeTempDirs);

const ENV = { NPM_TOKEN: 'npm_0123456789', tok: 'tok-value', EMPTY: '' };
const CWD = '/work/repo';
const SYNTAX = 'write --secret id=ID,src=PATH (a file) or --secret id=ID,env=VARIABLE (an environment variable)';

describe('--secret as docker buildx reads it', () => {
  it.each<[string, string, BuildSecret]>([
    ['a file', 'id=npm,src=/run/secrets/npm', { id: 'npm', src: '/run/secrets/npm' }],
    ['a file relative to the working directory', 'id=npm,src=conf/.npmrc', { id: 'npm', src: '/work/repo/conf/.npmrc' }],
    ['source= is src=', 'id=npm,source=.npmrc', { id: 'npm', src: '/work/repo/.npmrc' }],
    ['a variable', 'id=npm,env=NPM_TOKEN', { id: 'npm', env: 'NPM_TOKEN' }],
    ['type=env with env=', 'type=env,id=npm,env=NPM_TOKEN', { id: 'npm', env: 'NPM_TOKEN' }],
    ['type=env: src= names the variable', 'type=env,id=npm,src=NPM_TOKEN', { id: 'npm', env: 'NPM_TOKEN' }],
    ['type=env: the id names the variable', 'type=env,id=NPM_TOKEN', { id: 'NPM_TOKEN', env: 'NPM_TOKEN' }],
    ['type=env: the id names the variable, set or not', 'type=env,id=UNSET', { id: 'UNSET', env: 'UNSET' }],
    ['type=file: the id names the file', 'type=file,id=npm', { id: 'npm', src: '/work/repo/npm' }],
    ['type=file: the id names the file even when a variable has its name', 'type=file,id=tok', { id: 'tok', src: '/work/repo/tok' }],
    ['type=file with src=', 'type=file,id=npm,source=/a/b', { id: 'npm', src: '/a/b' }],
    ['the id alone: the variable of that name when set', 'id=tok', { id: 'tok', env: 'tok' }],
    ['the id alone: the variable of that name, set but empty', 'id=EMPTY', { id: 'EMPTY', env: 'EMPTY' }],
    ['the id alone: else the file of that name', 'id=npmrc', { id: 'npmrc', src: '/work/repo/npmrc' }],
    ['an empty src= is no src', 'id=tok,src=', { id: 'tok', env: 'tok' }],
    ['keys in any case, in any order', 'SRC=x,Id=npm,TYPE=file', { id: 'npm', src: '/work/repo/x' }],
    ['a value may hold "="', 'id=a=b,src=/x=y', { id: 'a=b', src: '/x=y' }],
    ['CSV: a quoted field may hold a comma and a doubled quote', '"id=a,b","src=/s/x,""y"""', { id: 'a,b', src: '/s/x,"y"' }],
  ])('%s: %s', (_name, raw, expected) => {
    expect(parseSecretFlag(raw, ENV, CWD)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['no KEY=VALUE', 'foo', '"foo" is not KEY=VALUE'],
    ['an id alone without id=', 'npm,src=x', '"npm" is not KEY=VALUE'],
    ['an unknown key', 'id=a,file=x', 'unknown key "file" (known: type, id, src, source, env)'],
    ['an unknown type', 'type=ssh,id=a', 'type "ssh" is not a secret type: use type=file or type=env, or leave it out'],
    ['no id', 'src=/run/secrets/npm', 'no id (the name the Dockerfile mounts it by)'],
    ['an empty id', 'id=,env=NPM_TOKEN', 'no id (the name the Dockerfile mounts it by)'],
    ['type=file with a variable', 'type=file,id=a,env=NPM_TOKEN', 'type=file reads a file, not env='],
    ['a file and a variable', 'id=a,src=x,env=NPM_TOKEN', 'both src= and env= given: a secret comes from one of them'],
    ['an unclosed quote', '"id=a,src=x', 'a quoted field is not closed'],
    ['text after a closing quote', '"id=a"b,src=x', 'a quoted field goes on after its closing quote'],
    ['a quote inside a field', 'id=a,src=x"y', 'a quote inside an unquoted field'],
  ])('bad syntax, %s: %s', (_name, raw, why) => {
    let error: unknown;
    try {
      parseSecretFlag(raw, ENV, CWD);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as InputError).message;
    expect(message).toContain(`--secret ${JSON.stringify(raw)}: ${why}`);
    expect(message).toContain(SYNTAX);
  });
});

describe('reading the secrets of a build', () => {
  const dir = tempDir('secrets');
  writeFileSync(path.join(dir, 'npmrc'), '//registry.npmjs.org/:_authToken=abcdef\nalways-auth=true\n');
  mkdirSync(path.join(dir, 'folder'));

  it('reads every value, keeps only ids and sources', () => {
    const read = readBuildSecrets(['id=npm,src=npmrc', 'id=gh,env=GH_TOKEN'], { GH_TOKEN: 'ghp_secret' }, dir);
    expect(read).toEqual({
      secrets: [
        { id: 'npm', src: path.join(dir, 'npmrc') },
        { id: 'gh', env: 'GH_TOKEN' },
      ],
      values: ['//registry.npmjs.org/:_authToken=abcdef\nalways-auth=true\n', 'ghp_secret'],
      problems: [],
    });
  });

  it('reports every problem at once: syntax, a missing file, an unset variable, a folder, an id twice', () => {
    const read = readBuildSecrets(['foo', 'id=a,src=missing', 'id=b,env=UNSET', 'id=c,src=folder', 'id=a,env=SET', 'id=d'], { SET: 'x' }, dir);
    expect(read.secrets.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(read.problems).toEqual([
      `--secret "foo": "foo" is not KEY=VALUE; ${SYNTAX}`,
      `--secret id=a: ${path.join(dir, 'missing')} does not exist; give src=PATH of a readable file (relative to the working directory)`,
      '--secret id=b: the environment variable UNSET is not set; set it, or give the secret from a file with src=PATH',
      `--secret id=c: ${path.join(dir, 'folder')} is not a file; give src=PATH of a readable file (relative to the working directory)`,
      '--secret id=a is given twice; give each id once',
      `--secret id=d: ${path.join(dir, 'd')} does not exist; a secret given by its id alone is read from the variable d when it is set, else from the file ${path.join(dir, 'd')}: set d, or give env=VARIABLE or src=PATH`,
    ]);
  });

  it('refuses a file larger than BuildKit takes, unread', () => {
    const files = { stat: () => ({ isFile: () => true, size: MAX_SECRET_BYTES + 1 }), read: () => expect.fail('read') };
    expect(readBuildSecrets(['id=big,src=/big'], {}, dir, files).problems).toEqual([
      `--secret id=big: /big has ${MAX_SECRET_BYTES + 1} bytes, more than a secret may (${MAX_SECRET_BYTES}, as BuildKit); mount large files another way`,
    ]);
  });
});

describe('what is masked of a value', () => {
  it.each<[string, string, string[]]>([
    ['one line', 'ghp_0123456789', ['ghp_0123456789']],
    ['one line and its newline (the trimmed form is the masker\'s own)', 'ghp_0123456789\n', ['ghp_0123456789\n']],
    [
      'several lines: the whole, and each line of 8 characters or more (a builder prints line by line)',
      '//registry.npmjs.org/:_authToken=abcdef\r\nalways-auth=true\ntrue\n',
      ['//registry.npmjs.org/:_authToken=abcdef\r\nalways-auth=true\ntrue\n', '//registry.npmjs.org/:_authToken=abcdef', 'always-auth=true'],
    ],
  ])('%s', (_name, value, forms) => {
    expect(maskedForms(value)).toEqual(forms);
  });
});
