import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sameSummary, summarizeLayer } from './layer-summary.ts';

test('layer summary: the same tree gives the same summary; a truncated, removed or swapped file changes it', async (t) => {
  const dir = mkdtempSync('/tmp/berth-summary-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc/sub'), { recursive: true });
  writeFileSync(join(dir, 'etc/a'), 'a'.repeat(100));
  writeFileSync(join(dir, 'etc/sub/b'), 'b'.repeat(50));
  symlinkSync('a', join(dir, 'etc/link'));
  const first = await summarizeLayer(dir);
  assert.deepEqual({ entries: first.entries, fileBytes: first.fileBytes }, { entries: 5, fileBytes: 150 });
  assert.ok(sameSummary(first, await summarizeLayer(dir)));

  truncateSync(join(dir, 'etc/a'), 10);
  assert.equal(sameSummary(first, await summarizeLayer(dir)), false, 'truncated');
  truncateSync(join(dir, 'etc/a'), 100);
  assert.ok(sameSummary(first, await summarizeLayer(dir)), 'same sizes again');

  // Same count and total bytes, different files: only the per-file digest notices.
  writeFileSync(join(dir, 'etc/a'), 'a'.repeat(50));
  writeFileSync(join(dir, 'etc/sub/b'), 'b'.repeat(100));
  const swapped = await summarizeLayer(dir);
  assert.equal(swapped.fileBytes, first.fileBytes);
  assert.equal(sameSummary(first, swapped), false, 'sizes moved between files');

  unlinkSync(join(dir, 'etc/link'));
  assert.equal((await summarizeLayer(dir)).entries, 4, 'removed');
});
