/**
 * Token requests go to the token service with the registry's own TLS settings (certs.d CAs and
 * client certificate), and credentials are never sent to a plain-HTTP token service named by
 * a registry that is reached over HTTPS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newDaemon, TestDaemon } from '../integration/harness.ts';
import { startRegistry } from '../integration/registry.ts';
import { RegistryClient } from '../../src/images/registry/registry-client.ts';
import { EngineError } from '../../src/protocol/errors.ts';

function registryAuth(username: string, password: string): string {
  return Buffer.from(JSON.stringify({ username, password })).toString('base64url');
}

test('a token service that requires the client certificate gets it, and its certificate is checked against the registry CA', async (t) => {
  const registry = await startRegistry({ tls: true, clientCertificates: true, auth: 'token' });
  t.after(() => registry.stop());
  // Verified TLS (insecure: false): the CA must be trusted for the token service too, not only the registry.
  const client = new RegistryClient({
    host: registry.host,
    insecure: false,
    tls: { ca: [registry.certificate!], cert: registry.client!.cert, key: registry.client!.key },
    credentials: { username: registry.username!, password: registry.password! },
  });
  await client.ping();
  assert.ok(registry.tokenRequests.some((r) => r.authorization?.startsWith('Basic ')), 'the credentials reached the token service over the mutual-TLS connection');
});

test('berthd: with the client certificate in certs.d, login, push and pull work against a registry whose token service wants it', async (t) => {
  const certs = mkdtempSync('/tmp/berth-certs-');
  t.after(() => rmSync(certs, { recursive: true, force: true }));
  const registry = await startRegistry({ tls: true, clientCertificates: true, auth: 'token' });
  t.after(() => registry.stop());
  const daemon = new TestDaemon(mkdtempSync('/tmp/bt-'), { env: { BERTH_CERTS_DIR: certs } });
  t.after(() => daemon.cleanup());
  mkdirSync(join(certs, registry.host));
  writeFileSync(join(certs, registry.host, 'client.cert'), registry.client!.cert);
  writeFileSync(join(certs, registry.host, 'client.key'), registry.client!.key);
  await daemon.start();

  const { Status } = await daemon.client.login({ username: registry.username!, password: registry.password!, serveraddress: registry.host });
  assert.equal(Status, 'Login Succeeded');
  const auth = registryAuth(registry.username!, registry.password!);
  const ref = `${registry.host}/mtls/busybox`;
  await daemon.importBusybox(`${ref}:1`);
  await daemon.client.pushImage(ref, '1', auth);
  await daemon.client.removeImage(`${ref}:1`);
  await daemon.client.pullImage(ref, '1', { auth });
  const run = await daemon.cli(['run', '--rm', `${ref}:1`, 'echo', 'token-over-mtls']);
  assert.equal(run.stdout, 'token-over-mtls\n', run.stderr);
});

test('an http:// token realm named by an HTTPS registry is refused: no credentials are sent in cleartext', async (t) => {
  const registry = await startRegistry({ tls: true, auth: 'token', tokenRealm: 'http' });
  t.after(() => registry.stop());
  const daemon = newDaemon(t);
  await daemon.start();
  await assert.rejects(
    daemon.client.login({ username: registry.username!, password: registry.password!, serveraddress: registry.host }),
    (err: unknown) => {
      assert.match((err as Error).message, /token service .*http:\/\/127\.0\.0\.1:\d+\/token.* plain HTTP/);
      return true;
    },
  );
  const client = new RegistryClient({ host: registry.host, insecure: true, credentials: { identitytoken: registry.identitytoken! } });
  await assert.rejects(client.ping(), (err: unknown) => EngineError.is(err) && /plain HTTP/.test(err.message));
  assert.deepEqual(registry.tokenRequests, [], 'the token service received nothing: no password, no refresh token');
});
