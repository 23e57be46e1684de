import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, familiarTagged, normalizeReference, parseReference } from './reference.ts';
import { registryEndpoint } from '../images/registry/endpoint.ts';

test('references parse as Docker parses them: docker.io/library for short names, a host when the first part looks like one', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('docker.io/library/busybox:1.36'), { domain: 'docker.io', path: 'library/busybox', tag: '1.36' });
  assert.deepEqual(parseReference('index.docker.io/user/app'), { domain: 'docker.io', path: 'user/app' });
  assert.deepEqual(parseReference('127.0.0.1:5000/team/app:v2'), { domain: '127.0.0.1:5000', path: 'team/app', tag: 'v2' });
  assert.deepEqual(parseReference('localhost/app'), { domain: 'localhost', path: 'app' });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseReference(`reg.example:443/app@${digest}`), { domain: 'reg.example:443', path: 'app', digest });
  assert.equal(familiarName(parseReference('docker.io/library/busybox')), 'busybox');
  assert.equal(familiarName(parseReference('user/app')), 'user/app');
  assert.equal(familiarTagged(parseReference('127.0.0.1:5000/app')), '127.0.0.1:5000/app:latest');
  assert.equal(normalizeReference('docker.io/library/busybox'), 'busybox:latest');
});

test('bad references are refused with Docker\'s message', () => {
  for (const bad of ['', 'UPPER', 'a//b', 'app:', 'app:-bad', '-app', `app@sha256:${'z'.repeat(64)}`, 'app@md5:abc', 'a'.repeat(300)]) {
    assert.throws(() => parseReference(bad), (err: Error & { kind?: string }) => err.kind === 'InvalidArgument' && /invalid reference format/.test(err.message), bad);
  }
  assert.throws(() => normalizeReference(`app@sha256:${'a'.repeat(64)}`), /cannot be used as a tag/);
});

test('loopback registries and the configured insecure ones are reached over HTTP; the rest over HTTPS', () => {
  assert.deepEqual(registryEndpoint('127.0.0.1:5000', []), { host: '127.0.0.1:5000', insecure: true });
  assert.deepEqual(registryEndpoint('localhost:5000', []), { host: 'localhost:5000', insecure: true });
  assert.deepEqual(registryEndpoint('docker.io', []), { host: 'registry-1.docker.io', insecure: false });
  assert.equal(registryEndpoint('reg.internal:5000', []).insecure, false);
  assert.equal(registryEndpoint('reg.internal:5000', ['reg.internal:5000']).insecure, true);
  assert.equal(registryEndpoint('10.1.2.3:5000', ['10.0.0.0/8']).insecure, true);
  assert.equal(registryEndpoint('11.1.2.3:5000', ['10.0.0.0/8']).insecure, false);
});
