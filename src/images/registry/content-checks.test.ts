import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { checkDigest, checkReference, checkRepository, digestOf, manifestMediaType, verifiedBytes } from './content-checks.ts';

const HEX64 = 'a'.repeat(64);

test('repository names follow the reference grammar, without a domain', () => {
  for (const ok of ['busybox', 'library/busybox', 'a/b-c/d__e', 'x.y_z']) assert.doesNotThrow(() => checkRepository(ok), ok);
  for (const bad of ['', 'Busybox', 'a//b', '-a', 'a-', 'host:5000/a', `a/${'b'.repeat(255)}`]) {
    assert.throws(() => checkRepository(bad), { kind: 'InvalidArgument' }, bad);
  }
});

test('digests: sha256 and sha512 at their lengths, lowercase hex', () => {
  assert.equal(checkDigest(`sha256:${HEX64}`), 'sha256');
  assert.equal(checkDigest(`sha512:${'0'.repeat(128)}`), 'sha512');
  assert.throws(() => checkDigest(`md5:${'0'.repeat(32)}`), /unsupported digest algorithm/);
  assert.throws(() => checkDigest(`sha256:${'A'.repeat(64)}`), /invalid digest/);
  assert.throws(() => checkDigest(`sha256:${'a'.repeat(63)}`), /invalid digest/);
  assert.throws(() => checkDigest('sha256'), /invalid digest/);
});

test('a reference is a tag or a digest', () => {
  assert.equal(checkReference('latest'), false);
  assert.equal(checkReference(`sha256:${HEX64}`), true);
  assert.throws(() => checkReference('.hidden'), /invalid tag/);
  assert.throws(() => checkReference('t'.repeat(129)), /invalid tag/);
});

test('the media type comes from the header unless it is generic', () => {
  assert.equal(manifestMediaType('application/vnd.oci.image.index.v1+json; charset=utf-8', Buffer.from('{}')), 'application/vnd.oci.image.index.v1+json');
  assert.equal(manifestMediaType('application/json', Buffer.from('{"mediaType":"m"}')), 'm');
  assert.equal(manifestMediaType(null, Buffer.from('{"schemaVersion":1}')), 'application/vnd.docker.distribution.manifest.v1+json');
  assert.equal(manifestMediaType(null, Buffer.from('not json')), 'application/octet-stream');
});

test('verifiedBytes passes matching content and fails a mismatch or a wrong length', async () => {
  const body = Buffer.from('hello');
  const digest = digestOf('sha256', body);
  const read = (size: number | undefined, d = digest) => Readable.from(verifiedBytes(Readable.from([body]), d, 'sha256', size, 'reading')).toArray();
  assert.deepEqual(Buffer.concat(await read(5)), body);
  await assert.rejects(read(4), /more than the expected 4 bytes/);
  await assert.rejects(read(6), /received 5 bytes, expected 6/);
  await assert.rejects(read(undefined, `sha256:${HEX64}`), /failed verification/);
});
