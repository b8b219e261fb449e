import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildSecret } from '../build-secrets.js';
import type { Env } from '../ci/gitstate.js';
import type { BuildLog, ProcessOutcome } from './process.js';
import { SCRATCH_PLACEHOLDER } from './scratch.js';

/** A build secret as a builder reads it: from a file; `env` names the variable first written to that file. */
export interface SecretMount {
  id: string;
  file: string;
  env?: string;
}

/**
 * Where the builder reads each secret: a file secret from its own file, an environment secret from a file of its own in
 * the private scratch folder (the dry-run shows the placeholder of that folder).
 */
export function secretMounts(secrets: readonly BuildSecret[], scratch: string | undefined): SecretMount[] {
  return secrets.map((secret, i) =>
    'src' in secret ? { id: secret.id, file: secret.src } : { id: secret.id, file: path.join(scratch ?? SCRATCH_PLACEHOLDER, `secret-${i + 1}`), env: secret.env },
  );
}

/**
 * Runs the builder with each environment secret written to its file (0600, in the 0700 scratch folder) and removes
 * those files as soon as it is done. A secret that cannot be written fails the build, with a line in its log.
 */
export async function withSecretFiles(
  mounts: readonly SecretMount[],
  scratch: { dir?: string; problem?: string },
  env: Env,
  log: Pick<BuildLog, 'line'>,
  build: () => Promise<ProcessOutcome>,
): Promise<ProcessOutcome> {
  const written: string[] = [];
  try {
    for (const mount of mounts) {
      if (mount.env === undefined) continue;
      if (scratch.dir === undefined) throw new Error(scratch.problem ?? 'no private folder');
      // 'wx': never through a file or link that was there first.
      await writeFile(mount.file, env[mount.env] ?? '', { mode: 0o600, flag: 'wx' });
      written.push(mount.file);
    }
  } catch (err) {
    await removeAll(written);
    const mount = mounts.find((m) => m.env !== undefined && !written.includes(m.file));
    const error = `the build secret ${mount?.id} (from ${mount?.env}) could not be written for the builder: ${err instanceof Error ? err.message : String(err)}`;
    log.line(`image-builder: ${error}`);
    return { stopped: false, error };
  }
  try {
    return await build();
  } finally {
    await removeAll(written);
  }
}

async function removeAll(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((file) => unlink(file).catch(() => undefined)));
}
