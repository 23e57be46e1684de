import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, LimitedOutput, probeCommand } from './health.ts';

const spec = { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 1000, startPeriodMs: 5000, retries: 2 };
const result = (exitCode: number) => ({ Start: 's', End: 'e', ExitCode: exitCode, Output: `o${exitCode}` });

test('the test forms of HEALTHCHECK', () => {
  assert.deepEqual(probeCommand(['CMD', 'curl', '-f', 'x']), ['curl', '-f', 'x']);
  assert.deepEqual(probeCommand(['CMD-SHELL', 'exit 1']), ['/bin/sh', '-c', 'exit 1']);
  assert.equal(probeCommand(['NONE']), undefined);
  assert.equal(probeCommand([]), undefined);
});

test('failures in the start period do not count; after it they do, up to unhealthy; a success resets', (t) => {
  let changes = 0;
  const monitor = new HealthMonitor(spec, ['true'], async () => ({ exitCode: 0, output: '' }), () => changes++);
  t.after(() => monitor.stop());
  monitor.start(0);
  monitor.record(result(1), 1000);
  assert.equal(monitor.state.Status, 'starting');
  assert.equal(monitor.state.FailingStreak, 0);
  monitor.record(result(1), 6000);
  monitor.record(result(1), 7000);
  assert.equal(monitor.state.Status, 'unhealthy');
  assert.equal(monitor.state.FailingStreak, 2);
  monitor.record(result(0), 8000);
  assert.equal(monitor.state.Status, 'healthy');
  assert.equal(monitor.state.FailingStreak, 0);
  assert.equal(changes, 4);
});

test('once healthy, failures count even inside the start period; only the last five results are kept', (t) => {
  const monitor = new HealthMonitor(spec, ['true'], async () => ({ exitCode: 0, output: '' }), () => undefined);
  t.after(() => monitor.stop());
  monitor.start(0);
  monitor.record(result(0), 100);
  monitor.record(result(1), 200);
  assert.equal(monitor.state.FailingStreak, 1);
  for (let i = 0; i < 6; i++) monitor.record(result(i), 300 + i);
  assert.equal(monitor.state.Log.length, 5);
  assert.equal(monitor.state.Log.at(-1)!.Output, 'o5');
});

test('LimitedOutput keeps the first 4 KiB of a probe output and drops the rest as it arrives', () => {
  const output = new LimitedOutput();
  output.append(Buffer.from('a'.repeat(4000)));
  output.append(Buffer.from('b'.repeat(200)));
  for (let i = 0; i < 1000; i++) output.append(Buffer.alloc(65536, 'c'));
  assert.equal(output.toString(), 'a'.repeat(4000) + 'b'.repeat(96));
});
