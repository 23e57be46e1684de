import {
  SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_OPERATORS, SeccompProfileError,
  type DockerSeccompProfile, type DockerSyscallRule, type SeccompArg, type SyscallCondition,
} from './docker-profile.ts';

/**
 * Checks that `raw` (a parsed JSON document) is a Docker-format seccomp profile and returns it
 * typed. Unknown fields are refused rather than ignored, so a typo never turns into a silently
 * weaker filter. The legacy per-rule `name` is accepted and turned into `names`, as moby does.
 */
export function parseDockerProfile(raw: unknown): DockerSeccompProfile {
  const doc = object(raw, 'profile');
  allowOnly(doc, ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'flags', 'syscalls'], 'profile');
  if (doc.listenerPath !== undefined) throw new SeccompProfileError('seccomp profile: listenerPath (SCMP_ACT_NOTIFY) is not supported');
  const profile: DockerSeccompProfile = {
    defaultAction: oneOf(doc.defaultAction, SECCOMP_ACTIONS, 'defaultAction'),
    syscalls: optionalArray(doc.syscalls, 'syscalls').map((r, i) => parseRule(r, `syscalls[${i}]`)),
  };
  if (doc.defaultErrnoRet !== undefined) profile.defaultErrnoRet = errno(doc.defaultErrnoRet, 'defaultErrnoRet');
  if (doc.architectures !== undefined && doc.archMap !== undefined) {
    throw new SeccompProfileError("seccomp profile: both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'");
  }
  if (doc.architectures !== undefined) {
    profile.architectures = optionalArray(doc.architectures, 'architectures').map((a, i) => oneOf(a, SECCOMP_ARCHES, `architectures[${i}]`));
  }
  if (doc.archMap !== undefined) {
    profile.archMap = optionalArray(doc.archMap, 'archMap').map((entry, i) => {
      const where = `archMap[${i}]`;
      const e = object(entry, where);
      allowOnly(e, ['architecture', 'subArchitectures'], where);
      return {
        architecture: oneOf(e.architecture, SECCOMP_ARCHES, `${where}.architecture`),
        subArchitectures: e.subArchitectures === null || e.subArchitectures === undefined
          ? null
          : optionalArray(e.subArchitectures, `${where}.subArchitectures`).map((a, j) => oneOf(a, SECCOMP_ARCHES, `${where}.subArchitectures[${j}]`)),
      };
    });
  }
  if (doc.flags !== undefined) profile.flags = optionalArray(doc.flags, 'flags').map((f, i) => oneOf(f, SECCOMP_FLAGS, `flags[${i}]`));
  return profile;
}

function parseRule(raw: unknown, where: string): DockerSyscallRule {
  const r = object(raw, where);
  allowOnly(r, ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes'], where);
  if (r.name !== undefined && r.names !== undefined) throw new SeccompProfileError(`seccomp profile: ${where}: both 'name' and 'names' are specified, use either 'name' or 'names'`);
  const names = r.name !== undefined ? [string(r.name, `${where}.name`)] : optionalArray(r.names, `${where}.names`).map((n, i) => string(n, `${where}.names[${i}]`));
  if (names.length === 0) throw new SeccompProfileError(`seccomp profile: ${where}: a rule needs at least one syscall name`);
  const rule: DockerSyscallRule = { names, action: oneOf(r.action, SECCOMP_ACTIONS, `${where}.action`) };
  if (r.errnoRet !== undefined) rule.errnoRet = errno(r.errnoRet, `${where}.errnoRet`);
  if (r.args !== undefined && r.args !== null) rule.args = optionalArray(r.args, `${where}.args`).map((a, i) => parseArg(a, `${where}.args[${i}]`));
  if (r.comment !== undefined) rule.comment = string(r.comment, `${where}.comment`);
  if (r.includes !== undefined && r.includes !== null) rule.includes = parseCondition(r.includes, `${where}.includes`);
  if (r.excludes !== undefined && r.excludes !== null) rule.excludes = parseCondition(r.excludes, `${where}.excludes`);
  return rule;
}

function parseArg(raw: unknown, where: string): SeccompArg {
  const a = object(raw, where);
  allowOnly(a, ['index', 'value', 'valueTwo', 'op'], where);
  const arg: SeccompArg = { index: uint(a.index, `${where}.index`, 5), value: uint(a.value ?? 0, `${where}.value`), op: oneOf(a.op, SECCOMP_OPERATORS, `${where}.op`) };
  if (a.valueTwo !== undefined) arg.valueTwo = uint(a.valueTwo, `${where}.valueTwo`);
  return arg;
}

function parseCondition(raw: unknown, where: string): SyscallCondition {
  const c = object(raw, where);
  allowOnly(c, ['caps', 'arches', 'minKernel'], where);
  const condition: SyscallCondition = {};
  if (c.caps !== undefined && c.caps !== null) condition.caps = optionalArray(c.caps, `${where}.caps`).map((v, i) => string(v, `${where}.caps[${i}]`));
  if (c.arches !== undefined && c.arches !== null) condition.arches = optionalArray(c.arches, `${where}.arches`).map((v, i) => string(v, `${where}.arches[${i}]`));
  if (c.minKernel !== undefined && c.minKernel !== '') {
    const v = string(c.minKernel, `${where}.minKernel`);
    const m = /^(\d+)\.(\d+)$/.exec(v);
    if (!m || (Number(m[1]) === 0 && Number(m[2]) === 0)) throw new SeccompProfileError(`seccomp profile: ${where}.minKernel: invalid kernel version "${v}", expected "<kernel>.<major>"`);
    condition.minKernel = v;
  }
  return condition;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SeccompProfileError(`seccomp profile: ${where} must be a JSON object`);
  return v as Record<string, unknown>;
}

function allowOnly(o: Record<string, unknown>, keys: string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key) && key !== 'listenerPath') throw new SeccompProfileError(`seccomp profile: ${where}: unknown field "${key}"`);
  }
}

function optionalArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SeccompProfileError(`seccomp profile: ${where} must be a list`);
  return v;
}

function string(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new SeccompProfileError(`seccomp profile: ${where} must be a non-empty string`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new SeccompProfileError(`seccomp profile: ${where}: ${v === undefined ? 'is required' : `invalid value ${JSON.stringify(v)}`} (one of ${allowed.join(', ')})`);
  }
  return v as T;
}

function uint(v: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) throw new SeccompProfileError(`seccomp profile: ${where} must be an integer from 0 to ${max}`);
  return v as number;
}

function errno(v: unknown, where: string): number {
  return uint(v, where, 4095);
}
