import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUILTIN_SECCOMP_PROFILE } from './default-profile.ts';
import { resolveSeccomp, type OciSeccomp } from './resolve.ts';
import { nativeSeccompArch } from './arch.ts';
import { parseDockerProfile } from './parse-profile.ts';

/**
 * Facts derived straight from moby's default.json by scripts/seccomp-facts.mjs (which shares no
 * code with berth); see the file's derivedFrom/howToRegenerate fields.
 */
interface FactCase {
  arch: string; capabilities: string[]; kernel: string; architectures: string[];
  allowedCount: number; allowed: string[];
  argumentFiltered: Array<{ names: string[]; action: string; args: unknown[] }>;
  otherActions: Array<{ names: string[]; action: string; errnoRet?: number }>;
}
const facts = JSON.parse(readFileSync(new URL('./testdata/moby-default-facts.json', import.meta.url), 'utf8')) as {
  defaultAction: string; defaultErrnoRet: number; cases: Record<string, FactCase>;
};
const DEFAULT_CAPS = facts.cases['amd64-default']!.capabilities;

function summarize(filter: OciSeccomp) {
  const unconditional = filter.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names);
  return {
    architectures: filter.architectures,
    allowedCount: new Set(unconditional).size,
    allowed: [...new Set(unconditional)].sort(),
    argumentFiltered: filter.syscalls.filter((r) => r.args?.length).map((r) => ({ names: r.names, action: r.action, args: r.args })),
    otherActions: filter.syscalls.filter((r) => r.action !== 'SCMP_ACT_ALLOW').map((r) => ({ names: r.names, action: r.action, errnoRet: r.errnoRet })),
  };
}

const allowedNames = (f: OciSeccomp) => new Set(f.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names));

for (const [name, fact] of Object.entries(facts.cases)) {
  test(`builtin profile resolves as moby's default.json does: ${name}`, () => {
    const filter = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: fact.arch, capabilities: fact.capabilities, kernel: fact.kernel });
    assert.equal(filter.defaultAction, facts.defaultAction);
    assert.equal(filter.defaultErrnoRet, facts.defaultErrnoRet);
    const { arch: _a, capabilities: _c, kernel: _k, ...expected } = fact;
    assert.deepEqual(summarize(filter), expected);
  });
}

test('default capabilities: no unshare, mount, setns, bpf, keyctl or perf_event_open; clone only without namespace flags; clone3 is ENOSYS', () => {
  const filter = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '6.1' });
  const allowed = allowedNames(filter);
  for (const denied of ['unshare', 'mount', 'setns', 'bpf', 'keyctl', 'perf_event_open', 'clone', 'clone3', 'userfaultfd']) {
    assert.ok(!allowed.has(denied), `${denied} must not be allowed unconditionally`);
  }
  const clone = filter.syscalls.filter((r) => r.names.includes('clone'));
  assert.deepEqual(clone, [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  assert.deepEqual(filter.syscalls.filter((r) => r.names.includes('clone3')), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
});

test('CAP_SYS_ADMIN allows unshare, mount, setns and clone/clone3 without conditions', () => {
  const filter = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: [...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], kernel: '6.1' });
  const allowed = allowedNames(filter);
  for (const name of ['unshare', 'mount', 'setns', 'clone', 'clone3', 'bpf']) assert.ok(allowed.has(name), name);
  assert.ok(!filter.syscalls.some((r) => r.names.includes('clone') && r.args), 'no argument-filtered clone rule is left');
  assert.ok(!filter.syscalls.some((r) => r.action === 'SCMP_ACT_ERRNO'), 'clone3 is no longer ENOSYS');
});

test('a capability rule needs every listed cap; a dropped default cap drops its syscalls', () => {
  const without = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT'), kernel: '6.1' });
  assert.ok(!allowedNames(without).has('chroot'));
  const ptrace = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: [...DEFAULT_CAPS, 'CAP_SYS_PTRACE'], kernel: '4.4' });
  assert.ok(allowedNames(ptrace).has('kcmp') && allowedNames(ptrace).has('ptrace'));
});

test('arch conditions: arch_prctl only on x86, arm calls only on arm, s390 clone filters argument 1', () => {
  const amd64 = allowedNames(resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '6.1' }));
  const arm64 = allowedNames(resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'arm64', capabilities: DEFAULT_CAPS, kernel: '6.1' }));
  assert.ok(amd64.has('arch_prctl') && amd64.has('modify_ldt') && !amd64.has('set_tls'));
  assert.ok(arm64.has('set_tls') && arm64.has('cacheflush') && !arm64.has('arch_prctl'));
  const s390x = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 's390x', capabilities: DEFAULT_CAPS, kernel: '6.1' });
  assert.deepEqual(s390x.syscalls.filter((r) => r.names.includes('clone')).map((r) => r.args?.[0]?.index), [1]);
});

test('an architecture seccomp has no name for gets no archMap entry (the runtime then uses the native one)', () => {
  const filter = resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: undefined, capabilities: DEFAULT_CAPS, kernel: '6.1' });
  assert.deepEqual(filter.architectures, []);
  assert.ok(!allowedNames(filter).has('arch_prctl'));
});

test('minKernel: ptrace needs 4.8; the release suffix is ignored', () => {
  const old = allowedNames(resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '4.7.10-gentoo' }));
  const edge = allowedNames(resolveSeccomp(BUILTIN_SECCOMP_PROFILE, { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '4.8-1-amd64' }));
  assert.ok(!old.has('ptrace') && edge.has('ptrace'));
});

test('a Docker-format custom profile with excludes/includes resolves the same way', () => {
  const profile = parseDockerProfile({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_KILL', includes: { arches: ['arm64'] } },
    ],
  });
  assert.deepEqual(resolveSeccomp(profile, { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '6.1' }), {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { names: ['mount'], action: 'SCMP_ACT_ERRNO' }],
  });
});

test('node arch names map to libseccomp native names', () => {
  assert.equal(nativeSeccompArch('x64'), 'amd64');
  assert.equal(nativeSeccompArch('arm64'), 'arm64');
  assert.equal(nativeSeccompArch('ppc64', 'LE'), 'ppc64le');
  assert.equal(nativeSeccompArch('sparc'), undefined);
});
