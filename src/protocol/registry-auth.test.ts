import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegistryAuth, encodeRegistryAuth } from './registry-auth.ts';

test('X-Registry-Auth round-trips the credentials; serveraddress is not one of them', () => {
  const header = encodeRegistryAuth({ username: 'u', password: 'p+/?', serveraddress: 'r.example' });
  assert.doesNotMatch(header, /[+/=]/);
  assert.deepEqual(decodeRegistryAuth(header), { username: 'u', password: 'p+/?' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from('{"identitytoken":"t"}').toString('base64')), { identitytoken: 't' });
});

test('an empty header or one without credentials carries none; garbage is refused', () => {
  assert.equal(decodeRegistryAuth(undefined), undefined);
  assert.equal(decodeRegistryAuth(' '), undefined);
  assert.equal(decodeRegistryAuth(encodeRegistryAuth({})), undefined);
  assert.equal(decodeRegistryAuth(encodeRegistryAuth({ username: '', serveraddress: 'x' })), undefined);
  assert.throws(() => decodeRegistryAuth('not json'), { kind: 'InvalidArgument' });
});
