import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gidInGroupFile, resolveSocketGroup } from './socket-group.ts';
import { EngineError } from '../../protocol/errors.ts';

const GROUPS = 'root:x:0:\nberth:x:2375:alice,bob\n1000:x:1234:\nbroken:x:notanumber:\n';

test('gidInGroupFile finds a group by exact name only', () => {
  assert.equal(gidInGroupFile(GROUPS, 'berth'), 2375);
  assert.equal(gidInGroupFile(GROUPS, 'root'), 0);
  assert.equal(gidInGroupFile(GROUPS, 'bert'), undefined);
  assert.equal(gidInGroupFile(GROUPS, 'broken'), undefined);
});

test('resolveSocketGroup: a name first (even a numeric one), then a numeric gid; anything else is refused, naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-group-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'group');
  writeFileSync(file, GROUPS);
  assert.equal(await resolveSocketGroup('berth', file), 2375);
  assert.equal(await resolveSocketGroup('1000', file), 1234, 'a group named 1000 wins over gid 1000, as in dockerd');
  assert.equal(await resolveSocketGroup('4242', file), 4242);
  const missing = 'berth-no-such-group-xyz';
  await assert.rejects(resolveSocketGroup(missing, file), (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument' && err.message.includes(`group ${missing} not found`));
});
