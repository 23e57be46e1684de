import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertTransition, canTransition, createdState, transition } from './lifecycle.ts';
import { EngineError } from '../../protocol/errors.ts';
import type { ContainerRecord } from '../../protocol/records.ts';

test('a created container may start, a running one may only exit', () => {
  assert.equal(canTransition('created', 'running'), true);
  assert.equal(canTransition('running', 'exited'), true);
  assert.equal(canTransition('running', 'removing'), false);
  assert.equal(canTransition('exited', 'running'), true);
});

test('an illegal move is a FailedPrecondition error', () => {
  assert.throws(
    () => assertTransition('a'.repeat(64), 'running', 'created'),
    (err: unknown) => EngineError.is(err) && err.kind === 'FailedPrecondition',
  );
});

function record(): ContainerRecord {
  return { id: 'c'.repeat(64), state: createdState() } as ContainerRecord;
}

test('transition applies the patch, removes fields given as undefined, and refuses a move the table lacks', () => {
  const r = record();
  transition(r, 'running', { Pid: 42, Health: { Status: 'starting', FailingStreak: 0, Log: [] } });
  assert.equal(r.state.Status, 'running');
  assert.equal(r.state.Pid, 42);
  transition(r, 'running', { Health: undefined });
  assert.equal('Health' in r.state, false);
  transition(r, 'exited', { ExitCode: 3, Pid: 0 });
  assert.deepEqual([r.state.Status, r.state.ExitCode, r.state.Pid], ['exited', 3, 0]);
  assert.throws(() => transition(r, 'paused'), (err: unknown) => EngineError.is(err) && err.kind === 'FailedPrecondition');
  assert.equal(r.state.Status, 'exited');
});

test('a removal is entered, and a failed one ends dead, removable again', () => {
  const r = transition(record(), 'removing');
  transition(r, 'dead', { Error: 'cannot unmount' });
  assert.equal(canTransition('dead', 'running'), false);
  transition(r, 'removing');
});

test('no daemon module but lifecycle.ts writes a container state', () => {
  const daemon = join(import.meta.dirname, '..');
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'lifecycle.ts') {
        const text = readFileSync(path, 'utf8');
        if (/\.state\s*=[^=]|\.state\.\w+\s*=[^=]/.test(text)) offenders.push(path);
      }
    }
  };
  walk(daemon);
  assert.deepEqual(offenders, []);
});
