import type { Env, GitState } from './ci/gitstate.js';
import { publicUrl } from './ci/url.js';
import { InputError, Problems } from './errors.js';
import { dict } from './support/dict.js';
import type { Tag } from './tags/tag.js';

/** The OCI pre-defined annotation keys (image-spec annotations.md); the same keys are the image config's labels. */
export const OCI = {
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  created: 'org.opencontainers.image.created',
  version: 'org.opencontainers.image.version',
  refName: 'org.opencontainers.image.ref.name',
} as const;

/** What a build unit sets on its image: config labels, and manifest (and index) annotations. */
export interface ImageMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A label or annotation key: reverse-domain style, as the OCI spec and Docker recommend. */
const KEY = /^[A-Za-z0-9][\w.:/-]*$/;

/** --label or --annotation values, KEY=VALUE each (a later value of a key wins); every problem goes to `problems`. */
export function parseKeyValues(flag: 'label' | 'annotation', values: readonly string[], problems: Problems): Record<string, string> {
  const out = dict<string>();
  for (const raw of values) {
    const at = raw.indexOf('=');
    const key = at < 0 ? raw : raw.slice(0, at);
    if (at < 0) problems.add(`--${flag} ${JSON.stringify(raw)} is not KEY=VALUE: write --${flag}=${raw}=<value> (or --${flag}=${raw}= for an empty value)`);
    else if (key === '') problems.add(`--${flag} ${JSON.stringify(raw)} has no key: write --${flag}=<key>=<value>, e.g. --${flag}=org.opencontainers.image.title=app`);
    else if (!KEY.test(key)) {
      problems.add(`--${flag} key ${JSON.stringify(key)} is not a valid key: use letters, digits and . _ - / :, starting with a letter or digit, e.g. com.example.team`);
    } else out[key] = raw.slice(at + 1);
  }
  return out;
}

/** The build time an image states: SOURCE_DATE_EPOCH when set (reproducible builds), else now; RFC 3339 in UTC. */
export function createdTime(env: Env, now: Date): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return rfc3339(now);
  const seconds = /^\d{1,12}$/.test(epoch) ? Number(epoch) : NaN;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) {
    throw new InputError(
      `environment variable SOURCE_DATE_EPOCH=${JSON.stringify(epoch)} is not a Unix time: set it to whole seconds since 1970-01-01 UTC, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it to state the build time`,
    );
  }
  return rfc3339(date);
}

const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface OriginInput {
  gitState: GitState;
  /** The commit built: what the plan passes as COMMIT_SHA (the pull request head for a pull request). */
  revision?: string;
  created: string;
  /** The unit's tags, with their origin. */
  tags: readonly Tag[];
}

/** Where an image comes from, as OCI annotation keys; a value the CI context does not give is left out. */
export function originMetadata({ gitState, revision, created, tags }: OriginInput): Record<string, string> {
  const version = (tags.find((t) => t.origin === 'user') ?? tags.find((t) => t.origin === 'default'))?.value;
  const out: Record<string, string | undefined> = {
    // Cleaned when the CI context is read; again here, for a git state made elsewhere: a label is public.
    [OCI.source]: publicUrl(gitState.repositoryUrl),
    [OCI.revision]: revision,
    [OCI.created]: created,
    [OCI.version]: version,
    // The spec defines ref.name as the reference's name, a tag: the tag people pull this image by (the version's).
    [OCI.refName]: version,
  };
  return Object.fromEntries(Object.entries(out).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * A unit's labels and annotations. Labels: the origin, but not a key the Dockerfile's own LABEL sets (it wins; a
 * builder's --label would override it), then the user's --label. Annotations: the origin, then the user's --annotation.
 */
export function unitMetadata(origin: Record<string, string>, user: ImageMetadata, dockerfileLabels: ReadonlySet<string>): ImageMetadata {
  const kept = Object.entries(origin).filter(([key]) => !dockerfileLabels.has(key));
  return { labels: { ...Object.fromEntries(kept), ...user.labels }, annotations: { ...origin, ...user.annotations } };
}
