import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from './events.ts';

const actions = (journal: string) => readFileSync(journal, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);

test('an event whose journal append fails (ENOSPC) is still published; the journal is rewritten with it once it can be', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const journal = join(dir, 'events.jsonl');
  const bus = new EventBus(journal);
  const seen: string[] = [];
  bus.subscribe((e) => seen.push(e.Action));
  bus.publish('container', 'create', 'abc');

  // The journal now points at /dev/full: every append fails with ENOSPC, as on a full data root.
  rmSync(journal);
  symlinkSync('/dev/full', journal);
  assert.doesNotThrow(() => bus.publish('container', 'start', 'abc'));
  assert.deepEqual(seen, ['create', 'start'], 'subscribers are told');
  assert.deepEqual(bus.replay(0).map((e) => e.Action), ['create', 'start'], 'since replays have it');
  assert.ok(lstatSync(journal).isSymbolicLink(), 'nothing was written');

  // The next event finds room (an atomic rewrite replaces the link): the journal has no gap.
  bus.publish('container', 'die', 'abc', { exitCode: '7' });
  assert.deepEqual(actions(journal), ['create', 'start', 'die']);
  assert.deepEqual(new EventBus(journal).replay(0).map((e) => e.Action), ['create', 'start', 'die']);
});

test('events published in a row are dated in order, so since replays keep their order', () => {
  const bus = new EventBus(undefined);
  for (let i = 0; i < 20_000; i++) bus.publish('container', String(i), 'abc');
  const times = bus.replay(0).map((e) => e.timeNano);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `event ${i} is dated after event ${i - 1}`);
});
