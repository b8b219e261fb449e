import { describe, expect, it } from 'vitest';
import { hostPlatform } from '../../src/inputs/platform.js';

describe('hostPlatform: the OCI platform this machine builds', () => {
  it.each<[string, string | undefined, boolean, string]>([
    ['x64', undefined, true, 'linux/amd64'],
    ['arm64', undefined, true, 'linux/arm64'],
    ['arm', '7', true, 'linux/arm/v7'],
    ['arm', '6', true, 'linux/arm/v6'],
    ['arm', undefined, true, 'linux/arm/v7'],
    ['ia32', undefined, true, 'linux/386'],
    ['ppc64', undefined, true, 'linux/ppc64le'],
    ['ppc64', undefined, false, 'linux/ppc64'],
    ['s390x', undefined, false, 'linux/s390x'],
    ['riscv64', undefined, true, 'linux/riscv64'],
    ['loong64', undefined, true, 'linux/loong64'],
    ['mips64el', undefined, true, 'linux/mips64le'],
  ])('%s (arm v%s) → %s', (arch, armVersion, littleEndian, expected) => {
    expect(hostPlatform(arch, armVersion, littleEndian)).toBe(expected);
  });

  it('this machine: linux/<its arch>, whatever the system (a builder elsewhere builds Linux images)', () => {
    expect(hostPlatform()).toMatch(/^linux\/[a-z0-9]+(\/v\d)?$/);
    if (process.arch === 'x64') expect(hostPlatform()).toBe('linux/amd64');
  });
});
