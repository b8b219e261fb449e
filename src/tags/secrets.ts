const SECRET_PARTS_CONTAINING = ['TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'CREDENTIAL'];
const SECRET_PARTS_EQUAL = ['PAT', 'KEY', 'APIKEY', 'AUTH'];

/** The part of an environment variable name that makes it look secret, if any. */
export function secretLookingPart(name: string): string | undefined {
  for (const part of name.toUpperCase().split('_')) {
    if (SECRET_PARTS_EQUAL.includes(part)) return part;
    const word = SECRET_PARTS_CONTAINING.find((w) => part.includes(w));
    if (word !== undefined) return word;
  }
  return undefined;
}

/** True for names like ADO_PAT, GITHUB_TOKEN or API_KEY: tags must never publish their values. */
export function isSecretLookingName(name: string): boolean {
  return secretLookingPart(name) !== undefined;
}
