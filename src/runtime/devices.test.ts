import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devicesFromPath, hostDevices } from './devices.ts';

test('a host device keeps its type and numbers under the container path, with a cgroup rule for the permissions asked', () => {
  const { devices, rules } = devicesFromPath('/dev/null', '/dev/mynull', 'rw');
  assert.deepEqual(devices.map(({ path, type, major, minor }) => ({ path, type, major, minor })), [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3 }]);
  assert.deepEqual(rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
});

test("a missing host device gives dockerd's message; a regular file is not a device", () => {
  assert.throws(() => devicesFromPath('/dev/does-not-exist', '/dev/x', 'rwm'), { message: 'error gathering device information while adding custom device "/dev/does-not-exist": no such file or directory' });
  assert.throws(() => devicesFromPath('/etc/hostname', '/dev/x', 'rwm'), { message: 'error gathering device information while adding custom device "/etc/hostname": not a device node' });
});

test('the host devices for --privileged include /dev/null and leave out /dev/pts', () => {
  const devices = hostDevices();
  assert.ok(devices.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
  assert.ok(!devices.some((d) => d.path.startsWith('/dev/pts/') || d.path === '/dev/console'));
});
