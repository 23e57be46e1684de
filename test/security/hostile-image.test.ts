import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newDaemon, readProcStat, runShell, waitFor } from '../integration/harness.ts';

const MS = 1_000_000;

function shimPid(execRoot: string, id: string): number {
  return Number.parseInt(readFileSync(join(execRoot, 'bundles', id, 'shim.pid'), 'utf8'), 10);
}

test('a health probe that prints 60 MB neither grows nor kills the shim: its output is cut to 4 KiB as it is read', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const id = await runShell(daemon, 'exec sleep 1000', {
    Healthcheck: { Test: ['CMD-SHELL', 'head -c 60000000 /dev/zero | tr "\\0" x'], Interval: 500 * MS, Timeout: 20_000 * MS, Retries: 3 },
  });
  const pid = shimPid(daemon.execRoot, id);
  const started = readProcStat(pid)?.startTime;
  const health = await waitFor('two probes recorded', async () => {
    const h = ((await daemon.client.inspectContainer(id)).State as { Health?: { Log: Array<{ ExitCode: number; Output: string }> } }).Health;
    return h && h.Log.length >= 2 ? h : undefined;
  }, 60_000);
  for (const result of health.Log) {
    assert.equal(result.ExitCode, 0);
    assert.equal(result.Output, 'x'.repeat(4096), 'the first 4 KiB of the output, nothing more');
  }
  const state = (await daemon.client.inspectContainer(id)).State as { Running: boolean };
  assert.equal(state.Running, true, 'the container still runs');
  const stat = readProcStat(pid);
  assert.ok(stat && stat.state !== 'Z' && stat.startTime === started, 'the same shim is alive');
});
