/**
 * Confinement options through every client berth serves: --cap-add/--cap-drop, --privileged,
 * --read-only, --device, --group-add and --sysctl, with real containers on real runc, seen from
 * inside the container (/proc/self/status, /proc/mounts, /dev) and in `inspect`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { docker, newDaemon, waitFor, type TestDaemon } from '../integration/harness.ts';




async function ready(t: import('node:test').TestContext): Promise<TestDaemon> {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  await daemon.importBusybox();
  return daemon;
}

/** Runs `script` to completion through dockerode and returns its output. */
async function dockerodeRun(client: Docker, script: string, hostConfig: Docker.HostConfig): Promise<{ code: number; output: string; id: string }> {
  const container = await client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', script], HostConfig: hostConfig });
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
  return { code: StatusCode, output: demuxed(logs), id: container.id };
}

/** Docker's multiplexed log frames → the text they carry. */
function demuxed(frames: Buffer): string {
  let text = '';
  for (let at = 0; at + 8 <= frames.length; ) {
    const size = frames.readUInt32BE(at + 4);
    text += frames.subarray(at + 8, at + 8 + size).toString();
    at += 8 + size;
  }
  return text;
}

const capEff = (output: string) => /CapEff:\s*([0-9a-f]+)/.exec(output)?.[1];
const hasCap = (mask: string, bit: number) => (BigInt(`0x${mask}`) >> BigInt(bit)) & 1n;
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_CHOWN = 0;
/** What --privileged gets: every capability berthd (root, like this test) has. */
const ALL_CAPS = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];

test('berth CLI: --cap-drop ALL leaves no capabilities, --cap-add NET_ADMIN adds one, an unknown one is refused by name', async (t) => {
  const daemon = await ready(t);
  const status = 'grep CapEff /proc/self/status';
  const plain = await daemon.cli(['run', '--rm', 'busybox', 'sh', '-c', status]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(hasCap(capEff(plain.stdout)!, CAP_CHOWN), 1n, 'a default container keeps CAP_CHOWN');
  assert.equal(hasCap(capEff(plain.stdout)!, CAP_NET_ADMIN), 0n);

  const dropped = await daemon.cli(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'sh', '-c', status]);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal(capEff(dropped.stdout), '0000000000000000');

  const added = await daemon.cli(['run', '--rm', '--cap-drop', 'all', '--cap-add', 'net_admin', '--cap-add', 'CAP_CHOWN', 'busybox', 'sh', '-c', status]);
  assert.equal(added.code, 0, added.stderr);
  assert.equal(BigInt(`0x${capEff(added.stdout)}`), (1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_CHOWN)));

  const denied = await daemon.cli(['run', '--rm', '--cap-drop', 'chown', 'busybox', 'sh', '-c', 'touch /f && chown 5 /f']);
  assert.notEqual(denied.code, 0, 'chown without CAP_CHOWN must fail');
  assert.match(denied.stderr, /Operation not permitted/);

  const unknown = await daemon.cli(['create', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /invalid CapAdd: unknown capability: "CAP_NOT_A_CAP"/);
  const kept = await daemon.cli(['create', '--cap-add', 'NET_ADMIN', '--cap-drop', 'MKNOD', 'busybox', 'true']);
  const inspected = await daemon.client.inspectContainer(kept.stdout.trim());
  const host = inspected.HostConfig as Record<string, unknown>;
  assert.deepEqual([host.CapAdd, host.CapDrop], [['NET_ADMIN'], ['MKNOD']]);
});

test('docker CLI: --privileged has every capability, the host devices, no masked /proc paths and a writable /sys', async (t) => {
  const daemon = await ready(t);
  const probe = 'grep CapEff /proc/self/status; [ -c /dev/kmsg ] && echo kmsg; [ -c /dev/loop-control ] && echo loop; [ -f /proc/timer_list ] && echo timer_list-unmasked; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1';
  const plain = await docker(daemon, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', probe]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stdout, /kmsg|loop|unmasked/);
  assert.match(plain.stdout, /\nro\n$/);

  const privileged = await docker(daemon, ['run', '--rm', '--network', 'none', '--privileged', 'busybox', 'sh', '-c', probe]);
  assert.equal(privileged.code, 0, privileged.stderr);
  assert.equal(capEff(privileged.stdout), ALL_CAPS);
  assert.match(privileged.stdout, /\nkmsg\nloop\ntimer_list-unmasked\nrw\n$/);
  // The device cgroup allows everything: a node made in the container (here /dev/kmsg's 1:11) opens.
  const mknod = await docker(daemon, ['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'mknod /dev/k c 1 11 && : > /dev/k && echo opened']);
  assert.equal(mknod.stdout, 'opened\n', mknod.stderr);

  const shown = await docker(daemon, ['create', '--privileged', 'busybox', 'true']);
  const format = await docker(daemon, ['inspect', '--format', '{{.HostConfig.Privileged}} {{json .HostConfig.CapAdd}}', shown.stdout.trim()]);
  assert.equal(format.stdout, 'true null\n');
});

test('dockerode: ReadonlyRootfs makes / and /tmp read-only while /dev and /dev/shm stay writable', async (t) => {
  const daemon = await ready(t);
  const client = new Docker({ socketPath: daemon.socket });
  const script = 'for f in /x /tmp/x /etc/hosts /dev/x /dev/shm/x; do if touch $f 2>/dev/null; then echo "$f rw"; else echo "$f ro"; fi; done';
  const writable = await dockerodeRun(client, script, {});
  assert.equal(writable.output, '/x rw\n/tmp/x rw\n/etc/hosts rw\n/dev/x rw\n/dev/shm/x rw\n');
  const readonly = await dockerodeRun(client, script, { ReadonlyRootfs: true });
  assert.equal(readonly.output, '/x ro\n/tmp/x ro\n/etc/hosts ro\n/dev/x rw\n/dev/shm/x rw\n');
  const inspected = await client.getContainer(readonly.id).inspect();
  assert.equal(inspected.HostConfig.ReadonlyRootfs, true);
});

test('berth CLI and docker CLI: --device creates the node with the host numbers and the cgroup permissions asked for; other devices stay closed', async (t) => {
  const daemon = await ready(t);
  const mynull = await daemon.cli(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'ls -l /dev/mynull; echo hi > /dev/mynull && echo written']);
  assert.equal(mynull.code, 0, mynull.stderr);
  assert.match(mynull.stdout, /^crw\S*\s+\d+\s+\S+\s+\S+\s+1,\s+3 .*\/dev\/mynull\nwritten\n$/);

  // /dev/kmsg (1:11) is not among the default devices: a node made for it cannot be opened.
  // (A write-only open of /dev/kmsg needs no privilege, so only the device cgroup decides; nothing is written.)
  const unlisted = await docker(daemon, ['run', '--rm', 'busybox', 'sh', '-c', '[ -e /dev/kmsg ] || echo absent; mknod /dev/k c 1 11 && (: > /dev/k) || echo open-denied']);
  assert.equal(unlisted.stdout, 'absent\nopen-denied\n', unlisted.stderr);
  assert.match(unlisted.stderr, /Operation not permitted/);
  const writable = await docker(daemon, ['run', '--rm', '--device', '/dev/kmsg:/dev/mykmsg:w', 'busybox', 'sh', '-c', ': > /dev/mykmsg && echo opened']);
  assert.equal(writable.stdout, 'opened\n', writable.stderr);
  const readOnly = await docker(daemon, ['run', '--rm', '--device', '/dev/kmsg:/dev/mykmsg:r', 'busybox', 'sh', '-c', '(: > /dev/mykmsg) || echo write-denied']);
  assert.equal(readOnly.stdout, 'write-denied\n', readOnly.stderr);
  const id = (await docker(daemon, ['create', '--device', '/dev/kmsg:/dev/mykmsg:r', 'busybox', 'true'])).stdout.trim();
  const devices = await docker(daemon, ['inspect', '--format', '{{json .HostConfig.Devices}}', id]);
  assert.equal(devices.stdout, '[{"PathOnHost":"/dev/kmsg","PathInContainer":"/dev/mykmsg","CgroupPermissions":"r"}]\n');

  const missing = await docker(daemon, ['create', '--device', '/dev/does-not-exist', 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/does-not-exist": no such file or directory/);
});

test('docker CLI and dockerode: --group-add names from the container /etc/group and numeric gids show in id', async (t) => {
  const daemon = await ready(t);
  const run = await docker(daemon, ['run', '--rm', '--group-add', 'daemon', '--group-add', '4242', 'busybox', 'id']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^uid=0\(root\) gid=0\(root\) groups=0\(root\),1\(daemon\),4242\n$/);
  const client = new Docker({ socketPath: daemon.socket });
  const container = await client.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: { GroupAdd: ['4243'] } });
  await container.start();
  const exec = await docker(daemon, ['exec', container.id, 'id', '-G']);
  assert.equal(exec.stdout, '0 4243\n', 'an exec runs with the container groups too');
  assert.deepEqual((await container.inspect()).HostConfig.GroupAdd, ['4243']);
  const unknown = await docker(daemon, ['run', '--rm', '--group-add', 'nosuchgroup', 'busybox', 'id']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unable to find group nosuchgroup/);
  assert.equal((await docker(daemon, ['ps', '-aq', '--filter', 'status=created', '--filter', 'status=exited'])).stdout, '', 'an --rm container that failed to start is removed');
});

test('dockerode and berth CLI: namespaced --sysctl values are set in the container; others and net.* on the host network are refused', async (t) => {
  const daemon = await ready(t);
  const client = new Docker({ socketPath: daemon.socket });
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const set = await dockerodeRun(client, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', { NetworkMode: 'none', Sysctls: { 'net.ipv4.ip_forward': hostForward === '1' ? '0' : '1', 'kernel.shmmni': '1234' } });
  assert.equal(set.output, `${hostForward === '1' ? '0' : '1'}\n1234\n`);
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), hostForward, 'the host value is untouched');
  assert.deepEqual((await client.getContainer(set.id).inspect()).HostConfig.Sysctls, { 'net.ipv4.ip_forward': hostForward === '1' ? '0' : '1', 'kernel.shmmni': '1234' });

  await assert.rejects(client.createContainer({ Image: 'busybox', HostConfig: { Sysctls: { 'kernel.hostname': 'x' } } }), (err: { statusCode?: number; message?: string }) => err.statusCode === 400 && /kernel\.hostname/.test(err.message ?? ''));
  await assert.rejects(client.createContainer({ Image: 'busybox', HostConfig: { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } } }), (err: { statusCode?: number; message?: string }) => err.statusCode === 400 && /net\.ipv4\.ip_forward.*host network/.test(err.message ?? ''));
  const cli = await daemon.cli(['run', '--rm', '--sysctl', 'fs.mqueue.msg_max=20', 'busybox', 'cat', '/proc/sys/fs/mqueue/msg_max']);
  assert.equal(cli.stdout, '20\n', cli.stderr);
  const refused = await daemon.cli(['create', '--sysctl', 'vm.swappiness=1', 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /vm\.swappiness/);
});

test('the options survive a restart by the shim and a daemon restart', async (t) => {
  const daemon = await ready(t);
  const script = 'grep CapEff /proc/self/status; touch /x 2>/dev/null || echo ro; sleep 0.3';
  const id = (await daemon.cli(['run', '-d', '--restart', 'on-failure:1', '--cap-drop', 'ALL', '--read-only', 'busybox', 'sh', '-c', `${script}; exit 1`])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const logs = await waitFor('the restarted run', async () => {
    const out = (await daemon.cli(['logs', id])).stdout;
    const done = (await daemon.client.inspectContainer(id)).State as { Status: string };
    return out.split('ro\n').length === 3 && done.Status === 'exited' ? out : undefined;
  });
  assert.equal(logs, 'CapEff:\t0000000000000000\nro\n'.repeat(2));

  const created = (await daemon.cli(['create', '--cap-drop', 'ALL', '--read-only', '--group-add', '4242', 'busybox', 'sh', '-c', `${script}; id -G`])).stdout.trim();
  await daemon.stop();
  await daemon.start();
  const started = await daemon.cli(['start', '-a', created]);
  assert.equal(started.stdout, 'CapEff:\t0000000000000000\nro\n0 4242\n', started.stderr);
  const host = (await daemon.client.inspectContainer(created)).HostConfig as Record<string, unknown>;
  assert.deepEqual([host.CapDrop, host.ReadonlyRootfs, host.GroupAdd], [['ALL'], true, ['4242']]);
});
