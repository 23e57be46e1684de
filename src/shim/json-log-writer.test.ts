import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogWriter, nowRFC3339Nano } from './json-log-writer.ts';

const TIME = '2026-11-22T05:28:00.123456789Z';

function tempLog(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-jsonlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'container-json.log');
}

function entries(file: string): { log: string; stream: string; time: string }[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'));
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const logs = (file: string) => entries(file).map((e) => e.log);

test('splits lines across chunks and writes Docker json-file entries', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  w.write('stdout', Buffer.from('hel'));
  w.write('stdout', Buffer.from('lo\nwor'));
  w.write('stdout', Buffer.from('ld\n\nlast\n'));
  w.close();
  assert.deepEqual(logs(path), ['hello\n', 'world\n', '\n', 'last\n']);
  assert.equal(
    readFileSync(path, 'utf8').split('\n')[0],
    `{"log":"hello\\n","stream":"stdout","time":"${TIME}"}`,
  );
});

test('flush emits a pending partial line without newline; close flushes too', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  w.write('stdout', Buffer.from('no newline'));
  assert.deepEqual(logs(path), []);
  w.flush('stdout');
  w.write('stderr', Buffer.from('tail'));
  w.close();
  w.write('stdout', Buffer.from('ignored after close\n'));
  assert.deepEqual(entries(path).map((e) => [e.stream, e.log]), [
    ['stdout', 'no newline'],
    ['stderr', 'tail'],
  ]);
});

test('a line longer than 16 KiB is split into 16 KiB partial entries', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  const long = 'a'.repeat(40_000);
  for (let i = 0; i < long.length; i += 1000) w.write('stdout', Buffer.from(long.slice(i, i + 1000)));
  w.write('stdout', Buffer.from('\n' + 'b'.repeat(16 * 1024) + '\n'));
  w.close();
  const got = logs(path);
  assert.deepEqual(got.map((l) => l.length), [16384, 16384, 40_000 - 32768 + 1, 16385]);
  assert.equal(got.join(''), long + '\n' + 'b'.repeat(16 * 1024) + '\n');
});

test('the 16 KiB split never tears a UTF-8 character', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  const text = 'a'.repeat(16383) + 'é'.repeat(10) + '\n';
  w.write('stdout', Buffer.from(text));
  w.close();
  const got = logs(path);
  assert.equal(got.length, 2);
  assert.equal(got[0], 'a'.repeat(16383));
  assert.equal(got.join(''), text);
});

test('stdout and stderr keep separate partial lines', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  w.write('stdout', Buffer.from('out-a'));
  w.write('stderr', Buffer.from('err-1\nerr'));
  w.write('stdout', Buffer.from('-b\n'));
  w.write('stderr', Buffer.from('-2\n'));
  w.close();
  assert.deepEqual(entries(path).map((e) => [e.stream, e.log]), [
    ['stderr', 'err-1\n'],
    ['stdout', 'out-a-b\n'],
    ['stderr', 'err-2\n'],
  ]);
});

test('invalid UTF-8 is written as replacement characters', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, now: () => TIME });
  w.write('stdout', Buffer.from([0x66, 0xff, 0x6f, 0x0a]));
  w.close();
  assert.deepEqual(logs(path), ['f\ufffdo\n']);
});

test('rotates with max-file 3: renames path -> .1 -> .2 and drops the oldest', (t) => {
  const path = tempLog(t);
  const maxSize = 500;
  const w = new JsonLogWriter({ path, maxSize, maxFiles: 3, now: () => TIME });
  for (let i = 0; i < 40; i++) w.write('stdout', Buffer.from(`line ${String(i).padStart(3, '0')}\n`));
  w.close();
  assert.ok(!existsSync(`${path}.3`));
  const files = [`${path}.2`, `${path}.1`, path];
  for (const f of files) assert.ok(statSync(f).size <= maxSize, `${f} exceeds max-size`);
  const all = files.flatMap(logs);
  const first = Number(all[0]!.slice(5, 8));
  assert.ok(first > 0, 'oldest lines were dropped');
  assert.deepEqual(all, Array.from({ length: 40 - first }, (_, i) => `line ${String(first + i).padStart(3, '0')}\n`));
});

test('with max-file 1 the file is truncated instead of rotated', (t) => {
  const path = tempLog(t);
  const w = new JsonLogWriter({ path, maxSize: 200, maxFiles: 1, now: () => TIME });
  for (let i = 0; i < 10; i++) w.write('stdout', Buffer.from(`line ${i}\n`));
  w.close();
  assert.ok(!existsSync(`${path}.1`));
  assert.ok(statSync(path).size <= 200);
  assert.equal(logs(path).at(-1), 'line 9\n');
});

test('appends to an existing file and counts its size for rotation', (t) => {
  const path = tempLog(t);
  writeFileSync(path, `{"log":"old\\n","stream":"stdout","time":"${TIME}"}\n`);
  const w = new JsonLogWriter({ path, maxSize: 80, maxFiles: 2, now: () => TIME });
  w.write('stdout', Buffer.from('new\n'));
  w.close();
  assert.deepEqual(logs(`${path}.1`), ['old\n']);
  assert.deepEqual(logs(path), ['new\n']);
});

test('nowRFC3339Nano is UTC with 9 fractional digits and tracks the wall clock', () => {
  const s = nowRFC3339Nano();
  assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
  assert.ok(Math.abs(Date.parse(s) - Date.now()) < 1000);
  assert.ok(nowRFC3339Nano() >= s);
});

test('a line that cannot be written (ENOSPC) is dropped and counted, never thrown; the next one tries again', (t) => {
  // /dev/full answers every write with ENOSPC, as a full disk does.
  const errors: Array<string | undefined> = [];
  const w = new JsonLogWriter({ path: '/dev/full', now: () => TIME, onWriteError: (err) => errors.push(err?.code) });
  w.write('stdout', Buffer.from('one\ntwo\n'));
  w.write('stderr', Buffer.from('three\n'));
  w.flush();
  assert.deepEqual(w.stats(), { droppedLines: 3, failing: 'ENOSPC: no space left on device, write' });
  assert.deepEqual(errors, ['ENOSPC', 'ENOSPC', 'ENOSPC']);
  w.close();
});
