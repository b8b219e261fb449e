import type { BuildReport } from '../../output/report.js';

export type { BuildReport } from '../../output/report.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The parsed JSON of a report block, or undefined when it is not an object; reads the legacy image_spec too. */
export function normalizeReport(raw: unknown): BuildReport | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const spec = (r.image_spec !== null && typeof r.image_spec === 'object' ? r.image_spec : {}) as Record<string, unknown>;
  const name = str(r.image_name) || str(spec.image_name);
  const repositoryPath = str(r.repository_path) || str(spec.repository_path);
  const tags = strings(r.tags).length > 0 ? strings(r.tags) : strings(spec.tags);
  let images = strings(r.images_list);
  // The pipeline's first report format named the image only by its parts.
  if (images.length === 0 && name !== '') images = tags.map((t) => `${repositoryPath}${name}:${t}`);
  return {
    status: str(r.status),
    pushed: r.pushed === true,
    signed: r.signed === true,
    image_name: name,
    images_list: images,
    digest: str(r.digest),
    tags,
    repository_path: repositoryPath,
    architectures: strings(r.architectures),
  };
}
