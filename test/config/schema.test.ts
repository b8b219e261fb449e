import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import type { TagTemplate } from '../../src/tags/tag.js';

const DEFAULTS = {
  registry: [],
  'dev-registry': [],
  reproducible: false,
  cache: { enabled: false, 'cache-run-layers': false, 'cache-copy-layers': false },
  reuse: { enabled: false, trusted: [] },
};

function configOf(text: string): Config {
  return parseConfig(text, 'config.yaml').config;
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'config.yaml');
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

const ADO_BASE = 'ado-config: {ado-organization-url: "https://dev.azure.com/o", ado-project-name: p';
const ADO = `${ADO_BASE}, ado-pipeline-id: 1`;
const NOTARY = 'config: {endpoint: "https://signing.example/sign", secret: {path: /s, type: token}}';

describe('valid configs and their normalised output', () => {
  it.each<[string, string, Partial<Config>]>([
    ['an empty file', '', {}],
    ['a comment-only file', '# nothing yet\n', {}],
    ['empty values, which mean "not set"', 'registry:\ncache:\nado-config:\nsign-config: {signers: }', { 'sign-config': { 'enabled-signers': {}, signers: [] } }],
    ['registry as a string', 'registry: r.example/prod', { registry: ['r.example/prod'] }],
    ['registry as a list', 'registry: [a.example/x, b.example/y]', { registry: ['a.example/x', 'b.example/y'] }],
    ['dev-registry as a string', 'dev-registry: r.example/dev', { 'dev-registry': ['r.example/dev'] }],
    ['tag-template as a string', 'tag-template: v{{ .Date }}', { 'default-commit-tag': { name: 'default_tag', value: 'v{{ .Date }}' } }],
    [
      'tag-template as an object',
      'tag-template: {name: t, value: x, validation: "^x$"}',
      { 'default-commit-tag': { name: 't', value: 'x', validation: '^x$' } },
    ],
    ['tag-template object without name', 'tag-template: {value: x}', { 'default-commit-tag': { name: 'default_tag', value: 'x' } }],
    ['default-commit-tag', 'default-commit-tag: {value: "v{{ .ShortSHA }}"}', { 'default-commit-tag': { name: 'default_tag', value: 'v{{ .ShortSHA }}' } }],
    ['default-pr-tag', 'default-pr-tag: {name: pr, value: "PR-{{ .PRNumber }}"}', { 'default-pr-tag': { name: 'pr', value: 'PR-{{ .PRNumber }}' } }],
    [
      'default-merge-group-tag with validation',
      'default-merge-group-tag: {value: "0.0.0-MG.{{ .ShortSHA }}", validation: "^0\\\\.0\\\\.0-MG\\\\.[0-9a-f]{8}$"}',
      { 'default-merge-group-tag': { name: 'default_tag', value: '0.0.0-MG.{{ .ShortSHA }}', validation: '^0\\.0\\.0-MG\\.[0-9a-f]{8}$' } },
    ],
    ['additional-pr-tag', 'additional-pr-tag: {name: semver, value: "v{{ .PRNumber }}-PR"}', { 'additional-pr-tag': { name: 'semver', value: 'v{{ .PRNumber }}-PR' } }],
    ['reproducible and log-format', 'reproducible: true\nlog-format: json', { reproducible: true, 'log-format': 'json' }],
    [
      'cache enabled',
      'cache: {enabled: true, cache-repo: r.example/cache, cache-run-layers: true}',
      { cache: { enabled: true, 'cache-repo': 'r.example/cache', 'cache-run-layers': true, 'cache-copy-layers': false } },
    ],
    ['reuse enabled', 'reuse: {enabled: true}', { reuse: { enabled: true, trusted: [] } }],
    ['reuse: {} is off', 'reuse: {}', { reuse: { enabled: false, trusted: [] } }],
    [
      'reuse.trusted: a key and a keyless identity, trusted-root optional',
      'reuse:\n  enabled: true\n  trusted:\n    - key: keys/merge-queue.pub\n    - keyless: {issuer: "https://token.actions.githubusercontent.com", identity: "^https://github\\\\.com/o/r/.+@refs/heads/main$", trusted-root: sigstore/root.json}\n    - keyless: {issuer: "https://accounts.google.com", identity: "ci@example\\\\.com"}',
      {
        reuse: {
          enabled: true,
          trusted: [
            { key: 'keys/merge-queue.pub' },
            { keyless: { issuer: 'https://token.actions.githubusercontent.com', identity: '^https://github\\.com/o/r/.+@refs/heads/main$', 'trusted-root': 'sigstore/root.json' } },
            { keyless: { issuer: 'https://accounts.google.com', identity: 'ci@example\\.com' } },
          ],
        },
      },
    ],
    [
      'ado-config with defaults',
      `${ADO}}`,
      {
        'ado-config': {
          'ado-organization-url': 'https://dev.azure.com/o',
          'ado-project-name': 'p',
          'ado-pipeline-id': 1,
          'ado-retry-strategy': { attempts: 3, delay: 5_000 },
          'ado-refresh-interval': 30_000,
          'ado-timeout': 10_800_000,
        },
      },
    ],
    [
      'ado-config with every field, pipeline id as a string',
      `${ADO_BASE}, ado-pipeline-id: "14902", ado-pipeline-version: 0, ado-retry-strategy: {attempts: 5, delay: 1.5s}, ado-refresh-interval: 1m, ado-timeout: 2h30m}`,
      {
        'ado-config': {
          'ado-organization-url': 'https://dev.azure.com/o',
          'ado-project-name': 'p',
          'ado-pipeline-id': 14902,
          'ado-pipeline-version': 0,
          'ado-retry-strategy': { attempts: 5, delay: 1_500 },
          'ado-refresh-interval': 60_000,
          'ado-timeout': 9_000_000,
        },
      },
    ],
  ])('%s', (_, text, expected) => {
    expect(configOf(text)).toStrictEqual({ ...DEFAULTS, ...expected });
  });

  it('reads the signers of the spec example, defaults included', () => {
    const config = configOf(`
sign-config:
  enabled-signers:
    "*": [signify-prod]
    my-org/my-repo: [repo-cosign]
  signers:
    - name: signify-prod
      type: notary
      job-type: [postsubmit]
      config:
        endpoint: https://signing.example/sign
        timeout: 1m
        secret: {path: /secret/signify.yaml, type: signify}
    - name: repo-cosign
      type: cosign
      config: {key: /k.pem, password-env: COSIGN_PASSWORD, annotations: {team: x, "odd key": y}}
`);
    expect(config['sign-config']).toStrictEqual({
      'enabled-signers': { '*': ['signify-prod'], 'my-org/my-repo': ['repo-cosign'] },
      signers: [
        {
          name: 'signify-prod',
          type: 'notary',
          'job-type': ['postsubmit'],
          config: { endpoint: 'https://signing.example/sign', timeout: 60_000, 'retry-timeout': 10_000, secret: { path: '/secret/signify.yaml', type: 'signify' } },
        },
        {
          name: 'repo-cosign',
          type: 'cosign',
          config: {
            key: '/k.pem',
            'password-env': 'COSIGN_PASSWORD',
            keyless: false,
            'fulcio-url': 'https://fulcio.sigstore.dev',
            'rekor-url': 'https://rekor.sigstore.dev',
            recursive: false,
            'docker-media-types': false,
            annotations: { team: 'x', 'odd key': 'y' },
          },
        },
      ],
    });
  });

  it.each(['token', 'signify', 'signify-mtls'])('accepts notary secret type %s', (type) => {
    const config = configOf(`sign-config: {signers: [{name: n, type: notary, config: {endpoint: "http://127.0.0.1:8080", secret: {path: /s, type: ${type}}}}]}`);
    expect(config['sign-config']?.signers[0]).toMatchObject({ type: 'notary', config: { secret: { type } } });
  });

  it('a notary signer without secret signs without authentication: its secret is {type: none}', () => {
    const config = configOf('sign-config: {signers: [{name: n, type: notary, config: {endpoint: "https://signing.example/sign"}}]}');
    expect(config['sign-config']?.signers[0]).toStrictEqual({
      name: 'n',
      type: 'notary',
      config: { endpoint: 'https://signing.example/sign', timeout: 300_000, 'retry-timeout': 10_000, secret: { type: 'none' } },
    });
  });

  it('types the output from the schema', () => {
    expectTypeOf<Config['default-commit-tag']>().toEqualTypeOf<TagTemplate | undefined>();
    expectTypeOf<Config['registry']>().toEqualTypeOf<string[]>();
    expectTypeOf<NonNullable<Config['ado-config']>['ado-timeout']>().toEqualTypeOf<number>();
    expectTypeOf<Config>().not.toHaveProperty('tag-template');
    expect(configSchema.parse({ 'tag-template': 'x' })).not.toHaveProperty('tag-template');
  });
});

describe('errors name the key path and what was expected', () => {
  it.each<[string, string, string[]]>([
    ['wrong scalar type', 'cache: {cache-repo: 3}', ['config.yaml: cache.cache-repo: expected a string, got number']],
    ['registry of the wrong type', 'registry: 3', ['config.yaml: registry: expected a string or a list of strings, got number']],
    ['a bad registry entry', 'registry: [a, 3]', ['config.yaml: registry[1]: expected a string, got number']],
    ['an empty registry', 'registry: ""', ['config.yaml: registry: must not be empty']],
    [
      'both tag spellings',
      'tag-template: x\ndefault-commit-tag: {value: y}',
      ['config.yaml: default-commit-tag: tag-template and default-commit-tag are two spellings of one setting; keep one'],
    ],
    ['tag-template of the wrong type', 'tag-template: [x]', ['config.yaml: tag-template: expected a template string or a mapping {name, value, validation}, got list']],
    ['tag-template object without value', 'tag-template: {name: x}', ['config.yaml: tag-template.value: missing: expected a string']],
    ['additional-pr-tag without name', 'additional-pr-tag: {value: x}', ['config.yaml: additional-pr-tag.name: missing: expected a string']],
    [
      'an invalid validation regex',
      'default-pr-tag: {value: x, validation: "[a-"}',
      ["config.yaml: default-pr-tag.validation: not a valid RE2 regular expression (the syntax of Go's regexp): missing closing ]: `[a-`"],
    ],
    [
      'an invalid regex in tag-template',
      'tag-template: {value: x, validation: "(?<"}',
      [expect.stringMatching(/^config\.yaml: tag-template\.validation: not a valid RE2 regular expression /) as unknown as string],
    ],
    [
      'a lookbehind, which JavaScript has and RE2 (Go) has not',
      'default-merge-group-tag: {value: x, validation: "(?<=v)1"}',
      [expect.stringMatching(/^config\.yaml: default-merge-group-tag\.validation: not a valid RE2 regular expression .*\(\?<=v\)1/) as unknown as string],
    ],
    ['reuse.enabled not a boolean', 'reuse: {enabled: "yes"}', ['config.yaml: reuse.enabled: expected a boolean (true or false), got string']],
    ['reuse as a boolean', 'reuse: true', ['config.yaml: reuse: expected a mapping, got boolean']],
    ['reuse.trusted not a list', 'reuse: {trusted: keys/a.pub}', ['config.yaml: reuse.trusted: expected a list, got string']],
    [
      'a trusted entry with neither key nor keyless',
      'reuse: {trusted: [{}]}',
      ['config.yaml: reuse.trusted[0]: missing: give key (a cosign public key file) or keyless ({issuer, identity})'],
    ],
    [
      'a trusted entry with both key and keyless',
      'reuse: {trusted: [{key: a.pub}, {key: b.pub, keyless: {issuer: "https://i.example", identity: x}}]}',
      ['config.yaml: reuse.trusted[1].keyless: give either key or keyless, not both: write each signer as its own entry'],
    ],
    ['an empty trusted key path', 'reuse: {trusted: [{key: ""}]}', ['config.yaml: reuse.trusted[0].key: must not be empty']],
    [
      'a keyless identity without issuer and identity',
      'reuse: {trusted: [{keyless: {trusted-root: r.json}}]}',
      ['config.yaml: reuse.trusted[0].keyless.issuer: missing: expected a string', 'config.yaml: reuse.trusted[0].keyless.identity: missing: expected a string'],
    ],
    [
      'a keyless identity that is not RE2 (a lookbehind)',
      'reuse: {trusted: [{key: a.pub}, {keyless: {issuer: "https://i.example", identity: "(?<=x)y"}}]}',
      [expect.stringMatching(/^config\.yaml: reuse\.trusted\[1\]\.keyless\.identity: not a valid RE2 regular expression \(the syntax of Go's regexp\): .*\(\?<=x\)y/) as unknown as string],
    ],
    [
      'a keyless identity with an unclosed group',
      'reuse: {trusted: [{keyless: {issuer: "https://i.example", identity: "^https://(a|b$"}}]}',
      ["config.yaml: reuse.trusted[0].keyless.identity: not a valid RE2 regular expression (the syntax of Go's regexp): missing closing ): `^https://(a|b$`"],
    ],
    ['reproducible not a boolean', 'reproducible: yes', ['config.yaml: reproducible: expected a boolean (true or false), got string']],
    ['an unknown log-format', 'log-format: xml', ['config.yaml: log-format: expected one of "text", "color", "json", got "xml"']],
    ['cache enabled without repo', 'cache: {enabled: true}', ['config.yaml: cache.cache-repo: missing: required when cache.enabled is true']],
    [
      'ado-config missing fields',
      'ado-config: {ado-organization-url: "ftp://x"}',
      [
        'config.yaml: ado-config.ado-organization-url: expected an http(s) URL, got "ftp://x"',
        'config.yaml: ado-config.ado-project-name: missing: expected a string',
        'config.yaml: ado-config.ado-pipeline-id: missing: expected a positive integer',
      ],
    ],
    ['a zero pipeline id', `${ADO_BASE}, ado-pipeline-id: 0}`, ['config.yaml: ado-config.ado-pipeline-id: must be greater than 0, got 0']],
    ['a non-numeric pipeline id', `${ADO_BASE}, ado-pipeline-id: "12a"}`, ['config.yaml: ado-config.ado-pipeline-id: expected a positive integer, got "12a"']],
    ['a fractional pipeline version', `${ADO}, ado-pipeline-version: 1.5}`, ['config.yaml: ado-config.ado-pipeline-version: expected an integer, got 1.5']],
    ['zero retry attempts', `${ADO}, ado-retry-strategy: {attempts: 0}}`, ['config.yaml: ado-config.ado-retry-strategy.attempts: must be at least 1, got 0']],
    [
      'a duration without unit',
      `${ADO}, ado-timeout: 30}`,
      [
        'config.yaml: ado-config.ado-timeout: expected a Go duration such as "300ms", "10s", "5m", "1h30m" or "1.5h" (units ns, us, ms, s, m, h), got number 30 (a number needs a unit, e.g. "30s")',
      ],
    ],
    [
      'a malformed duration',
      `${ADO}, ado-refresh-interval: 3 hours}`,
      ['config.yaml: ado-config.ado-refresh-interval: invalid duration "3 hours" (unknown unit " hours"); expected a Go duration such as "300ms", "10s", "5m", "1h30m" or "1.5h" (units ns, us, ms, s, m, h)'],
    ],
    ['a zero timeout', `${ADO}, ado-timeout: 0s}`, ['config.yaml: ado-config.ado-timeout: must be greater than 0, got "0s"']],
    ['a negative delay', `${ADO}, ado-retry-strategy: {delay: -1s}}`, ['config.yaml: ado-config.ado-retry-strategy.delay: must be at least 0, got "-1s"']],
  ])('%s', (_, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('reports every problem of a file in one InputError', () => {
    const problems = problemsOf('registry: 3\ncache: {enabled: true}\ntag-template: x\ndefault-commit-tag: {value: 4}\nlog-format: xml\n');
    expect(problems).toEqual([
      'config.yaml: registry: expected a string or a list of strings, got number',
      'config.yaml: default-commit-tag.value: expected a string, got number',
      'config.yaml: log-format: expected one of "text", "color", "json", got "xml"',
      'config.yaml: cache.cache-repo: missing: required when cache.enabled is true',
      'config.yaml: default-commit-tag: tag-template and default-commit-tag are two spellings of one setting; keep one',
    ]);
  });
});

describe('sign-config errors', () => {
  const signers = (list: string) => `sign-config:\n  signers: ${list}`;
  it.each<[string, string, string[]]>([
    ['an unknown signer type', signers('[{name: a, type: gpg, config: {}}]'), ['config.yaml: sign-config.signers[0].type: unknown signer type "gpg" (known: notary, cosign)']],
    ['a missing signer type', signers('[{name: a, config: {}}]'), ['config.yaml: sign-config.signers[0].type: missing; expected one of: notary, cosign']],
    ['a signer that is not a mapping', signers('[a]'), ['config.yaml: sign-config.signers[0]: expected a signer mapping {name, type, config}, got string']],
    [
      'an unknown secret type',
      signers('[{name: a, type: notary, config: {endpoint: "https://x", secret: {path: /s, type: oauth}}}]'),
      ['config.yaml: sign-config.signers[0].config.secret.type: unknown secret type "oauth" (known: token, signify, signify-mtls)'],
    ],
    [
      'a secret without path (leaving secret out is how to sign without authentication)',
      signers('[{name: a, type: notary, config: {endpoint: "https://x", secret: {type: token}}}]'),
      ['config.yaml: sign-config.signers[0].config.secret.path: missing: expected a string'],
    ],
    [
      'secret type none written out: it is only what a missing secret becomes',
      signers('[{name: a, type: notary, config: {endpoint: "https://x", secret: {path: /s, type: none}}}]'),
      ['config.yaml: sign-config.signers[0].config.secret.type: unknown secret type "none" (known: token, signify, signify-mtls)'],
    ],
    ['a notary without endpoint', signers('[{name: a, type: notary, config: {secret: {path: /s, type: token}}}]'), ['config.yaml: sign-config.signers[0].config.endpoint: missing: expected a string']],
    [
      'an unknown job type',
      signers(`[{name: a, type: notary, job-type: [nightly], ${NOTARY}}]`),
      ['config.yaml: sign-config.signers[0].job-type[0]: expected one of "presubmit", "postsubmit", "merge_group", "workflow_dispatch", "schedule", got "nightly"'],
    ],
    [
      'a cosign signer with both password sources',
      signers('[{name: c, type: cosign, config: {key: k, password-env: E, password-file: /f}}]'),
      ['config.yaml: sign-config.signers[0].config.password-file: give either password-env or password-file, not both'],
    ],
    ['a cosign signer without key', signers('[{name: c, type: cosign, config: {}}]'), ['config.yaml: sign-config.signers[0].config.key: missing; give the path of the cosign private key, or keyless: true']],
    [
      'a keyless signer with a key and a password',
      signers('[{name: c, type: cosign, config: {keyless: true, key: k, password-env: P}}]'),
      [
        'config.yaml: sign-config.signers[0].config.key: a keyless signer has no key; remove it (or remove keyless: true, to sign with the key)',
        'config.yaml: sign-config.signers[0].config.password-env: a keyless signer has no password-env; remove it (or remove keyless: true, to sign with the key)',
      ],
    ],
    [
      'a trusted root for a signer with a key',
      signers('[{name: c, type: cosign, config: {key: k, trusted-root: /root.json}}]'),
      ['config.yaml: sign-config.signers[0].config.trusted-root: is for keyless signing; add keyless: true or remove it'],
    ],
    [
      'keyless service URLs that are not http(s), recursive that is not a boolean',
      signers('[{name: c, type: cosign, config: {keyless: true, fulcio-url: "ftp://f", rekor-url: rekor, recursive: "yes"}}]'),
      [
        'config.yaml: sign-config.signers[0].config.fulcio-url: expected an http(s) URL, got "ftp://f"',
        'config.yaml: sign-config.signers[0].config.rekor-url: expected an http(s) URL, got "rekor"',
        'config.yaml: sign-config.signers[0].config.recursive: expected a boolean (true or false), got string',
      ],
    ],
    [
      'duplicate signer names',
      signers(`[{name: a, type: notary, ${NOTARY}}, {name: a, type: cosign, config: {key: k}}]`),
      ['config.yaml: sign-config.signers[1].name: signer name "a" is already used by signers[0]'],
    ],
    [
      'an enabled signer that no signer defines',
      `sign-config:\n  enabled-signers: {"*": [foo], my-org/my-repo: [b, bar]}\n  signers: [{name: a, type: notary, ${NOTARY}}, {name: b, type: cosign, config: {key: k}}]`,
      [
        'config.yaml: sign-config.enabled-signers["*"][0]: signer "foo" is not defined under sign-config.signers (defined: a, b)',
        'config.yaml: sign-config.enabled-signers["my-org/my-repo"][1]: signer "bar" is not defined under sign-config.signers (defined: a, b)',
      ],
    ],
    [
      'an enabled signer with no signers at all',
      'sign-config: {enabled-signers: {"*": [foo]}}',
      ['config.yaml: sign-config.enabled-signers["*"][0]: signer "foo" is not defined under sign-config.signers (none defined)'],
    ],
    [
      'a repository key that is not org/repo',
      'sign-config: {enabled-signers: {my-repo: []}}',
      ['config.yaml: sign-config.enabled-signers.my-repo: invalid key "my-repo": expected "*" (every repository) or "org/repo"'],
    ],
    [
      'an undefined signer next to a broken one',
      signers('[{name: a, type: gpg}]') + '\n  enabled-signers: {"*": [a, z]}',
      [
        'config.yaml: sign-config.signers[0].type: unknown signer type "gpg" (known: notary, cosign)',
        'config.yaml: sign-config.enabled-signers["*"][1]: signer "z" is not defined under sign-config.signers (defined: a)',
      ],
    ],
  ])('%s', (_, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });
});
