import { createHash } from 'node:crypto';

/** `sha256:<hex>` of the bytes: the digest OCI content is addressed by. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
