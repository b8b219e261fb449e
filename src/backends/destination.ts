import { InputError } from '../errors.js';

/** An OCI layout directory or archive file on disk (SPEC 6, beyond). */
export interface DiskDestination {
  transport: 'oci' | 'oci-archive';
  /** Absolute path of the layout directory or the archive file. */
  path: string;
  /** Stored as the org.opencontainers.image.ref.name annotation. */
  tag?: string;
}

/** `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]`: buildah's own spelling of these transports. */
export function isDiskDestination(destination: string): boolean {
  return destination.startsWith('oci:') || destination.startsWith('oci-archive:');
}

/** Throws InputError unless the destination is `oci:/abs/dir[:tag]` or `oci-archive:/abs/file[:tag]`. */
export function parseDiskDestination(destination: string): DiskDestination {
  const match = /^(oci|oci-archive):(\/[^:]*)(?::([\w][\w.-]{0,127}))?$/.exec(destination);
  if (!match) {
    throw new InputError(
      `destination "${destination}" is not a valid disk destination: write oci:/absolute/dir[:tag] or ` +
        'oci-archive:/absolute/file.tar[:tag] (the path may not contain ":")',
    );
  }
  const [, transport, file, tag] = match;
  return { transport: transport as DiskDestination['transport'], path: file ?? '', ...(tag ? { tag } : {}) };
}

/** The registry host of a reference, Docker's rule: the first component if it has `.` or `:` or is `localhost`. */
export function registryHost(reference: string): string {
  const slash = reference.indexOf('/');
  const first = slash < 0 ? '' : reference.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

export { isLoopbackHost } from '../reference.js';
