import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiTimestamp, parseDuration, parseRFC3339, parseTimestamp, parseUnixTimestamp } from './timestamps.ts';

process.env.TZ = 'UTC';

test('parseUnixTimestamp is timetypes.ParseTimestamps: seconds and up to nine fraction digits', () => {
  assert.equal(parseUnixTimestamp('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseUnixTimestamp('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.equal(parseUnixTimestamp('1.5'), 1_500_000_000n);
  for (const bad of ['', '1.', '-1', '1e9', '10m']) assert.equal(parseUnixTimestamp(bad), undefined, bad);
});

test('parseDuration is Go time.ParseDuration, exact to the nanosecond', () => {
  assert.equal(parseDuration('0'), 0n);
  assert.equal(parseDuration('1.000000001s'), 1_000_000_001n);
  assert.equal(parseDuration('1h0.5m'), 3_630_000_000_000n);
  assert.equal(parseDuration('-1µs'), -1000n);
  for (const bad of ['', '10', '1h30', 'm', '1d']) assert.equal(parseDuration(bad), undefined, bad);
});

test('dates: RFC3339 needs seconds and a zone; since/until take dates alone and refuse days that do not exist', () => {
  assert.equal(parseRFC3339('1970-01-01T00:00:01.5Z'), 1_500_000_000n);
  assert.equal(parseRFC3339('1970-01-01T00:00:01'), undefined);
  assert.equal(parseTimestamp('1970-01-02'), 86_400_000_000_000n);
  assert.equal(parseTimestamp('2023-02-30'), undefined);
  assert.equal(parseTimestamp(' 5 '), 5_000_000_000n);
});

test('apiTimestamp is the CLI GetTimestamp: floor seconds before 1970, Go messages for bad dates', () => {
  assert.equal(apiTimestamp('1969-12-31T23:59:59.5Z'), '-1.500000000');
  assert.equal(apiTimestamp('1s', new Date(1500)), '0');
  assert.throws(() => apiTimestamp('2023-02-30'), /parsing time "2023-02-30": out of range/);
  assert.throws(() => apiTimestamp('2023-1-1'), /parsing time "2023-1-1": cannot parse as RFC3339/);
});
