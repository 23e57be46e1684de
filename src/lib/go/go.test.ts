import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloatG, sprintf } from './fmt.ts';
import { quote, quoteRune } from './strconv.ts';
import { bytesSize, humanSize } from './units.ts';

test('strconv.Quote escapes what unicode.IsPrint refuses; QuoteRune quotes with single quotes', () => {
  assert.equal(quote('a "b" \'c\'\n'), '"a \\"b\\" \'c\'\\n"');
  assert.equal(quote('\u00a0\u200b\u{e0001}é'), '"\\u00a0\\u200b\\U000e0001é"');
  assert.equal(quoteRune(39), "'\\''");
  assert.equal(quoteRune(34), "'\"'");
  assert.equal(sprintf('%q %q', ['x\u00a0', 120]), '"x\\u00a0" \'x\'');
});

test('FormatFloat with g: precision, exponent form, sign', () => {
  assert.equal(formatFloatG(1984.132, 3), '1.98e+03');
  assert.equal(formatFloatG(0.0001234, 3), '0.000123');
  assert.equal(formatFloatG(-2.5), '-2.5');
  assert.equal(formatFloatG(1e21), '1e+21');
});

test('go-units sizes: decimal HumanSize (4 digits by default), binary BytesSize', () => {
  assert.equal(humanSize(1_500_000), '1.5MB');
  assert.equal(humanSize(1_234_567), '1.235MB');
  assert.equal(humanSize(1_234_567, 3), '1.23MB');
  assert.equal(bytesSize(1_048_576), '1MiB');
});
