import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonPaths } from '../host/paths.ts';
import { containerFilePaths } from './container-inspect.ts';

describe('containerFilePaths', () => {
  it('names the log, the etc files and the root under the container directory', () => {
    assert.deepEqual(containerFilePaths(new DaemonPaths('/var/lib/berth', '/run/berth'), 'c1'), {
      logPath: '/var/lib/berth/containers/c1/c1-json.log',
      hostsPath: '/var/lib/berth/containers/c1/hosts',
      hostnamePath: '/var/lib/berth/containers/c1/hostname',
      resolvConfPath: '/var/lib/berth/containers/c1/resolv.conf',
      rootfs: '/var/lib/berth/containers/c1/rootfs',
    });
  });
});
