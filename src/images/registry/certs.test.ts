import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryTls } from './certs.ts';

test('certs.d: CAs from *.crt, a client certificate from a .cert/.key pair; a .cert without its key is an error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(registryTls('reg.example:5000', dir), undefined);
  mkdirSync(join(dir, 'reg.example:5000'));
  writeFileSync(join(dir, 'reg.example:5000', 'ca.crt'), 'CA-1');
  writeFileSync(join(dir, 'reg.example:5000', 'other.crt'), 'CA-2');
  assert.deepEqual(registryTls('reg.example:5000', dir), { ca: ['CA-1', 'CA-2'] });
  writeFileSync(join(dir, 'reg.example:5000', 'client.cert'), 'CERT');
  assert.throws(() => registryTls('reg.example:5000', dir), /missing key client\.key/);
  writeFileSync(join(dir, 'reg.example:5000', 'client.key'), 'KEY');
  assert.deepEqual(registryTls('reg.example:5000', dir), { ca: ['CA-1', 'CA-2'], cert: 'CERT', key: 'KEY' });
});
