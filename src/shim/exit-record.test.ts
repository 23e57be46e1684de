import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitRecord } from '../protocol/shim.ts';
import { exitRecordFrom, nextExitRetry, persistExit } from './exit-record.ts';

test('an exit record carries 128+N and the signal name for a container killed by a signal', () => {
  assert.deepEqual(exitRecordFrom(0, null, 't'), { schemaVersion: 1, exitCode: 0, oomKilled: false, finishedAt: 't' });
  assert.deepEqual(exitRecordFrom(null, 'SIGTERM', 't'), { schemaVersion: 1, exitCode: 143, signal: 'SIGTERM', oomKilled: false, finishedAt: 't' });
  assert.equal(exitRecordFrom(137, null, 't').signal, 'SIGKILL');
  assert.equal(exitRecordFrom(null, null, 't').exitCode, 255);
});

test('an exit record that cannot be written is retried with back-off, warned about once, and reported when written', () => {
  const exit = exitRecordFrom(3, null, 't');
  let failures = 3;
  const written: ExitRecord[] = [];
  const logs: string[] = [];
  const delays: number[] = [];
  const retries: Array<() => void> = [];
  persistExit(exit, {
    write: (record) => {
      if (failures-- > 0) throw new Error('ENOSPC');
      written.push(record);
    },
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    retryAfter: (ms, retry) => {
      delays.push(ms);
      retries.push(retry);
    },
  });
  while (retries.length) retries.shift()!();
  assert.deepEqual(written, [exit]);
  assert.deepEqual(delays, [100, 200, 400]);
  assert.deepEqual(logs, ['warn: cannot write the exit record; keeping the exit in memory and retrying', 'info: exit record written']);
  assert.equal(nextExitRetry(6400), 10_000);
  assert.equal(nextExitRetry(10_000), 10_000);
});

test('a first write that works logs nothing', () => {
  const logs: string[] = [];
  persistExit(exitRecordFrom(0, null, 't'), { write: () => undefined, log: (_level, msg) => logs.push(msg), retryAfter: () => assert.fail('no retry') });
  assert.deepEqual(logs, []);
});
