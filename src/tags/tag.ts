/** A rendered tag: name is how scripts find it, value is the OCI tag. */
export interface Tag {
  name: string;
  value: string;
  /** Where the tag comes from: --tag/--tag-base64, config's additional-pr-tag, or the default tag. */
  origin?: TagOrigin;
  /** Set on a user tag the ADO pipeline renders (its value here is the template as written). */
  renderedBy?: 'pipeline';
}

export type TagOrigin = 'user' | 'additional-pr' | 'default';

/** A tag before rendering: value is a template; validation an optional regular expression. */
export interface TagTemplate {
  name: string;
  value: string;
  validation?: string;
}
