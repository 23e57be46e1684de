import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allCapabilities, containerCapabilities, DEFAULT_CAPABILITIES, normalizeCapabilities } from './capabilities.ts';
import { EngineError } from '../protocol/errors.ts';

test('names are normalized: any case, with or without CAP_, ALL kept; unknown ones are refused by name', () => {
  assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_CHOWN', 'Sys_Time', 'all'], 'CapAdd'), ['CAP_NET_ADMIN', 'CAP_CHOWN', 'CAP_SYS_TIME', 'ALL']);
  assert.throws(() => normalizeCapabilities(['bogus'], 'CapDrop'), (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument' && err.message === 'invalid CapDrop: unknown capability: "CAP_BOGUS"');
});

test("Docker's combination rules for add, drop, ALL and privileged", () => {
  assert.deepEqual(containerCapabilities([], [], false), DEFAULT_CAPABILITIES);
  assert.deepEqual(containerCapabilities([], ['ALL'], false), []);
  assert.deepEqual(containerCapabilities(['NET_ADMIN'], ['ALL'], false), ['CAP_NET_ADMIN']);
  assert.deepEqual(containerCapabilities(['ALL'], ['CHOWN'], false), allCapabilities().filter((c) => c !== 'CAP_CHOWN'));
  assert.deepEqual(containerCapabilities(['ALL'], ['ALL'], false), allCapabilities(), 'ALL in add wins, as in moby');
  assert.deepEqual(containerCapabilities(['net_admin'], ['mknod'], false), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN']);
  assert.deepEqual(containerCapabilities(['chown'], [], false), DEFAULT_CAPABILITIES, 'adding one already there does not repeat it');
  assert.deepEqual(containerCapabilities([], ['ALL'], true), allCapabilities(), 'privileged gets everything whatever is dropped');
});
