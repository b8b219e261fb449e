import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { sha256 } from '../support/digest.js';
import { scanContext, type ContextEntry, type ContextScan, type SkippedEntry } from './context.js';
import { INPUTS_FORMAT_VERSION, inputsDigest, type BaseImage } from './digest.js';
import { analyseDockerfile, type BuildSettings } from './dockerfile.js';
import { defaultIgnoreCandidates, loadIgnoreRules } from './ignore.js';
import { Snapshot, type SnapshotPaths } from './snapshot.js';

export type { BaseImage, BuildSettings, ContextEntry, SkippedEntry, SnapshotPaths };
export { canonicalLines, INPUTS_FORMAT_VERSION } from './digest.js';
export { hostPlatform } from './platform.js';

/** One build unit's inputs, as the plan knows them. */
export interface InputsUnit extends BuildSettings {
  /** The build context directory. */
  contextDir: string;
  /** The Dockerfile: absolute, or relative to the context. */
  dockerfilePath: string;
  /** Ignore files to try in order, absolute or relative to the context; default Docker's (see defaultIgnoreCandidates). */
  ignoreFiles?: readonly string[];
}

/** Where the inputs are read from: the context, the Dockerfile, the ignore files the builder reads. */
export type InputsSource = Pick<InputsUnit, 'contextDir' | 'dockerfilePath' | 'ignoreFiles'>;

/** What was read from disk: the Dockerfile and the context, once, whatever the build args. */
export interface InputsScan {
  dockerfile: { sha256: string; text: string };
  /** The ignore file applied, relative to the context (forward slashes); undefined when none. */
  ignoreFile?: string;
  context: ContextScan;
  /** With ScanOptions.snapshotDir: where the copy of exactly what was hashed is, for the builder to read. */
  snapshot?: SnapshotPaths;
}

export interface ScanOptions {
  /**
   * An existing, empty, private (0700) directory the caller made and will remove: the walk copies every entry it sends
   * to `<snapshotDir>/context/` as it hashes it, and the Dockerfile to `<snapshotDir>/dockerfile/`. Without it nothing
   * is written (--dry-run).
   */
  snapshotDir?: string;
}

export interface InputsOptions {
  /** Base image name (as in Inputs.baseImages) → the digest it resolves to in its registry. */
  baseImageDigests?: Readonly<Record<string, string>>;
  /** Also return every context entry with its hash (for --debug). */
  entries?: boolean;
}

/** Plain data: the dry-run prints it, the build report and the reuse lookup use `digest`. */
export interface Inputs {
  version: typeof INPUTS_FORMAT_VERSION;
  /** `sha256:<hex>` of the canonical description (digest.ts). */
  digest: string;
  /** Context entries that are not directories (regular files, symlinks, fifos, devices). */
  files: number;
  directories: number;
  /** Bytes of the regular files, a hard-linked file once. */
  bytes: number;
  /** `sha256:<hex>` of the Dockerfile's bytes. */
  dockerfile: string;
  /** Declared ARGs and their effective values (see DockerfileInputs.buildArgs). */
  buildArgs: Record<string, string | null>;
  target?: string;
  /** Sorted. */
  platforms: string[];
  baseImages: BaseImage[];
  /** The user's --label and --annotation values; present when given. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The build secrets' ids (--secret), sorted; present when given. */
  secrets?: string[];
  /** Every base image has a digest. Until then the digest is not the one a build would have: never look it up. */
  resolved: boolean;
  /** False when the build fetches something the digest cannot cover (ADD of a URL or a git repository): never reuse, always build. */
  reusable: boolean;
  /** Why not reusable, in one line; only when not. */
  reason?: string;
  ignoreFile?: string;
  /** Present when something in the context is not sent (sockets). */
  skipped?: SkippedEntry[];
  entries?: ContextEntry[];
}

/** Reads the Dockerfile and the context: the only part that touches the disk (and, with snapshotDir, writes it). */
export async function scanInputs(unit: Pick<InputsUnit, 'contextDir' | 'dockerfilePath' | 'ignoreFiles'>, options: ScanOptions = {}): Promise<InputsScan> {
  const contextDir = path.resolve(unit.contextDir);
  const dockerfilePath = path.resolve(contextDir, unit.dockerfilePath);
  const isDir = await stat(contextDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new InputError(`the build context ${contextDir} is not a directory: check --context`);
  const bytes = await readFile(dockerfilePath).catch((err: unknown) => {
    throw new InputError(`cannot read the Dockerfile ${dockerfilePath} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check --dockerfile`);
  });
  const candidates = (unit.ignoreFiles ?? defaultIgnoreCandidates(contextDir, dockerfilePath)).map((file) => path.resolve(contextDir, file));
  const rules = await loadIgnoreRules(candidates);
  const snapshot = options.snapshotDir === undefined ? undefined : Snapshot.create(options.snapshotDir);
  const context = await scanContext(contextDir, rules, snapshot);
  return {
    dockerfile: { sha256: sha256(bytes), text: bytes.toString('utf8') },
    ignoreFile: rules.file === undefined ? undefined : path.relative(contextDir, rules.file).split(path.sep).join('/'),
    context,
    ...(snapshot ? { snapshot: snapshot.paths(snapshot.writeDockerfile(path.basename(dockerfilePath), bytes)) } : {}),
  };
}

/** The inputs of one build unit from a scan: pure, so variants sharing a context share one scan. */
export function inputsOf(scan: InputsScan, settings: BuildSettings, options: InputsOptions = {}): Inputs {
  const { buildArgs, baseImages: names, notReusable } = analyseDockerfile(scan.dockerfile.text, settings);
  const baseImages = names.map((name): BaseImage => {
    const digest = pinnedDigest(name) ?? given(options.baseImageDigests, name);
    return digest === undefined ? { name } : { name, digest };
  });
  const platforms = [...settings.platforms].sort();
  const target = settings.target || undefined; // --target= is no target (SPEC 2)
  const labels = nonEmpty(settings.labels);
  const annotations = nonEmpty(settings.annotations);
  const secrets = settings.secrets && settings.secrets.length > 0 ? [...settings.secrets].sort() : undefined;
  const { entries, skipped } = scan.context;
  const digest = inputsDigest({ dockerfile: scan.dockerfile.sha256, target, platforms, buildArgs, labels, annotations, secrets, baseImages, entries });
  const files = entries.filter((e) => e.type !== 'dir');
  return {
    version: INPUTS_FORMAT_VERSION,
    digest,
    files: files.length,
    directories: entries.length - files.length,
    bytes: files.reduce((sum, e) => sum + (e.hardlink === undefined ? (e.size ?? 0) : 0), 0),
    dockerfile: scan.dockerfile.sha256,
    buildArgs,
    ...(target !== undefined ? { target } : {}),
    platforms,
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...(secrets ? { secrets } : {}),
    baseImages,
    resolved: baseImages.every((b) => b.digest !== undefined),
    reusable: notReusable === undefined,
    ...(notReusable !== undefined ? { reason: notReusable } : {}),
    ...(scan.ignoreFile !== undefined ? { ignoreFile: scan.ignoreFile } : {}),
    ...(skipped.length > 0 ? { skipped } : {}),
    ...(options.entries ? { entries } : {}),
  };
}

/** scanInputs, then inputsOf. */
export async function computeInputs(unit: InputsUnit, options: InputsOptions = {}): Promise<Inputs> {
  return inputsOf(await scanInputs(unit), unit, options);
}

/** A copy with own keys only, sorted; undefined when there are none. */
function nonEmpty(record: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  const keys = Object.keys(record ?? {}).sort();
  return keys.length === 0 ? undefined : Object.fromEntries(keys.map((key) => [key, (record as Record<string, string>)[key] as string]));
}

/** `name@sha256:…` names its own digest. */
function pinnedDigest(name: string): string | undefined {
  return /@(sha256:[a-f0-9]{64})$/.exec(name)?.[1];
}

function given(digests: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (!digests || !Object.hasOwn(digests, name)) return undefined;
  const digest = digests[name] as string;
  if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new Error(`not a digest for base image ${name}: ${JSON.stringify(digest)}`);
  return digest;
}
