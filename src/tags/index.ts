export type { Tag, TagTemplate } from './tag.js';
export type { TemplateData } from './template.js';
export type { TagSettings } from './rules.js';
export { parseTagFlag, parseTagBase64, encodeTagsBase64 } from './flags.js';
export { renderTag, computeTags, checkTagValue, tagTemplatesFor } from './rules.js';
export { isSecretLookingName } from './secrets.js';
