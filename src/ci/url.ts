/**
 * An http(s) URL fit to be published (labels, annotations, provenance, logs): no user or password, no query, no
 * fragment, where a CI system may put a token; undefined when the text is not an http(s) URL.
 */
export function publicUrl(text: string | undefined): string | undefined {
  if (text === undefined || !URL.canParse(text)) return undefined;
  const url = new URL(text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * The warning for a source URL that `publicUrl` cannot clean, so it is left out. It names where the URL came from and
 * never quotes it: it may hold a token.
 */
export function sourceLeftOut(where: string, example: string): string {
  return `${where} is not an http(s) URL: the source of the image (org.opencontainers.image.source, provenance) is left out; set it to e.g. ${example}`;
}

/** A URL as a message may quote it: a user and password (a token) replaced by ***, whatever else is wrong with it. */
export function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@').replace(/[?#].*$/, '');
}
