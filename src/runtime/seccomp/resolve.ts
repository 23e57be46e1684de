import { release } from 'node:os';
import { NATIVE_TO_SECCOMP_ARCH } from './arch.ts';
import { SeccompProfileError, type DockerSeccompProfile, type DockerSyscallRule, type SeccompAction, type SeccompArch, type SeccompArg, type SyscallCondition } from './docker-profile.ts';

/** OCI runtime-spec `linux.seccomp`. */
export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures: SeccompArch[];
  flags?: string[];
  syscalls: OciSyscall[];
}

export interface OciSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompTarget {
  /** libseccomp's native name of the container's architecture ("amd64", "arm64"...): see arch.ts. */
  arch: string | undefined;
  /** The container's final bounding capability set ("CAP_SYS_ADMIN"...). */
  capabilities: readonly string[];
  /** Host kernel release ("6.1.0-18-amd64"); this host's when omitted. */
  kernel?: string;
}

/**
 * A Docker-format profile → the filter for one container, as moby does it: the archMap entry of
 * the container's architecture gives `architectures`, and each rule is kept only when its
 * `excludes` match nothing and its `includes` all match (arch, every listed capability in the
 * bounding set, kernel at least minKernel). Rule order is kept.
 */
export function resolveSeccomp(profile: DockerSeccompProfile, target: SeccompTarget): OciSeccomp {
  const kernel = parseKernel(target.kernel ?? release());
  const architectures: SeccompArch[] = [...(profile.architectures ?? [])];
  const seccompArch = target.arch === undefined ? undefined : NATIVE_TO_SECCOMP_ARCH[target.arch];
  const mapped = profile.archMap?.find((a) => a.architecture === seccompArch);
  if (mapped) architectures.push(mapped.architecture, ...(mapped.subArchitectures ?? []));

  const syscalls = profile.syscalls
    .filter((rule) => !(rule.excludes && excluded(rule.excludes, target, kernel)) && !(rule.includes && !included(rule.includes, target, kernel)))
    .map(toOci);
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    ...(profile.flags?.length ? { flags: profile.flags } : {}),
    syscalls,
  };
}

/** Excluded when any one listed condition holds. */
function excluded(c: SyscallCondition, target: SeccompTarget, kernel: Kernel): boolean {
  if (c.arches?.length && target.arch !== undefined && c.arches.includes(target.arch)) return true;
  if (c.caps?.some((cap) => target.capabilities.includes(cap))) return true;
  if (c.minKernel && atLeast(kernel, c.minKernel)) return true;
  return false;
}

/** Included only when every listed condition holds. */
function included(c: SyscallCondition, target: SeccompTarget, kernel: Kernel): boolean {
  if (c.arches?.length && (target.arch === undefined || !c.arches.includes(target.arch))) return false;
  if (c.caps?.length && !c.caps.every((cap) => target.capabilities.includes(cap))) return false;
  if (c.minKernel && !atLeast(kernel, c.minKernel)) return false;
  return true;
}

function toOci(rule: DockerSyscallRule): OciSyscall {
  return {
    names: rule.names,
    action: rule.action,
    ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
    ...(rule.args?.length ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
  };
}

interface Kernel { kernel: number; major: number }

/** Only "<kernel>.<major>" count: 3.12.25-gentoo and 3.12-1-amd64 are both 3.12, as in moby. */
function parseKernel(releaseText: string): Kernel {
  const m = /^(\d+)\.(\d+)/.exec(releaseText);
  if (!m) throw new SeccompProfileError(`failed to parse kernel version "${releaseText}"`);
  return { kernel: Number(m[1]), major: Number(m[2]) };
}

function atLeast(k: Kernel, min: string): boolean {
  const m = parseKernel(min);
  return k.kernel > m.kernel || (k.kernel === m.kernel && k.major >= m.major);
}
