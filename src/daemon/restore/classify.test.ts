import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, type RestoreFacts } from './classify.ts';
import type { ContainerRecord, ShimLocation } from '../../protocol/records.ts';
import type { HelloResult, ShimState } from '../../protocol/shim.ts';

const BOOT = 'boot-1';
const STARTED = '2026-12-07T10:00:00.000000000Z';

function running(shim?: Partial<ShimLocation>): ContainerRecord {
  return {
    id: 'a'.repeat(64),
    state: { Status: 'running', Pid: 100, ExitCode: 0, Error: '', StartedAt: STARTED, FinishedAt: '0001-01-01T00:00:00Z', OOMKilled: false },
    ...(shim ? { shim: { shimPid: 99, shimStartTime: 1, socketPath: '/s', bundle: '/b', pidStartTime: 2, bootId: BOOT, protocolVersion: '1.3', ...shim } as ShimLocation } : {}),
  } as ContainerRecord;
}

function hello(state: Partial<ShimState>): HelloResult {
  return { version: '1.3', shimPid: 99, state: { status: 'running', pid: 100, startedAt: STARTED, ...state } as ShimState };
}

const facts = (more: Partial<RestoreFacts> = {}): RestoreFacts => ({ bootId: BOOT, now: '2026-12-07T11:00:00Z', ...more });

test('a shim that answers without an exit is reattached', () => {
  assert.deepEqual(classify(running({}), facts({ hello: hello({}) })), { kind: 'reattach' });
});

test('an exit the live shim kept is recorded with its real code, before any on disk', () => {
  const exit = { schemaVersion: 1 as const, exitCode: 3, finishedAt: '2026-12-07T10:30:00Z', oomKilled: false };
  const onDisk = { schemaVersion: 1 as const, exitCode: 9, finishedAt: '2026-12-07T10:31:00Z', oomKilled: false };
  assert.deepEqual(classify(running({}), facts({ hello: hello({ exit }), exitOnDisk: onDisk })), { kind: 'exited', exit });
});

test('a gone shim with an exit on disk: exited with that code', () => {
  const exit = { schemaVersion: 1 as const, exitCode: 7, finishedAt: '2026-12-07T10:30:00Z', oomKilled: false };
  assert.deepEqual(classify(running({}), facts({ exitOnDisk: exit })), { kind: 'exited', exit });
});

test('a gone shim and no exit on disk: lost, with the shim named', () => {
  const decision = classify(running({}), facts());
  assert.equal(decision.kind, 'lost');
  assert.match(decision.kind === 'lost' ? decision.why : '', /pid 99\) was gone/);
});

test('another boot id: rebooted, exit 255 dated at the start', () => {
  const decision = classify(running({ bootId: 'boot-0' }), facts({ hello: hello({}) }));
  assert.deepEqual(decision, { kind: 'rebooted', exit: { exitCode: 255, finishedAt: STARTED, oomKilled: false, error: 'the host rebooted while the container was running' } });
});

test('no shim recorded: lost without a shim to clean up', () => {
  assert.deepEqual(classify(running(), facts()), { kind: 'lost', why: 'no shim was recorded for this container', shimRecorded: false });
});
