import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, type SpecInput } from './spec.ts';

const input: SpecInput = {
  rootfs: '/r', args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], hostname: 'h',
  network: 'none', binds: [{ source: '/host', destination: '/data', readOnly: true }],
  etcFiles: { hosts: '/e/hosts', hostname: '/e/hostname', resolvConf: '/e/resolv.conf' }, nofileLimit: 20000,
};

type Spec = { process: { rlimits: Array<{ hard: number }> }; mounts: Array<{ destination: string; options: string[] }>; linux: { namespaces: Array<{ type: string }>; cgroupsPath?: string } };

test('network none gets its own network namespace; host shares the host one', () => {
  const none = buildSpec(input) as unknown as Spec;
  assert.ok(none.linux.namespaces.some((n) => n.type === 'network'));
  const host = buildSpec({ ...input, network: 'host' }) as unknown as Spec;
  assert.ok(!host.linux.namespaces.some((n) => n.type === 'network'));
});

test('the NOFILE limit is what the caller allows, never a fixed larger value', () => {
  const spec = buildSpec(input) as unknown as Spec;
  assert.equal(spec.process.rlimits[0]!.hard, 20000);
});

test('binds are mounted read-only when asked; etc files are bind-mounted; cgroups only when given', () => {
  const spec = buildSpec(input) as unknown as Spec;
  const data = spec.mounts.find((m) => m.destination === '/data');
  assert.ok(data?.options.includes('ro'));
  assert.ok(spec.mounts.some((m) => m.destination === '/etc/hosts'));
  assert.equal(spec.linux.cgroupsPath, undefined);
  assert.equal((buildSpec({ ...input, cgroupsPath: '/berth/x' }) as unknown as Spec).linux.cgroupsPath, '/berth/x');
});

type SecuritySpec = { process: { noNewPrivileges: boolean; capabilities: { bounding: string[] } }; linux: { seccomp?: { defaultAction: string; defaultErrnoRet?: number; architectures: string[]; syscalls: Array<{ names: string[]; action: string; args?: unknown[] }> } } };

test('seccomp: Docker\'s default profile unless unconfined; resolved against the spec\'s own bounding set', () => {
  const spec = buildSpec(input) as unknown as SecuritySpec;
  assert.equal(spec.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(spec.linux.seccomp?.defaultErrnoRet, 1);
  if (process.arch === 'x64') assert.deepEqual(spec.linux.seccomp?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const unconditional = new Set(spec.linux.seccomp!.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  assert.equal(spec.process.capabilities.bounding.includes('CAP_SYS_CHROOT'), unconditional.has('chroot'));
  assert.equal(spec.process.capabilities.bounding.includes('CAP_SYS_ADMIN'), unconditional.has('unshare'));
  const unconfined = buildSpec({ ...input, seccomp: { kind: 'unconfined' } }) as unknown as SecuritySpec;
  assert.equal(unconfined.linux.seccomp, undefined);
});

test('seccomp: a custom Docker-format profile is resolved; no-new-privileges sets the process flag', () => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  const spec = buildSpec({ ...input, seccomp: { kind: 'custom', profile }, noNewPrivileges: true }) as unknown as SecuritySpec;
  assert.deepEqual(spec.linux.seccomp?.syscalls, [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }]);
  assert.equal(spec.process.noNewPrivileges, true);
  assert.equal((buildSpec(input) as unknown as SecuritySpec).process.noNewPrivileges, false);
});
