import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../protocol/errors.ts';
import type { ImageRecord } from '../../protocol/records.ts';
import { imageMatcher, parseUntil, referenceMatcher } from './image-filters.ts';

test('until: unix seconds, a date, or a duration back from now; anything else is refused', () => {
  assert.equal(parseUntil('1700000000'), 1_700_000_000_000);
  assert.equal(parseUntil('2024-01-01T00:00:00Z'), Date.parse('2024-01-01T00:00:00Z'));
  assert.equal(parseUntil('2h', 10_000_000), 10_000_000 - 7_200_000);
  assert.throws(() => parseUntil('soon'), (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument');
});

test('reference: a glob on name:tag or on the name alone', () => {
  const matches = referenceMatcher(new Map([['reference', ['busy*']]]))!;
  assert.equal(matches('busybox:latest'), true);
  assert.equal(matches('library/busybox:latest'), false);
  assert.equal(referenceMatcher(new Map()), undefined);
});

test('dangling and label filters', () => {
  const image = (repoTags: string[], labels: Record<string, string>) => ({ repoTags, created: '2024-01-01T00:00:00Z', config: { Labels: labels } }) as unknown as ImageRecord;
  const never = () => 0;
  assert.equal(imageMatcher(new Map([['dangling', ['true']]]), never)(image([], {})), true);
  assert.equal(imageMatcher(new Map([['dangling', ['true']]]), never)(image(['a:1'], {})), false);
  assert.equal(imageMatcher(new Map([['label', ['tier=web']]]), never)(image([], { tier: 'web' })), true);
  assert.equal(imageMatcher(new Map([['label', ['tier']]]), never)(image([], {})), false);
  assert.throws(() => imageMatcher(new Map([['dangling', ['maybe']]]), never));
});
