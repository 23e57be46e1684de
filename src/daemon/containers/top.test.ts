import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { containerTop, parsePsOutput, topContainer } from './top.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import { EngineError } from '../../protocol/errors.ts';

function sleeper(t: TestContext): number {
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}

test('default ps -ef: Docker titles, and the child in our PID namespace with its full CMD', async (t) => {
  const pid = sleeper(t);
  const top = await containerTop(process.pid);
  assert.deepEqual(top.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  const row = top.Processes.find((p) => p[1] === String(pid));
  assert.ok(row, `pid ${pid} in ${JSON.stringify(top.Processes.map((p) => p[1]))}`);
  assert.equal(row.length, 8);
  assert.equal(row[2], String(process.pid));
  assert.match(row[7] ?? '', /sleep 5/);
  assert.ok(top.Processes.every((p) => p.length === 8));
});

test('custom ps args: -o pid,comm', async (t) => {
  const pid = sleeper(t);
  const top = await containerTop(process.pid, '-o pid,comm');
  assert.deepEqual(top.Titles, ['PID', 'COMMAND']);
  assert.ok(top.Processes.some((p) => p[0] === String(pid) && p[1] === 'sleep'));
});

test('ps output without a PID column is InvalidArgument', async () => {
  await assert.rejects(containerTop(process.pid, '-o comm'), (err: unknown) =>
    EngineError.is(err) && err.kind === 'InvalidArgument' && err.message === "Couldn't find PID field in ps output");
});

test('renaming another column to PID is refused, as Docker does', async () => {
  await assert.rejects(containerTop(process.pid, '-o comm=PID'), (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument');
});

test('a process that is gone fails without running ps', async () => {
  await assert.rejects(containerTop(2 ** 22 + 1), (err: unknown) => EngineError.is(err) && err.kind === 'FailedPrecondition');
});

test('parsePsOutput keeps only namespace PIDs and the last column whole', () => {
  const output = [
    'UID        PID  PPID  C STIME TTY          TIME CMD',
    'root         1     0  0 10:00 ?        00:00:00 /bin/sh -c  echo  hi',
    'root        42     1  0 10:00 ?        00:00:00 sleep 5',
    'root        43     1  0 10:00 ?        00:00:00 [kworker]',
    '',
  ].join('\n');
  assert.deepEqual(parsePsOutput(output, new Set([1, 42])).Processes, [
    ['root', '1', '0', '0', '10:00', '?', '00:00:00', '/bin/sh -c  echo  hi'],
    ['root', '42', '1', '0', '10:00', '?', '00:00:00', 'sleep 5'],
  ]);
});

test('topContainer refuses a container that is not running, before running ps', async () => {
  const service = { store: { resolve: () => ({ id: 'c1', state: { Status: 'exited', Pid: 0 } }) as unknown as ContainerRecord } };
  await assert.rejects(topContainer(service, 'c1', undefined), (err: unknown) => EngineError.is(err) && err.kind === 'Conflict');
});

test('topContainer lists the processes of a running container', async (t) => {
  const pid = sleeper(t);
  const service = { store: { resolve: () => ({ id: 'c1', state: { Status: 'running', Pid: process.pid } }) as unknown as ContainerRecord } };
  const top = await topContainer(service, 'c1', undefined);
  assert.ok(top.Processes.some((p) => p[1] === String(pid)));
});
