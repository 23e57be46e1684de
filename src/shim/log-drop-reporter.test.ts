import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogDropReporter } from './log-drop-reporter.ts';
import type { LogDropStats } from './json-log-writer.ts';

const ENOSPC = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

test('reports the first dropped line at once, then at most once per interval, and the recovery at once', async () => {
  const stats: LogDropStats = { droppedLines: 0, failing: undefined };
  let published = 0;
  const logged: string[] = [];
  const reporter = new LogDropReporter(() => stats, () => published++, (level, msg) => logged.push(`${level} ${msg}`), 50, 60_000);
  for (let i = 1; i <= 1000; i++) {
    stats.droppedLines = i;
    reporter.onWriteError(ENOSPC);
  }
  assert.equal(published, 1, 'the first drop is published at once, the next ones wait');
  assert.deepEqual(logged, ['warn cannot write the container log; dropping lines until it can be written']);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(published, 2, 'a thousand drops make one more report');
  reporter.onWriteError(undefined);
  assert.equal(published, 3);
  assert.equal(logged.at(-1), 'info container log writes resumed');
  reporter.stop();
});
