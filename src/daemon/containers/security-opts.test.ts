import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSeccomp, parseSecurityOpts } from './security-opts.ts';
import { parseCreateRequest } from './create-request.ts';

const denyMkdir = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });

test('no options: the builtin profile, no no-new-privileges', () => {
  assert.deepEqual(parseSecurityOpts(null), { seccomp: { kind: 'builtin' }, noNewPrivileges: false });
});

test('seccomp=unconfined / builtin / JSON content, with = or the legacy :', () => {
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['seccomp:unconfined']).seccomp, { kind: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'seccomp=builtin']).seccomp, { kind: 'builtin' });
  assert.deepEqual(parseSecurityOpts([`seccomp=${denyMkdir}`]).seccomp, { kind: 'custom', profile: JSON.parse(denyMkdir) });
});

test('no-new-privileges, bare or with a Go boolean', () => {
  assert.equal(parseSecurityOpts(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges=true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges', 'no-new-privileges=false']).noNewPrivileges, false);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /no-new-privileges=maybe/);
});

test('everything else is refused by name', () => {
  for (const [opt, name] of [['apparmor=unconfined', 'apparmor'], ['label=disable', 'label'], ['label:disable', 'label'], ['systempaths=unconfined', 'systempaths'], ['bogus=1', 'bogus']]) {
    assert.throws(() => parseSecurityOpts([opt!]), (err: Error & { kind?: string }) => err.kind === 'InvalidArgument' && err.message.includes(`"${name}"`), opt);
  }
  assert.throws(() => parseSecurityOpts(['nonsense']), /"nonsense"/);
});

test('a seccomp path or bad profile is a 400, not a silent accept', () => {
  assert.throws(() => parseSecurityOpts(['seccomp=/nonexistent.json']), (err: Error & { kind?: string }) => err.kind === 'InvalidArgument' && /profile's JSON content/.test(err.message));
  assert.throws(() => parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_NOPE"}']), /seccomp.*defaultAction/);
});

test('privileged means unconfined', () => {
  assert.deepEqual(containerSeccomp(parseSecurityOpts([`seccomp=${denyMkdir}`]), true), { kind: 'unconfined' });
  assert.deepEqual(containerSeccomp(parseSecurityOpts([])), { kind: 'builtin' });
});

test('create keeps SecurityOpt as given and refuses bad ones', () => {
  const opts = ['no-new-privileges', `seccomp=${denyMkdir}`];
  assert.deepEqual(parseCreateRequest({ Image: 'x', HostConfig: { SecurityOpt: opts } }, {}).hostConfig.SecurityOpt, opts);
  assert.equal(parseCreateRequest({ Image: 'x' }, {}).hostConfig.SecurityOpt, null);
  assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { SecurityOpt: ['apparmor=x'] } }, {}), /apparmor/);
  assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { SecurityOpt: 'seccomp=unconfined' } }, {}), /SecurityOpt/);
});
