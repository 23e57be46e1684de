import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsonLogWriter } from '../../shim/json-log-writer.ts';
import {
  parseDockerTimestamp,
  parseRFC3339Nano,
  readLogs,
  rotatedFiles,
  type LogEntry,
  type ReadLogsOptions,
} from './json-log-reader.ts';

const BASE = 1_700_000_000n * 1_000_000_000n;

function tempLog(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-jsonlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'container-json.log');
}

/** Timestamps BASE + i seconds for the i-th call, formatted with 9 digits. */
function clock(): () => string {
  let i = 0;
  return () => `${new Date(Number((BASE / 1_000_000n) + BigInt(i++) * 1000n)).toISOString().slice(0, 19)}.000000042Z`;
}

function writeLines(w: JsonLogWriter, from: number, to: number): void {
  for (let i = from; i < to; i++) w.write(i % 3 === 0 ? 'stderr' : 'stdout', Buffer.from(`line ${i}\n`));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`);

async function collect(opts: ReadLogsOptions): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(opts)) out.push(e);
  return out;
}

const logsOf = async (opts: ReadLogsOptions) => (await collect(opts)).map((e) => e.log);

test('reads entries with stream, time and nanos', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: clock() });
  writeLines(w, 0, 3);
  w.close();
  const got = await collect({ path, maxFiles: 1 });
  assert.deepEqual(got, [
    { stream: 'stderr', time: '2023-11-14T22:13:20.000000042Z', timeNanos: BASE + 42n, log: 'line 0\n' },
    { stream: 'stdout', time: '2023-11-14T22:13:21.000000042Z', timeNanos: BASE + 1_000_000_042n, log: 'line 1\n' },
    { stream: 'stdout', time: '2023-11-14T22:13:22.000000042Z', timeNanos: BASE + 2_000_000_042n, log: 'line 2\n' },
  ]);
});

test('skips a torn final line and unparsable lines; a missing file reads as empty', async (t) => {
  const path = tempLog(t);
  assert.deepEqual(await logsOf({ path, maxFiles: 3 }), []);
  const w = new JsonLogWriter({ path, now: clock() });
  writeLines(w, 0, 2);
  w.close();
  appendFileSync(path, '{"log":"half');
  assert.deepEqual(await logsOf({ path, maxFiles: 1 }), range(0, 2));
  assert.deepEqual(await logsOf({ path, maxFiles: 1, tail: 1 }), range(1, 2));
  appendFileSync(path, '\ngarbage\n');
  assert.deepEqual(await logsOf({ path, maxFiles: 1 }), range(0, 2));
});

test('rotated files (max-file 3) read back oldest first with every line in order', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 1000, maxFiles: 3, now: clock() });
  writeLines(w, 0, 30); // ~2.2 KB: spread over all three files, nothing dropped
  w.close();
  assert.deepEqual(await logsOf({ path, maxFiles: 3 }), range(0, 30));

  const w2 = new JsonLogWriter({ path, maxSize: 1000, maxFiles: 3, now: clock() });
  writeLines(w2, 30, 100);
  w2.close();
  const got = await logsOf({ path, maxFiles: 3 });
  const first = Number(got[0]!.slice(5, -1));
  assert.ok(first > 30);
  assert.deepEqual(got, range(first, 100));
});

test('tail counts from the end across rotated files', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 1000, maxFiles: 3, now: clock() });
  writeLines(w, 0, 30);
  w.write('stdout', Buffer.from('line 30\n'));
  w.close();
  // The current file holds only a few lines, so these tails reach into .1 and .2.
  assert.deepEqual(await logsOf({ path, maxFiles: 3, tail: 5 }), range(26, 31));
  assert.deepEqual(await logsOf({ path, maxFiles: 3, tail: 20 }), range(11, 31));
  assert.deepEqual(await logsOf({ path, maxFiles: 3, tail: 1000 }), range(0, 31));
  assert.deepEqual(await logsOf({ path, maxFiles: 3, tail: 0 }), []);
  assert.deepEqual(await logsOf({ path, maxFiles: 3, tail: -1 }), range(0, 31));
});

test('tail works with lines longer than the read chunk', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: clock() });
  const big = 'x'.repeat(16_000) + '\n';
  for (let i = 0; i < 10; i++) w.write('stdout', Buffer.from(`${i}${big}`));
  w.close();
  assert.deepEqual(await logsOf({ path, maxFiles: 1, tail: 6 }), [4, 5, 6, 7, 8, 9].map((i) => `${i}${big}`));
});

test('since and until filter inclusively by entry time', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 600, maxFiles: 5, now: clock() });
  writeLines(w, 0, 20);
  w.close();
  const at = (i: number) => BASE + BigInt(i) * 1_000_000_000n + 42n;
  assert.deepEqual(await logsOf({ path, maxFiles: 5, sinceNanos: at(15) }), range(15, 20));
  assert.deepEqual(await logsOf({ path, maxFiles: 5, untilNanos: at(3) }), range(0, 4));
  assert.deepEqual(await logsOf({ path, maxFiles: 5, sinceNanos: at(5) - 1n, untilNanos: at(7) + 1n }), range(5, 8));
  // Tail is taken first, then filtered (as Docker does).
  assert.deepEqual(await logsOf({ path, maxFiles: 5, tail: 3, sinceNanos: at(18) }), range(18, 20));
});

/** Starts a follow reader in the background (aborted when the test ends); `entries` fills as it reads. */
function follow(t: TestContext, opts: ReadLogsOptions) {
  const entries: string[] = [];
  const ac = new AbortController();
  t.after(() => ac.abort());
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  const done = (async () => {
    for await (const e of readLogs({ pollMs: 5, ...opts, signal, follow: true })) entries.push(e.log);
  })();
  const waitFor = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (entries.length < n) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${n} entries, have ${entries.length}`);
      await sleep(2);
    }
  };
  return { entries, done, waitFor };
}

test('follow picks up appended lines, waits for a torn line and stops after the container exits', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: clock() });
  writeLines(w, 0, 2);
  let running = true;
  const f = follow(t, { path, maxFiles: 1, isRunning: () => running });
  await f.waitFor(2);
  writeLines(w, 2, 4);
  await f.waitFor(4);

  const line = `{"log":"torn\\n","stream":"stdout","time":"2023-11-14T22:13:20.5Z"}\n`;
  appendFileSync(path, line.slice(0, 20));
  await sleep(30);
  assert.equal(f.entries.length, 4);
  appendFileSync(path, line.slice(20));
  await f.waitFor(5);

  writeLines(w, 4, 6);
  running = false; // written before the exit was noticed, so it must still be read
  await f.done;
  w.close();
  assert.deepEqual(f.entries, [...range(0, 4), 'torn\n', ...range(4, 6)]);
});

test('follow survives rotations without losing or duplicating a line', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 400, maxFiles: 3, now: clock() });
  writeLines(w, 0, 3);
  let running = true;
  const f = follow(t, { path, maxFiles: 3, isRunning: () => running });
  await f.waitFor(3);
  // Batches of ~7 lines rotate about once each (~60 bytes per entry).
  for (let i = 3; i < 150; i += 7) {
    writeLines(w, i, Math.min(i + 7, 150));
    await f.waitFor(Math.min(i + 7, 150));
  }
  // Two rotations before the reader polls again: it must walk through path.1.
  running = false;
  writeLines(w, 150, 163);
  w.close();
  await f.done;
  assert.deepEqual(f.entries, range(0, 163));
});

test('follow with tail starts at the last lines, then follows', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 400, maxFiles: 3, now: clock() });
  writeLines(w, 0, 10);
  appendFileSync(path, '{"log":"par');
  let running = true;
  const f = follow(t, { path, maxFiles: 3, tail: 2, isRunning: () => running });
  await f.waitFor(2);
  appendFileSync(path, `tial\\n","stream":"stdout","time":"2023-11-14T22:13:30.1Z"}\n`);
  await f.waitFor(3);
  writeLines(w, 10, 12);
  running = false;
  await f.done;
  w.close();
  assert.deepEqual(f.entries, [...range(8, 10), 'partial\n', ...range(10, 12)]);
});

test('follow handles truncation with max-file 1', async (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 250, maxFiles: 1, now: clock() }); // ~70 bytes per entry
  writeLines(w, 0, 3);
  let running = true;
  const f = follow(t, { path, maxFiles: 1, isRunning: () => running });
  await f.waitFor(3);
  writeLines(w, 3, 4); // truncates, the file now holds only line 3
  await f.waitFor(4);
  running = false;
  await f.done;
  w.close();
  assert.deepEqual(f.entries, range(0, 4));
});

test('follow returns quietly when the signal aborts', async (t) => {
  const path = tempLog(t);
  writeFileSync(path, '');
  const ac = new AbortController();
  const f = follow(t, { path, maxFiles: 1, signal: ac.signal, pollMs: 1000 });
  await sleep(20);
  ac.abort();
  await f.done;
  assert.deepEqual(f.entries, []);
});

test('follow ends once the until time has passed', async (t) => {
  const path = tempLog(t);
  writeFileSync(path, '');
  const f = follow(t, { path, maxFiles: 1, untilNanos: BigInt(Date.now() + 30) * 1_000_000n });
  await f.done;
});

test('parseRFC3339Nano', () => {
  assert.equal(parseRFC3339Nano('2023-11-14T22:13:20Z'), BASE);
  assert.equal(parseRFC3339Nano('2023-11-14T22:13:20.123456789Z'), BASE + 123_456_789n);
  assert.equal(parseRFC3339Nano('2023-11-14T22:13:20.5Z'), BASE + 500_000_000n);
  assert.equal(parseRFC3339Nano('2023-11-15T00:13:20.000000001+02:00'), BASE + 1n);
  assert.equal(parseRFC3339Nano('2023-11-14T21:43:20-00:30'), BASE);
  assert.throws(() => parseRFC3339Nano('2023-11-14T22:13:20'), /invalid RFC3339/);
  assert.throws(() => parseRFC3339Nano('2023-13-14T22:13:20Z'), /invalid RFC3339/);
  assert.throws(() => parseRFC3339Nano('yesterday'), /invalid RFC3339/);
});

test('parseDockerTimestamp accepts unix seconds, RFC3339 and durations', () => {
  const now = new Date(Number(BASE / 1_000_000n));
  assert.equal(parseDockerTimestamp('1700000000'), BASE);
  assert.equal(parseDockerTimestamp('1700000000.123456789'), BASE + 123_456_789n);
  assert.equal(parseDockerTimestamp('1700000000.5'), BASE + 500_000_000n);
  assert.equal(parseDockerTimestamp('0'), 0n);
  assert.equal(parseDockerTimestamp('2023-11-14T22:13:20Z'), BASE);
  assert.equal(parseDockerTimestamp('2023-11-14T22:13:20.000000007Z'), BASE + 7n);
  assert.equal(parseDockerTimestamp('2023-11-14T23:13:20+01:00'), BASE);
  assert.equal(parseDockerTimestamp('2023-11-14T22:13Z'), BASE - 20_000_000_000n);
  assert.equal(
    parseDockerTimestamp('2023-11-14T22:13:20'),
    BigInt(new Date(2023, 10, 14, 22, 13, 20).getTime()) * 1_000_000n,
  );
  assert.equal(parseDockerTimestamp('2023-11-14'), BigInt(new Date(2023, 10, 14).getTime()) * 1_000_000n);
  const s = 1_000_000_000n;
  assert.equal(parseDockerTimestamp('5s', now), BASE - 5n * s);
  assert.equal(parseDockerTimestamp('10m', now), BASE - 600n * s);
  assert.equal(parseDockerTimestamp('1h30m', now), BASE - 5400n * s);
  assert.equal(parseDockerTimestamp('1.5h', now), BASE - 5400n * s);
  assert.equal(parseDockerTimestamp('250ms', now), BASE - 250_000_000n);
  assert.equal(parseDockerTimestamp('-1m', now), BASE + 60n * s);
  const before = BigInt(Date.now()) * 1_000_000n;
  const rel = parseDockerTimestamp('1m');
  assert.ok(rel <= before - 60n * s + 1_000_000_000n && rel >= before - 61n * s);
  for (const bad of ['', 'soon', '10x', '1h30', '2023-11-14T25:00:00Z', '1700000000.']) {
    assert.throws(() => parseDockerTimestamp(bad), /invalid timestamp/, bad);
  }
});

test('rotated files are found by listing the directory: oldest first, only .N below max-file, other names ignored', (t) => {
  const path = tempLog(t);
  for (const suffix of ['', '.1', '.2', '.4', '.10', '.01', '.x', '.2.tmp']) writeFileSync(`${path}${suffix}`, '');
  writeFileSync(join(path, '..', 'other-json.log.1'), '');
  assert.deepEqual(rotatedFiles(path, 5), [`${path}.4`, `${path}.2`, `${path}.1`]);
  assert.deepEqual(rotatedFiles(path, 100), [`${path}.10`, `${path}.4`, `${path}.2`, `${path}.1`]);
  assert.deepEqual(rotatedFiles(path, 1), []);
  assert.deepEqual(rotatedFiles(join(path, '..', 'missing', 'x.log'), 5), []);
});

test('filtering a long log out by since yields to the event loop while it reads', async (t) => {
  const path = tempLog(t);
  writeFileSync(path, Array.from({ length: 50_000 }, (_, i) => `{"log":"line ${i}\\n","stream":"stdout","time":"2023-11-14T22:13:20.000000000Z"}\n`).join(''));
  let turns = 0;
  let reading = true;
  const tick = () => {
    if (!reading) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const got = await logsOf({ path, maxFiles: 1, sinceNanos: BigInt(Date.now()) * 1_000_000n });
  reading = false;
  assert.deepEqual(got, []);
  assert.ok(turns >= 10, `the event loop turned ${turns} times while 50,000 lines were skipped`);
});
