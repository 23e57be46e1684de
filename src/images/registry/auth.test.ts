import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../protocol/errors.ts';
import { fetchToken, mergeScopes, parseWWWAuthenticate, RegistryAuth, repositoryScope } from './auth.ts';

test('parses a Docker Hub style Bearer challenge', () => {
  const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"';
  assert.deepEqual(parseWWWAuthenticate(header), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
});

test('parses distribution challenges with several scopes and an error', () => {
  const header = 'Bearer realm="http://127.0.0.1:9/token",service="reg",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"';
  const [c] = parseWWWAuthenticate(header);
  assert.equal(c?.params.scope, 'repository:a/b:pull,push repository:c:pull');
  assert.equal(c?.params.error, 'insufficient_scope');
  assert.equal(c?.params.service, 'reg');
});

test('parses Basic, lowercasing scheme and parameter names', () => {
  assert.deepEqual(parseWWWAuthenticate('BASIC Realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseWWWAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
});

test('parses several challenges in one header', () => {
  const header = 'Basic realm="basic, with comma", Bearer realm="https://x/token", service=reg ,Negotiate abc==';
  assert.deepEqual(parseWWWAuthenticate(header), [
    { scheme: 'basic', params: { realm: 'basic, with comma' } },
    { scheme: 'bearer', params: { realm: 'https://x/token', service: 'reg' } },
    { scheme: 'negotiate', params: { '': 'abc==' } },
  ]);
});

test('unescapes quoted pairs and tolerates spaces around =', () => {
  const [c] = parseWWWAuthenticate('Bearer realm = "a \\"quoted\\" \\\\ realm" , service= "s"');
  assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'a "quoted" \\ realm', service: 's' } });
});

test('accepts unquoted URL values', () => {
  const [c] = parseWWWAuthenticate('Bearer realm=https://auth.example.com:5001/token?x=1,service=example');
  assert.equal(c?.params.realm, 'https://auth.example.com:5001/token?x=1');
  assert.equal(c?.params.service, 'example');
});

test('survives garbage and empty input', () => {
  assert.deepEqual(parseWWWAuthenticate(''), []);
  assert.deepEqual(parseWWWAuthenticate(' , ,'), []);
  assert.deepEqual(parseWWWAuthenticate('=foo'), []);
  // An unterminated quote keeps what is there.
  assert.deepEqual(parseWWWAuthenticate('Bearer realm="https://x/token'), [{ scheme: 'bearer', params: { realm: 'https://x/token' } }]);
});

test('repositoryScope and mergeScopes', () => {
  assert.equal(repositoryScope('library/busybox', ['pull', 'push']), 'repository:library/busybox:pull,push');
  assert.deepEqual(mergeScopes(['repository:a:push', 'repository:a:pull', 'repository:b:pull repository:a:pull']), ['repository:a:pull,push', 'repository:b:pull']);
  assert.deepEqual(mergeScopes([]), []);
  assert.deepEqual(mergeScopes(['registry:catalog:*']), ['registry:catalog:*']);
  // Registry names with a port keep their colon in the resource part.
  assert.deepEqual(mergeScopes(['repository:localhost:5000/x:pull']), ['repository:localhost:5000/x:pull']);
});

const HTTPS = () => ({ host: 'registry.test', https: true });

test('RegistryAuth answers challenges it can and declines the rest', async () => {
  const anonymous = new RegistryAuth(undefined, 'test', HTTPS);
  assert.equal(await anonymous.authorization([]), undefined, 'no challenge yet → no header');
  assert.equal(anonymous.setChallenge('Basic realm="r"'), false, 'Basic without credentials cannot be answered');
  assert.equal(anonymous.setChallenge(null), false);
  assert.equal(anonymous.setChallenge('Digest realm="r"'), false);

  const basic = new RegistryAuth({ username: 'u', password: 'p:w' }, 'test', HTTPS);
  assert.equal(basic.setChallenge('Basic realm="r"'), true);
  assert.equal(await basic.authorization(['repository:a:pull']), `Basic ${Buffer.from('u:p:w').toString('base64')}`);

  const bearer = new RegistryAuth(undefined, 'test', HTTPS);
  assert.equal(bearer.setChallenge('Basic realm="r", Bearer realm="http://127.0.0.1:9/token",scope="repository:a:pull repository:b:pull"'), true);
  assert.deepEqual(bearer.challengeScopes(), ['repository:a:pull', 'repository:b:pull']);

  const fixed = new RegistryAuth({ registrytoken: 'tok' }, 'test', HTTPS);
  assert.equal(await fixed.authorization([]), 'Bearer tok');
  assert.equal(fixed.setChallenge('Bearer realm="http://127.0.0.1:9/token"'), false, 'a registry token is never exchanged');
});

test('fetchToken: credentials never go to a plain HTTP token realm of a registry reached over HTTPS', async () => {
  // Port 9 (discard) on loopback: nothing listens, so a request that is not refused fails to connect.
  const realm = 'http://127.0.0.1:9/token';
  const base = { realm, scopes: ['repository:a:pull'], userAgent: 'test' };
  const refused = (err: unknown) => EngineError.is(err) && err.kind === 'FailedPrecondition' && /reached over HTTPS but names a plain HTTP token service \(http:\/\/127\.0\.0\.1:9\/token\)/.test(err.message);
  const notRefused = (err: unknown) => EngineError.is(err) && err.kind === 'Unavailable';
  await assert.rejects(fetchToken({ ...base, credentials: { username: 'u', password: 'p' }, registry: HTTPS() }), refused);
  await assert.rejects(fetchToken({ ...base, credentials: { identitytoken: 'refresh' }, registry: HTTPS() }), refused);
  // Anonymous: nothing secret to send, so the request is made (and fails here to connect).
  await assert.rejects(fetchToken({ ...base, registry: HTTPS() }), notRefused);
  // A registry on plain HTTP already sends everything in cleartext: its HTTP realm is used.
  await assert.rejects(fetchToken({ ...base, credentials: { username: 'u', password: 'p' }, registry: { host: '127.0.0.1:5000', https: false } }), notRefused);
});
