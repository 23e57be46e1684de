import { BUILTIN_SECCOMP_PROFILE } from './default-profile.ts';
import { parseDockerProfile } from './parse-profile.ts';
import { resolveSeccomp, type OciSeccomp } from './resolve.ts';
import { nativeSeccompArch } from './arch.ts';

/** Which seccomp filter a container gets. A custom profile is a parsed Docker-format profile JSON. */
export type SeccompChoice = { kind: 'builtin' } | { kind: 'unconfined' } | { kind: 'custom'; profile: unknown };

/** The spec's `linux.seccomp` for a container with this bounding set on this host; undefined = unconfined. */
export function specSeccomp(choice: SeccompChoice, bounding: readonly string[], kernel?: string): OciSeccomp | undefined {
  if (choice.kind === 'unconfined') return undefined;
  const profile = choice.kind === 'builtin' ? BUILTIN_SECCOMP_PROFILE : parseDockerProfile(choice.profile);
  return resolveSeccomp(profile, { arch: nativeSeccompArch(), capabilities: bounding, ...(kernel ? { kernel } : {}) });
}
