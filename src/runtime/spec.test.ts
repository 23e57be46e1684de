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

type ConfinedSpec = {
  root: { readonly: boolean };
  process: { capabilities: { bounding: string[]; effective: string[] } };
  mounts: Array<{ destination: string; options: string[] }>;
  linux: { maskedPaths: string[]; readonlyPaths: string[]; devices?: unknown[]; sysctl?: Record<string, string>; resources?: { devices: Array<{ allow: boolean; type?: string; major?: number; access: string }> } };
};
const optionsOf = (spec: ConfinedSpec, destination: string) => spec.mounts.find((m) => m.destination === destination)!.options;

test('read-only: the root and every mount but /proc and /dev* are read-only; binds keep their own mode', () => {
  const spec = buildSpec({ ...input, binds: [{ source: '/host', destination: '/data', readOnly: false }], readonlyRootfs: true }) as unknown as ConfinedSpec;
  assert.equal(spec.root.readonly, true);
  for (const ro of ['/sys', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname']) assert.ok(optionsOf(spec, ro).includes('ro'), ro);
  for (const rw of ['/proc', '/dev', '/dev/shm', '/dev/mqueue', '/dev/pts', '/data']) assert.ok(!optionsOf(spec, rw).includes('ro'), rw);
  assert.equal((buildSpec(input) as unknown as ConfinedSpec).root.readonly, false);
});

test('privileged: nothing masked, /sys read-write, every device allowed; otherwise the defaults plus --device rules', () => {
  const plain = buildSpec({ ...input, cgroupsPath: '/berth/x', deviceRules: [{ allow: true, type: 'c', major: 10, minor: 200, access: 'r' }] }) as unknown as ConfinedSpec;
  assert.ok(plain.linux.maskedPaths.includes('/proc/kcore'));
  assert.ok(optionsOf(plain, '/sys').includes('ro'));
  assert.deepEqual(plain.linux.resources!.devices[0], { allow: false, access: 'rwm' });
  assert.deepEqual(plain.linux.resources!.devices.at(-1), { allow: true, type: 'c', major: 10, minor: 200, access: 'r' });
  const privileged = buildSpec({ ...input, cgroupsPath: '/berth/x', privileged: true, readonlyRootfs: true, capabilities: ['CAP_SYS_ADMIN'] }) as unknown as ConfinedSpec;
  assert.deepEqual([privileged.linux.maskedPaths, privileged.linux.readonlyPaths], [[], []]);
  assert.ok(!optionsOf(privileged, '/sys').includes('ro'), 'privileged wins over read-only for /sys, as in moby');
  assert.deepEqual(privileged.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.deepEqual(privileged.process.capabilities.effective, ['CAP_SYS_ADMIN']);
});

test('devices and sysctls are passed through only when there are some', () => {
  const none = buildSpec(input) as unknown as ConfinedSpec;
  assert.equal(none.linux.devices, undefined);
  assert.equal(none.linux.sysctl, undefined);
  const some = buildSpec({ ...input, devices: [{ path: '/dev/x', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }], sysctls: { 'net.ipv4.ip_forward': '1' } }) as unknown as ConfinedSpec;
  assert.equal(some.linux.devices!.length, 1);
  assert.deepEqual(some.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
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
