import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJsonLogEntry, encodeJsonLogEntry, jsonLogFileName, parseLogOpts, rotatedLogIndex, rotatedLogPath } from './json-file-log.ts';

test('parseLogOpts accepts Docker sizes and counts', () => {
  assert.deepEqual(parseLogOpts({}), { maxSize: 0, maxFiles: 1 });
  assert.deepEqual(parseLogOpts({ 'max-size': '1024' }), { maxSize: 1024, maxFiles: 1 });
  assert.equal(parseLogOpts({ 'max-size': '1t' }).maxSize, 1024 ** 4);
  assert.deepEqual(parseLogOpts({ 'max-size': '1k', 'max-file': '3' }), { maxSize: 1024, maxFiles: 3 });
  assert.equal(parseLogOpts({ 'max-size': '10m' }).maxSize, 10 * 1024 * 1024);
  assert.equal(parseLogOpts({ 'max-size': '2g' }).maxSize, 2 * 1024 ** 3);
  assert.equal(parseLogOpts({ 'max-size': '10MB' }).maxSize, 10 * 1024 * 1024);
  assert.equal(parseLogOpts({ 'max-size': '1.5k' }).maxSize, 1536);
  assert.deepEqual(parseLogOpts({ compress: 'false' }), { maxSize: 0, maxFiles: 1 });
});

test('parseLogOpts rejects bad values and unknown keys', () => {
  assert.throws(() => parseLogOpts({ 'max-file': '3000000' }), /invalid max-file "3000000": must be an integer from 1 to 100/);
  assert.throws(() => parseLogOpts({ 'max-file': '101' }), /invalid max-file/);
  assert.throws(() => parseLogOpts({ 'max-size': '512' }), /invalid max-size "512": must be a size from 1k to 1t/);
  assert.throws(() => parseLogOpts({ 'max-size': '2t' }), /invalid max-size/);
  assert.equal(parseLogOpts({ 'max-file': '100' }).maxFiles, 100);
  assert.throws(() => parseLogOpts({ 'max-size': 'ten' }), /invalid max-size "ten"/);
  assert.throws(() => parseLogOpts({ 'max-size': '0' }), /invalid max-size/);
  assert.throws(() => parseLogOpts({ 'max-size': '-1' }), /invalid max-size/);
  assert.throws(() => parseLogOpts({ 'max-size': '10x' }), /invalid max-size/);
  assert.throws(() => parseLogOpts({ 'max-file': '0' }), /invalid max-file "0"/);
  assert.throws(() => parseLogOpts({ 'max-file': '2.5' }), /invalid max-file/);
  assert.throws(() => parseLogOpts({ 'max-file': 'x' }), /invalid max-file/);
  assert.throws(() => parseLogOpts({ compress: 'true' }), /not supported/);
  assert.throws(() => parseLogOpts({ compress: 'maybe' }), /invalid compress/);
  assert.throws(() => parseLogOpts({ 'max-sise': '1m' }), /unknown log opt 'max-sise'/);
});

test('an entry is one line in Docker\'s key order and reads back', () => {
  const entry = { log: 'hi "there"\n', stream: 'stderr' as const, time: '2026-11-22T05:28:00.123456789Z' };
  const line = encodeJsonLogEntry(entry);
  assert.equal(line, '{"log":"hi \\"there\\"\\n","stream":"stderr","time":"2026-11-22T05:28:00.123456789Z"}\n');
  assert.deepEqual(decodeJsonLogEntry(Buffer.from(line.slice(0, -1))), entry);
});

test('torn and foreign lines decode to nothing', () => {
  assert.equal(decodeJsonLogEntry('{"log":"x","stream":"stdout","ti'), undefined);
  assert.equal(decodeJsonLogEntry('null'), undefined);
  assert.equal(decodeJsonLogEntry('{"log":"x","stream":"stdin","time":"t"}'), undefined);
  assert.equal(decodeJsonLogEntry('{"log":1,"stream":"stdout","time":"t"}'), undefined);
  assert.equal(decodeJsonLogEntry('{"log":"x","stream":"stdout"}'), undefined);
});

test('file names: <id>-json.log, rotated as .1 … .N', () => {
  assert.equal(jsonLogFileName('abc'), 'abc-json.log');
  assert.equal(rotatedLogPath('/c/abc-json.log', 3), '/c/abc-json.log.3');
  assert.equal(rotatedLogIndex('abc-json.log.12', 'abc-json.log'), 12);
  for (const name of ['abc-json.log', 'abc-json.log.0', 'abc-json.log.01', 'abc-json.log.1.tmp', 'other-json.log.1', '.abc-json.log.1']) {
    assert.equal(rotatedLogIndex(name, 'abc-json.log'), undefined, name);
  }
});
