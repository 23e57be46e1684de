import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ShimState } from '../protocol/shim.ts';
import { StateFeed } from './state-feed.ts';

const freshState = (): ShimState => ({ status: 'starting', pid: 0, pidStartTime: 0, startedAt: '', restartCount: 0, generation: 0, history: [] });

test('watch answers once the generation has moved past the one seen; a change carries the log drops', async () => {
  const state = freshState();
  let drops = { droppedLines: 0, failing: undefined as string | undefined };
  const feed = new StateFeed(state, () => drops);
  let answered = false;
  const watch = feed.after(0).then((seen) => {
    answered = true;
    return seen;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answered, false);
  drops = { droppedLines: 4, failing: 'ENOSPC' };
  feed.changed();
  const seen = await watch;
  assert.equal(seen.generation, 1);
  assert.equal(seen.logDroppedLines, 4);
  assert.equal(seen.logWriteError, 'ENOSPC');
  assert.equal(await feed.after(0), state); // already past: at once
  drops = { droppedLines: 4, failing: undefined };
  feed.changed();
  assert.equal(state.logWriteError, undefined);
  assert.equal(state.logDroppedLines, 4);
});

test('wait answers with the final exit, at once once there is one', async () => {
  const state = freshState();
  const feed = new StateFeed(state, () => ({ droppedLines: 0, failing: undefined }));
  const waiting = feed.exit();
  const exit = { schemaVersion: 1 as const, exitCode: 2, oomKilled: false, finishedAt: 't' };
  state.exit = exit;
  feed.settled(exit);
  assert.equal(await waiting, exit);
  assert.equal(feed.exit(), exit);
});
