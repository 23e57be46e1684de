import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerProfile } from './parse-profile.ts';
import { BUILTIN_SECCOMP_PROFILE } from './default-profile.ts';

test('the builtin profile, as JSON, is a valid Docker-format profile', () => {
  assert.deepEqual(parseDockerProfile(JSON.parse(JSON.stringify(BUILTIN_SECCOMP_PROFILE))), BUILTIN_SECCOMP_PROFILE);
});

test('the legacy per-rule "name" becomes "names"', () => {
  const p = parseDockerProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] });
  assert.deepEqual(p.syscalls, [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }]);
});

const refused: Array<[string, unknown, RegExp]> = [
  ['not an object', [], /profile must be a JSON object/],
  ['no defaultAction', { syscalls: [] }, /defaultAction: is required/],
  ['an unknown action', { defaultAction: 'SCMP_ACT_MAYBE' }, /defaultAction: invalid value "SCMP_ACT_MAYBE"/],
  ['an unknown field (typo)', { defaultAction: 'SCMP_ACT_ALLOW', syscals: [] }, /unknown field "syscals"/],
  ['both architectures and archMap', { defaultAction: 'SCMP_ACT_ALLOW', architectures: [], archMap: [] }, /both 'architectures' and 'archMap'/],
  ['both name and names', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]: both 'name' and 'names'/],
  ['a rule with no names', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]: a rule needs at least one syscall name/],
  ['a bad operator', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }] }, /syscalls\[0\]\.args\[0\]\.op/],
  ['an argument index past 5', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.index must be an integer from 0 to 5/],
  ['a bad minKernel', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] }, /includes\.minKernel: invalid kernel version "4"/],
  ['an unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /architectures\[0\]: invalid value "SCMP_ARCH_Z80"/],
  ['a notify listener', { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x.sock' }, /listenerPath .* is not supported/],
];
for (const [what, profile, message] of refused) {
  test(`refused: ${what}`, () => {
    assert.throws(() => parseDockerProfile(profile), message);
  });
}
