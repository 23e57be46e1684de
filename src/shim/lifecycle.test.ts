import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_HISTORY, type RestartPolicySpec } from '../protocol/shim.ts';
import { ShimLifecycle, classifyStartError, type RunOutcome } from './lifecycle.ts';

function fakeClock(start = Date.parse('2026-12-01T00:00:00Z')) {
  const clock = {
    ms: start,
    now: () => clock.ms,
    timestamp: () => new Date(clock.ms).toISOString(),
  };
  return clock;
}

const always: RestartPolicySpec = { name: 'always', maximumRetryCount: 0 };
const exitedWith = (code: number, started = true): RunOutcome => ({ started, code, signal: null });

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { kind?: string }).kind;
  }
  return undefined;
}

test('a first start that fails is reported on the sync pipe, with the runtime error classified', () => {
  const lifecycle = new ShimLifecycle('c1', undefined, fakeClock());
  const decision = lifecycle.exited({ started: false, code: 1, signal: null, error: 'exec: "nope": executable file not found in $PATH' });
  assert.deepEqual(decision, { next: 'report-start-failure', error: { kind: 'InvalidArgument', message: 'exec: "nope": executable file not found in $PATH' } });
  assert.equal(lifecycle.phase, 'failed');
  assert.equal(lifecycle.state.status, 'starting');
  assert.deepEqual(lifecycle.state.history, []);
  assert.deepEqual(new ShimLifecycle('c1', undefined, fakeClock()).exited(exitedWith(1, false)), { next: 'report-start-failure', error: { kind: 'Internal', message: 'the container did not start' } });
  assert.equal(classifyStartError('open /x: permission denied'), 'InvalidArgument');
  assert.equal(classifyStartError('cgroup: device busy'), 'Internal');
});

test('without a restart policy the first exit is final: exit record, no pid, one run in the history', () => {
  const clock = fakeClock();
  const lifecycle = new ShimLifecycle('c1', undefined, clock);
  lifecycle.started(42, 777);
  assert.equal(lifecycle.state.status, 'running');
  assert.equal(lifecycle.state.pid, 42);
  assert.equal(lifecycle.state.pidStartTime, 777);
  const startedAt = lifecycle.state.startedAt;
  lifecycle.state.generation = 1; // the start was published
  clock.ms += 1000;
  const decision = lifecycle.exited(exitedWith(3));
  assert.equal(decision.next, 'final');
  const exit = { schemaVersion: 1, exitCode: 3, oomKilled: false, finishedAt: clock.timestamp() };
  assert.deepEqual(decision, { next: 'final', exit });
  assert.deepEqual(lifecycle.state.exit, exit);
  assert.equal(lifecycle.state.status, 'exited');
  assert.equal(lifecycle.state.pid, 0);
  assert.deepEqual(lifecycle.state.history, [{ generation: 2, pid: 42, startedAt, finishedAt: exit.finishedAt, exitCode: 3, restarted: false }]);
});

test('a container killed by a signal exits 128+N with the signal name', () => {
  const lifecycle = new ShimLifecycle('c1', undefined, fakeClock());
  lifecycle.started(42, 1);
  const decision = lifecycle.exited({ started: true, code: null, signal: 'SIGKILL' });
  assert.equal(decision.next === 'final' && decision.exit.exitCode, 137);
  assert.equal(decision.next === 'final' && decision.exit.signal, 'SIGKILL');
});

test('under a restart policy an exit starts a back-off that doubles for short runs and resets after a long one', () => {
  const clock = fakeClock();
  const lifecycle = new ShimLifecycle('c1', always, clock);
  const delays: number[] = [];
  for (const ranForMs of [50, 50, 50, 10_000, 50]) {
    lifecycle.started(10 + delays.length, 1);
    clock.ms += ranForMs;
    const decision = lifecycle.exited(exitedWith(0));
    assert.equal(decision.next, 'backoff');
    if (decision.next !== 'backoff') return;
    assert.equal(decision.exit.exitCode, 0);
    delays.push(decision.delayMs);
    assert.equal(lifecycle.state.status, 'restarting');
    assert.equal(lifecycle.state.pid, 0);
    assert.equal(lifecycle.state.exit, undefined);
    assert.deepEqual(lifecycle.backoffOver(), { next: 'run' });
    assert.equal(lifecycle.phase, 'respawning');
    assert.equal(lifecycle.state.status, 'restarting');
  }
  assert.deepEqual(delays, [100, 200, 400, 100, 200]);
  assert.equal(lifecycle.state.restartCount, 5);
  assert.deepEqual(lifecycle.state.history?.map((run) => run.restarted), [true, true, true, true, true]);
});

test('on-failure restarts up to its retry count, then the exit is final', () => {
  const lifecycle = new ShimLifecycle('c1', { name: 'on-failure', maximumRetryCount: 1 }, fakeClock());
  lifecycle.started(1, 1);
  assert.equal(lifecycle.exited(exitedWith(2)).next, 'backoff');
  assert.deepEqual(lifecycle.backoffOver(), { next: 'run' });
  lifecycle.started(2, 1);
  assert.equal(lifecycle.exited(exitedWith(2)).next, 'final');
  assert.equal(lifecycle.state.restartCount, 1);
});

test('a restart whose runtime fails before the process exists is an exit, not a start failure', () => {
  const lifecycle = new ShimLifecycle('c1', { name: 'on-failure', maximumRetryCount: 1 }, fakeClock());
  lifecycle.started(1, 1);
  lifecycle.exited(exitedWith(1));
  lifecycle.backoffOver();
  const decision = lifecycle.exited({ started: false, code: 127, signal: null, error: 'cannot run crun: ENOENT' });
  assert.equal(decision.next, 'final');
  assert.equal(decision.next === 'final' && decision.exit.error, 'cannot run crun: ENOENT');
  assert.equal(lifecycle.state.history?.length, 2);
});

test('a stop while running means the exit is final whatever the policy', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  lifecycle.started(1, 1);
  assert.equal(lifecycle.kill('SIGTERM', true), 'signal');
  assert.equal(lifecycle.exited({ started: true, code: null, signal: 'SIGTERM' }).next, 'final');
  assert.equal(lifecycle.state.history?.at(-1)?.restarted, false);
});

test('a stop during the back-off cuts it short and makes the last exit final', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  lifecycle.started(1, 1);
  const backoff = lifecycle.exited(exitedWith(5));
  assert.equal(backoff.next, 'backoff');
  assert.equal(lifecycle.kill('SIGKILL', false), 'cancel-backoff');
  assert.equal(lifecycle.kill('SIGKILL', true), 'cancel-backoff');
  const decision = lifecycle.backoffOver();
  assert.equal(decision.next, 'final');
  assert.equal(decision.next === 'final' && backoff.next === 'backoff' && decision.exit, backoff.exit);
  assert.equal(lifecycle.state.status, 'exited');
  assert.equal(lifecycle.state.restartCount, 0);
  assert.deepEqual(lifecycle.state.history?.map((run) => run.restarted), [false]);
});

test('a kill without stop during the back-off only cuts it short: the container restarts', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  lifecycle.started(1, 1);
  lifecycle.exited(exitedWith(0));
  assert.equal(lifecycle.kill('SIGTERM', false), 'cancel-backoff');
  assert.deepEqual(lifecycle.backoffOver(), { next: 'run' });
});

test('kill: refused once exited, validated before it counts as a stop, nothing to signal while respawning', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  assert.equal(lifecycle.kill('SIGTERM', false), 'signal'); // the first start: the runtime may have the container
  lifecycle.started(1, 1);
  assert.equal(kindOf(() => lifecycle.kill('SIGNOPE', true)), 'InvalidArgument');
  assert.equal(lifecycle.exited(exitedWith(0)).next, 'backoff'); // the invalid kill did not count as a stop
  lifecycle.backoffOver();
  assert.equal(lifecycle.kill('SIGKILL', true), 'none');
  lifecycle.started(2, 1);
  assert.equal(lifecycle.exited(exitedWith(137)).next, 'final');
  assert.equal(kindOf(() => lifecycle.kill('SIGKILL', false)), 'FailedPrecondition');
});

test('pause and exec need a running container; shutdown needs the final exit', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  assert.equal(kindOf(() => lifecycle.requireRunning()), 'FailedPrecondition');
  lifecycle.started(1, 1);
  assert.equal(kindOf(() => lifecycle.requireRunning()), undefined);
  assert.equal(kindOf(() => lifecycle.requireExited()), 'FailedPrecondition');
  lifecycle.exited(exitedWith(0));
  assert.equal(kindOf(() => lifecycle.requireRunning()), 'FailedPrecondition');
  assert.equal(kindOf(() => lifecycle.requireExited()), 'FailedPrecondition');
  lifecycle.kill('SIGTERM', true);
  lifecycle.backoffOver();
  assert.equal(kindOf(() => lifecycle.requireExited()), undefined);
});

test('moves outside the table are refused', () => {
  const lifecycle = new ShimLifecycle('c1', undefined, fakeClock());
  assert.equal(kindOf(() => lifecycle.backoffOver()), 'FailedPrecondition');
  lifecycle.started(1, 1);
  assert.equal(kindOf(() => lifecycle.started(1, 1)), 'FailedPrecondition');
  lifecycle.exited(exitedWith(0));
  assert.equal(kindOf(() => lifecycle.exited(exitedWith(0))), 'FailedPrecondition');
});

test('the history keeps the last runs only', () => {
  const lifecycle = new ShimLifecycle('c1', always, fakeClock());
  for (let i = 0; i < RUN_HISTORY + 5; i++) {
    lifecycle.started(i + 1, 1);
    lifecycle.exited(exitedWith(i));
    lifecycle.backoffOver();
  }
  assert.equal(lifecycle.state.history?.length, RUN_HISTORY);
  assert.equal(lifecycle.state.history?.at(-1)?.exitCode, RUN_HISTORY + 4);
});
