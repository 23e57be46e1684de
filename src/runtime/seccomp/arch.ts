import { endianness } from 'node:os';
import type { SeccompArch } from './docker-profile.ts';

/**
 * libseccomp's native architecture names (what profiles' `arches` conditions use) and the
 * SCMP_ARCH_* each one is; `archMap` entries are looked up by the latter.
 */
export const NATIVE_TO_SECCOMP_ARCH: Record<string, SeccompArch> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  x32: 'SCMP_ARCH_X32',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  mips: 'SCMP_ARCH_MIPS',
  mipsel: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
};

/** Node's `process.arch` → libseccomp's native name; undefined for one seccomp has no name for. */
export function nativeSeccompArch(nodeArch: string = process.arch, byteOrder: 'BE' | 'LE' = endianness()): string | undefined {
  switch (nodeArch) {
    case 'x64': return 'amd64';
    case 'ia32': return 'x86';
    case 'arm64': return 'arm64';
    case 'arm': return 'arm';
    case 'ppc64': return byteOrder === 'LE' ? 'ppc64le' : 'ppc64';
    case 'ppc': return 'ppc';
    case 's390x': return 's390x';
    case 's390': return 's390';
    case 'riscv64': return 'riscv64';
    case 'loong64': return 'loong64';
    case 'mips': return 'mips';
    case 'mipsel': return 'mipsel';
    default: return undefined;
  }
}
