import { endianness } from 'node:os';

/** Node's process.arch → the OCI architecture (and variant) of the images this machine builds. */
const ARCHITECTURES: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
  mipsel: 'mipsle',
};

/**
 * The OCI platform a builder on this machine builds when no --platform is given. The os is always `linux`:
 * a builder on another system builds Linux images (in a VM).
 */
export function hostPlatform(arch: string = process.arch, armVersion: string | undefined = armVersionOfNode(), littleEndian = endianness() === 'LE'): string {
  if (arch === 'arm') return `linux/arm/v${armVersion === '6' || armVersion === '5' ? armVersion : '7'}`;
  if (arch === 'ppc64') return littleEndian ? 'linux/ppc64le' : 'linux/ppc64';
  return `linux/${Object.hasOwn(ARCHITECTURES, arch) ? ARCHITECTURES[arch] : arch}`;
}

/** 32-bit ARM: the version Node was built for (`arm_version` in its build configuration), as `6` or `7`. */
function armVersionOfNode(): string | undefined {
  const version = (process.config.variables as Record<string, unknown>).arm_version;
  return typeof version === 'string' || typeof version === 'number' ? String(version) : undefined;
}
