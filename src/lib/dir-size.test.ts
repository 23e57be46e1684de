import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirSize } from './dir-size.ts';

test('dirSize counts regular files below a directory, not symlinks, and 0 for a missing one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dirsize-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'a/b'), { recursive: true });
  writeFileSync(join(dir, 'a/one'), 'x'.repeat(100));
  writeFileSync(join(dir, 'a/b/two'), 'y'.repeat(23));
  symlinkSync('/etc/passwd', join(dir, 'a/link'));
  assert.equal(await dirSize(dir), 123);
  assert.equal(await dirSize(join(dir, 'missing')), 0);
});

test('dirSize gives the event loop turns while it walks many files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dirsize-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < 5000; i++) writeFileSync(join(dir, `f${i}`), 'z');
  let turns = 0;
  let walking = true;
  const tick = () => {
    if (!walking) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  assert.equal(await dirSize(dir), 5000);
  walking = false;
  assert.ok(turns >= 5, `the event loop turned ${turns} times during the walk`);
});
