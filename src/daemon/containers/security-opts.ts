import { invalidArgument } from '../../protocol/errors.ts';
import { parseDockerProfile } from '../../runtime/seccomp/parse-profile.ts';
import type { SeccompChoice } from '../../runtime/seccomp/spec-seccomp.ts';

/** What HostConfig.SecurityOpt asks for, in the terms the spec builder takes. */
export interface SecurityOptions {
  seccomp: SeccompChoice;
  noNewPrivileges: boolean;
}

/** Go's strconv.ParseBool, which Docker uses for no-new-privileges=<bool>. */
const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/**
 * Parses Docker's HostConfig.SecurityOpt: `seccomp=unconfined|builtin|<profile JSON content>`
 * (the docker CLI reads `seccomp=<file>` itself and sends the file's content), `no-new-privileges`
 * and `no-new-privileges=<bool>`; `key:value` is the legacy spelling. Anything else (apparmor=,
 * label=, systempaths=, ...) is refused by name rather than silently ignored.
 */
export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const result: SecurityOptions = { seccomp: { kind: 'builtin' }, noNewPrivileges: false };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      result.noNewPrivileges = true;
      continue;
    }
    const sep = opt.includes('=') ? '=' : ':';
    const at = opt.indexOf(sep);
    if (at < 0) throw invalidArgument(`invalid --security-opt: ${JSON.stringify(opt)}: expected "key=value"`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'seccomp':
        result.seccomp = parseSeccompValue(value);
        break;
      case 'no-new-privileges':
        if (TRUE.includes(value)) result.noNewPrivileges = true;
        else if (FALSE.includes(value)) result.noNewPrivileges = false;
        else throw invalidArgument(`invalid --security-opt no-new-privileges=${value}: the value must be true or false`);
        break;
      default:
        throw invalidArgument(`invalid --security-opt ${JSON.stringify(key)}: berth supports only seccomp= and no-new-privileges`);
    }
  }
  return result;
}

function parseSeccompValue(value: string): SeccompChoice {
  if (value === 'unconfined') return { kind: 'unconfined' };
  if (value === 'builtin') return { kind: 'builtin' };
  let profile: unknown;
  try {
    profile = JSON.parse(value);
  } catch (err) {
    throw invalidArgument(`invalid --security-opt seccomp: the value must be "unconfined", "builtin" or a profile's JSON content (clients send the file's content, not its path): ${(err as Error).message}`);
  }
  try {
    parseDockerProfile(profile);
  } catch (err) {
    throw invalidArgument(`invalid --security-opt seccomp: ${(err as Error).message}`);
  }
  return { kind: 'custom', profile };
}

/**
 * The seccomp a container runs with: what SecurityOpt asked for, except that a privileged
 * container is unconfined, as in Docker.
 */
export function containerSeccomp(options: SecurityOptions, privileged = false): SeccompChoice {
  return privileged ? { kind: 'unconfined' } : options.seccomp;
}
