import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { closestKey } from '../../src/config/unknown-keys.js';
import { InputError } from '../../src/errors.js';

function problemsOf(text: string, file = 'config.yaml'): string[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

// SPEC.md section 3, verbatim.
const SPEC_EXAMPLE = `
tag-template: v{{ .Date }}-{{ .ShortSHA }}             # string, or {name, value, validation}
registry: europe-docker.pkg.dev/kyma-project/prod      # string or list
dev-registry: europe-docker.pkg.dev/kyma-project/dev   # string or list; used for pull requests and merge groups
# newer spelling of the same idea; each {name, value, validation?}:
default-commit-tag: {name: default_tag, value: "v{{ .Date }}-{{ .ShortSHA }}"}
default-pr-tag: {name: default_tag, value: "PR-{{ .PRNumber }}"}
default-merge-group-tag: {name: default_tag, value: "0.0.0-MG.{{ .ShortSHA }}", validation: "^0\\\\.0\\\\.0-MG\\\\.[0-9a-f]{8}$"}
additional-pr-tag: {name: semver_pr_tag, value: "v{{ .PRNumber }}-PR", validation: "^v[0-9]+-PR$"}
reproducible: false                                    # kaniko --reproducible
log-format: json                                       # kaniko --log-format
cache:
  enabled: true
  cache-repo: europe-docker.pkg.dev/kyma-project/cache/cache
  cache-run-layers: true
  cache-copy-layers: false
ado-config:
  ado-organization-url: https://dev.azure.com/my-org
  ado-project-name: my-project
  ado-pipeline-id: 14902
  ado-pipeline-version: 0          # optional; 0 = latest
  ado-retry-strategy: {attempts: 3, delay: 5s}
  ado-refresh-interval: 30s
  ado-timeout: 3h                  # beyond: give up waiting (default 3h)
sign-config:
  enabled-signers:
    "*": [signify-prod]            # every repository
    my-org/my-repo: [repo-notary]  # this repository in addition
  signers:
    - name: signify-prod
      type: notary
      job-type: [postsubmit]       # optional: only these job types
      config:
        endpoint: https://signing.example/sign
        timeout: 5m
        retry-timeout: 10s
        secret: {path: /secret/signify.yaml, type: signify}   # or type: token
`;

// The spec's example is illustrative: it gives both tag spellings and enables a signer it does not define.
const FIXED_EXAMPLE = `${SPEC_EXAMPLE.replace(/^tag-template:.*$/m, '')}
    - name: repo-notary
      type: notary
      config: {endpoint: "https://notary.example/sign", secret: {path: /secret/token, type: token}}
`;

describe('the example of the spec', () => {
  it('is refused as written, naming both of its problems', () => {
    expect(problemsOf(SPEC_EXAMPLE)).toEqual([
      'config.yaml: sign-config.enabled-signers["my-org/my-repo"][0]: signer "repo-notary" is not defined under sign-config.signers (defined: signify-prod)',
      'config.yaml: default-commit-tag: tag-template and default-commit-tag are two spellings of one setting; keep one',
    ]);
  });

  it('loads without warnings once fixed', () => {
    const { config, warnings } = parseConfig(FIXED_EXAMPLE, 'config.yaml');
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      registry: ['europe-docker.pkg.dev/kyma-project/prod'],
      'default-commit-tag': { name: 'default_tag', value: 'v{{ .Date }}-{{ .ShortSHA }}' },
      'default-merge-group-tag': { validation: '^0\\.0\\.0-MG\\.[0-9a-f]{8}$' },
      cache: { enabled: true, 'cache-copy-layers': false },
      'ado-config': { 'ado-pipeline-id': 14902, 'ado-pipeline-version': 0, 'ado-retry-strategy': { attempts: 3, delay: 5_000 }, 'ado-timeout': 10_800_000 },
      'sign-config': { signers: [{ name: 'signify-prod', config: { timeout: 300_000, 'retry-timeout': 10_000 } }, { name: 'repo-notary' }] },
    });
    expect(config).not.toHaveProperty('tag-template');
  });
});

describe('YAML problems name the file, line and column', () => {
  it.each<[string, string, string]>([
    ['an unclosed flow sequence', 'registry: [a, b\nreproducible: true\n', '/config/c.yaml:2:1: YAML syntax error: '],
    ['a duplicate key', 'registry: a\nregistry: b\n', '/config/c.yaml:2:1: duplicate key "registry"; keep one'],
    ['a duplicate nested key', 'cache:\n  enabled: true\n  enabled: false\n', '/config/c.yaml:3:3: duplicate key "enabled"; keep one'],
    ['a tab as indentation', 'cache:\n\tenabled: true\n', '/config/c.yaml:2:1: YAML syntax error: '],
    ['an unclosed quote', 'registry: "abc\n', '/config/c.yaml:2:1: YAML syntax error: Missing closing "quote'],
    ['two documents', 'registry: a\n---\nregistry: b\n', '/config/c.yaml:2:1: YAML syntax error: holds more than one YAML document; keep one'],
  ])('%s', (_, text, start) => {
    const [first] = problemsOf(text, '/config/c.yaml');
    expect(first?.startsWith(start), first).toBe(true);
  });

  it.each<[string, string, string]>([
    ['a list', '- registry: a\n', 'list'],
    ['a string', 'just text\n', 'string'],
    ['a number', '42\n', 'number'],
  ])('refuses %s at the top level', (_, text, kind) => {
    expect(problemsOf(text)).toEqual([`config.yaml: expected a mapping of settings (key: value) at the top level, got ${kind}`]);
  });

  it('keys named after Object\'s own properties are ordinary unknown keys', () => {
    const { warnings } = parseConfig('registry: r.io/x\nconstructor: 1\ntoString: a\n__proto__: {a: 1}\nhasOwnProperty: 2\ncache: {valueOf: 1}\n', 'c.yaml');
    expect(warnings).toEqual([
      'c.yaml: unknown key "constructor"; ignored',
      'c.yaml: unknown key "toString"; ignored',
      'c.yaml: unknown key "__proto__"; ignored',
      'c.yaml: unknown key "hasOwnProperty"; ignored',
      'c.yaml: cache: unknown key "valueOf"; ignored',
    ]);
  });

  it('refuses a config larger than a config can be, before parsing it', () => {
    expect(problemsOf(`registry: r.io/x\n# ${'x'.repeat(300 * 1024)}\n`, 'c.yaml')).toEqual([
      expect.stringMatching(/^c\.yaml: \d+ bytes is too large for a config\.yaml \(at most 262144\)/),
    ]);
  });

  it('refuses more keys than a config has, quickly, and says how many warnings it did not print', () => {
    const many = Array.from({ length: 12_000 }, (_, i) => `k${i}: 1`).join('\n');
    expect(problemsOf(`registry: r.io/x\n${many}\n`, 'c.yaml')).toEqual(['c.yaml: more than 10000 keys; a config.yaml has a few dozen']);
    const some = Array.from({ length: 25 }, (_, i) => `k${i}: 1`).join('\n');
    const { warnings } = parseConfig(`registry: r.io/x\n${some}\n`, 'c.yaml');
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toBe('c.yaml: 5 more unknown keys; ignored');
  });

  it('names the file it was given', () => {
    expect(problemsOf('reproducible: 1', '/config/image-builder-config.yaml')).toEqual([
      '/config/image-builder-config.yaml: reproducible: expected a boolean (true or false), got number',
    ]);
  });
});

describe('unknown keys are warnings naming the closest known key', () => {
  it.each<[string, string, string[]]>([
    ['a top-level typo', 'registy: r.example/x', ['config.yaml: unknown key "registy" (did you mean "registry"?); ignored']],
    ['an underscore spelling', 'tag_template: x', ['config.yaml: unknown key "tag_template" (did you mean "tag-template"?); ignored']],
    ['a key from a newer release', 'provenance: true', ['config.yaml: unknown key "provenance"; ignored']],
    ['a nested typo', 'cache: {enabled: false, cache_repo: x}', ['config.yaml: cache: unknown key "cache_repo" (did you mean "cache-repo"?); ignored']],
    ['a typo in a tag object', 'default-pr-tag: {value: x, validaton: "^x$"}', ['config.yaml: default-pr-tag: unknown key "validaton" (did you mean "validation"?); ignored']],
    ['a typo in the tag-template object', 'tag-template: {value: x, nmae: y}', ['config.yaml: tag-template: unknown key "nmae" (did you mean "name"?); ignored']],
    [
      'a typo in ado-retry-strategy',
      'ado-config: {ado-organization-url: "https://x", ado-project-name: p, ado-pipeline-id: 1, ado-retry-strategy: {attempt: 2}}',
      ['config.yaml: ado-config.ado-retry-strategy: unknown key "attempt" (did you mean "attempts"?); ignored'],
    ],
    [
      'a typo in a notary config',
      'sign-config: {signers: [{name: a, type: notary, config: {endpoint: "https://x", timout: 1m, secret: {path: /s, type: token}}}]}',
      ['config.yaml: sign-config.signers[0].config: unknown key "timout" (did you mean "timeout"?); ignored'],
    ],
    [
      'a notary key in a cosign config',
      'sign-config: {signers: [{name: a, type: cosign, jobtype: [presubmit], config: {key: k, endpoint: "https://x"}}]}',
      [
        'config.yaml: sign-config.signers[0]: unknown key "jobtype" (did you mean "job-type"?); ignored',
        'config.yaml: sign-config.signers[0].config: unknown key "endpoint"; ignored',
      ],
    ],
    [
      'nothing inside free-form maps',
      'sign-config:\n  enabled-signers: {"*": [a], some-org/some-repo: [a]}\n  signers: [{name: a, type: cosign, config: {key: k, annotations: {anything: goes}}}]',
      [],
    ],
  ])('%s', (_, text, warnings) => {
    expect(parseConfig(text, 'config.yaml').warnings).toEqual(warnings);
  });

  it('lists unknown keys with the errors, since a misspelt key often explains a missing one', () => {
    expect(problemsOf('ado-config: {ado-organization-url: "https://x", ado-project: p, ado-pipeline-id: 1}')).toEqual([
      'config.yaml: ado-config.ado-project-name: missing: expected a string',
      'config.yaml: ado-config: unknown key "ado-project" (did you mean "ado-project-name"?); ignored',
    ]);
  });

  it.each<[string, string[], string | undefined]>([
    ['registy', ['registry', 'reproducible'], 'registry'],
    ['Registry', ['registry'], 'registry'],
    ['tag', ['key', 'name'], undefined],
    ['xyz', ['registry'], undefined],
    ['ado-pipeline', ['ado-pipeline-id', 'ado-pipeline-version'], 'ado-pipeline-id'],
    ['nmae', ['name', 'value'], 'name'],
    ['cache', ['cache-repo', 'enabled'], 'cache-repo'],
  ])('closestKey(%j) → %j', (key, known, expected) => {
    expect(closestKey(key, known)).toBe(expected);
  });
});
