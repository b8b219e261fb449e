
interface FlagSpec {
  type: 'string' | 'boolean' | 'list';
  /** The Options field the flag fills. */
  key: string;
  default?: string | boolean;
  describe: string;
  /** A list flag whose values may also be comma-separated. */
  commas?: boolean;
  /** Its value is never echoed back. */
  secret?: boolean;
  /** An empty value is an error (as in Go), not "not given". */
  nonEmpty?: boolean;
  /** A boolean that sets its key to the opposite of its value (--no-reuse is --reuse=false). */
  negates?: boolean;
}

/** The whole command line, declared once: parsing, --help and the Options type all derive from this table. */
export const FLAGS = {
  config: { type: 'string', key: 'config', default: '/config/image-builder-config.yaml', nonEmpty: true, describe: 'path of config.yaml' },
  name: { type: 'string', key: 'name', nonEmpty: true, describe: 'image name, may contain "/" (e.g. test-infra/ginkgo); required to build' },
  context: { type: 'string', key: 'context', default: '.', nonEmpty: true, describe: 'build context directory' },
  dockerfile: { type: 'string', key: 'dockerfile', default: 'Dockerfile', nonEmpty: true, describe: 'Dockerfile path relative to the context' },
  tag: { type: 'list', key: 'tags', describe: 'extra tag, name=value or value; the value may be a template (repeatable)' },
  'tag-base64': { type: 'string', key: 'tagBase64', describe: 'base64 of comma-separated name=value tags' },
  'build-arg': { type: 'list', key: 'buildArgs', describe: 'NAME=VALUE passed to the Dockerfile (repeatable)' },
  label: { type: 'list', key: 'labels', describe: 'KEY=VALUE label on the image config; wins over the origin labels (repeatable)' },
  annotation: { type: 'list', key: 'annotations', describe: 'KEY=VALUE annotation on the image manifest and index; wins over the origin annotations (repeatable)' },
  platform: { type: 'list', key: 'platforms', commas: true, describe: 'target platform, e.g. linux/amd64,linux/arm64 (repeatable)' },
  target: { type: 'string', key: 'target', describe: 'Dockerfile stage to build' },
  'export-tags': { type: 'boolean', key: 'exportTags', default: false, describe: 'also pass every tag as build arg TAG_<name>=<value>' },
  variant: { type: 'string', key: 'variant', describe: 'build only this variant of variants.yaml' },
  'env-file': { type: 'string', key: 'envFile', describe: 'deprecated: KEY=VALUE file relative to the Dockerfile folder; its entries are build args and environment for tag templates' },
  'log-dir': { type: 'string', key: 'logDir', default: '/logs/artifacts', describe: 'folder for per-build log files' },
  silent: { type: 'boolean', key: 'silent', default: false, describe: 'do not stream builder output to the terminal' },
  repo: { type: 'string', key: 'repo', describe: 'org/repo, used outside CI to pick repository signers' },
  // --help names the backends (cli.ts asks their registry): options.ts is imported by the backends, never the reverse.
  backend: { type: 'string', key: 'backend', describe: 'build backend' },
  secret: { type: 'list', key: 'secrets', describe: 'build secret for RUN --mount=type=secret: id=ID,src=PATH or id=ID,env=VARIABLE (docker buildx syntax; buildah, buildkit); never in the image, logs or inputs digest (repeatable)' },
  'build-in-ado': { type: 'boolean', key: 'buildInAdo', default: false, describe: 'build in the Azure DevOps pipeline (same as --backend ado)' },
  'ado-preview-run': { type: 'boolean', key: 'adoPreviewRun', default: false, describe: 'validate the ADO pipeline YAML and print the final YAML; builds nothing' },
  'ado-preview-run-yaml-path': { type: 'string', key: 'adoPreviewRunYamlPath', describe: 'pipeline YAML sent as override in a preview run' },
  'test-kaniko-build-config': { type: 'boolean', key: 'testKanikoBuildConfig', default: false, describe: 'ADO parameter UseKanikoConfigFromPR=true (sent only when given)' },
  'use-go-internal-sap-modules': { type: 'boolean', key: 'useGoInternalSapModules', default: false, describe: 'ADO parameter UseGoInternalSAPModules=true (sent only when true)' },
  'use-restricted-registry': { type: 'boolean', key: 'useRestrictedRegistry', default: false, describe: 'ADO parameter useRestrictedRegistry=true (sent only when true)' },
  'ado-state-output': { type: 'boolean', key: 'adoStateOutput', default: false, describe: 'after --sign-only, print the ADO signing_success output variable on stdout' },
  'parse-tags-only': { type: 'boolean', key: 'parseTagsOnly', default: false, describe: 'print the computed tags as JSON on stdout; builds nothing' },
  'sign-only': { type: 'boolean', key: 'signOnly', default: false, describe: 'sign the images of --images-to-sign; builds nothing' },
  'images-to-sign': { type: 'list', key: 'imagesToSign', commas: true, describe: 'image to sign in sign-only mode (repeatable)' },
  'oidc-token': { type: 'string', key: 'oidcToken', secret: true, describe: 'CI identity token forwarded to the ADO pipeline' },
  'azure-access-token': { type: 'string', key: 'azureAccessToken', secret: true, describe: 'Azure DevOps token (else env ADO_PAT)' },
  'azure-client-id': { type: 'string', key: 'azureClientId', describe: 'Azure service principal client ID' },
  'azure-client-secret': { type: 'string', key: 'azureClientSecret', secret: true, describe: 'Azure service principal secret' },
  'azure-tenant-id': { type: 'string', key: 'azureTenantId', describe: 'Azure service principal tenant ID' },
  'ado-param': { type: 'list', key: 'adoParams', describe: 'extra KEY=VALUE pipeline template parameter (repeatable)' },
  'tags-output-file': { type: 'string', key: 'tagsOutputFile', describe: 'also write the computed tags JSON to this file' },
  'build-report-path': { type: 'string', key: 'buildReportPath', describe: 'write the build report JSON to this file' },
  'commit-sha': { type: 'string', key: 'commitSha', describe: 'build this commit: overrides the SHA the CI context gives' },
  provenance: { type: 'boolean', key: 'provenance', default: true, describe: 'attach signed SLSA provenance to each pushed image (with a cosign signer); --provenance=false turns it off' },
  reuse: { type: 'boolean', key: 'reuse', describe: `reuse the image already built from the same inputs (tag inputs-<digest>) instead of building it; overrides reuse.enabled of config.yaml (default: off); not with the ado backend` },
  'no-reuse': { type: 'boolean', key: 'reuse', negates: true, describe: 'build even when config.yaml sets reuse.enabled (the same as --reuse=false)' },
  'dry-run': { type: 'boolean', key: 'dryRun', default: false, describe: 'print the whole plan as JSON; touch no network, spawn no builder' },
  debug: { type: 'boolean', key: 'debug', default: false, describe: 'verbose logs on stderr' },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;
type Spec = (typeof FLAGS)[FlagName];

type Value<S> = S extends { type: 'boolean' } ? boolean : S extends { type: 'list' } ? string[] : string;
/** A list, or a flag with a default, always has a value; any other flag may be absent (undefined: not given). */
type Always<S> = S extends { type: 'list' } | { default: string | boolean } ? true : false;
type Given = { [F in FlagName as Always<(typeof FLAGS)[F]> extends true ? (typeof FLAGS)[F]['key'] : never]: Value<(typeof FLAGS)[F]> };
type MaybeGiven = { [F in FlagName as Always<(typeof FLAGS)[F]> extends true ? never : (typeof FLAGS)[F]['key']]?: Value<(typeof FLAGS)[F]> };
type FromTable = Given & MaybeGiven;

/** Every flag of the command line, parsed but not yet interpreted. */
export type Options = FromTable;

export const flagSpec = (name: string): Spec | undefined => (Object.hasOwn(FLAGS, name) ? FLAGS[name as FlagName] : undefined);

/** The values of the flags marked secret: masked wherever they would show. */
export function secretValues(o: Options): Array<string | undefined> {
  return (Object.values(FLAGS) as Spec[]).filter((spec) => 'secret' in spec && spec.secret).map((spec) => (o as Record<string, unknown>)[spec.key] as string | undefined);
}

/** Options with every flag at its default: what an empty command line gives. */
export function defaultOptions(): Options {
  const out: Record<string, unknown> = {};
  for (const spec of Object.values(FLAGS) as Spec[]) {
    out[spec.key] = spec.type === 'list' ? [] : 'default' in spec ? spec.default : undefined;
  }
  return out as Options;
}
