import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREATE_FIELDS, isUnset, isZero, refuseUnsupportedFields, type CreateSection } from './create-fields.ts';
import { parseCreateRequest } from './create-request.ts';
import { EngineError } from '../../protocol/errors.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const facts = JSON.parse(readFileSync(join(FIXTURES, 'engine-api-1.47-create-fields.json'), 'utf8')) as { fields: Array<{ section: CreateSection; name: string; type: string }> };

test('the table says what berth does with every field of the API 1.47 create body, and lists no field the API lacks', () => {
  const missing = facts.fields.filter((f) => !(f.name in CREATE_FIELDS[f.section])).map((f) => `${f.section}.${f.name}`);
  assert.deepEqual(missing, [], 'fields of the Engine API create body with no entry in CREATE_FIELDS');
  const known = new Set(facts.fields.map((f) => `${f.section}.${f.name}`));
  const extra = Object.entries(CREATE_FIELDS).flatMap(([section, fields]) => Object.keys(fields).map((name) => `${section}.${name}`)).filter((k) => !known.has(k));
  assert.deepEqual(extra, []);
});

test("what the docker CLI (v28) sends for a plain `docker create busybox true` is accepted: all its zero values are defaults", () => {
  const body = JSON.parse(readFileSync(join(FIXTURES, 'docker-cli-28-create-body.json'), 'utf8')) as Record<string, unknown>;
  assert.doesNotThrow(() => refuseUnsupportedFields(body));
  const { hostConfig } = parseCreateRequest(body, {});
  assert.equal(hostConfig.Privileged, undefined);
  assert.equal(hostConfig.CapAdd, undefined);
});

const refusal = (field: string, kind: string) => (err: unknown) => EngineError.is(err) && err.kind === kind && err.message.includes(field);

test('a known field set to a non-default value is refused with its name; unknown keys are ignored', () => {
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { Memory: 1 << 20 } }), refusal('HostConfig.Memory', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } }), refusal('HostConfig.PortBindings', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { PidsLimit: 10 } }), refusal('PidsLimit', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { MemorySwappiness: 0 } }), refusal('MemorySwappiness', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { MaskedPaths: [] } }), refusal('MaskedPaths', 'NotImplemented'), '[] clears the masked paths: not a default');
  assert.throws(() => refuseUnsupportedFields({ HostConfig: { CpuCount: 2 } }), refusal('CpuCount', 'InvalidArgument'));
  assert.throws(() => refuseUnsupportedFields({ Tty: true }), refusal('Tty', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ Volumes: { '/data': {} } }), refusal('Volumes', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ NetworkingConfig: { EndpointsConfig: { default: { Aliases: ['a'] } } } }), refusal('EndpointsConfig', 'NotImplemented'));
  assert.throws(() => refuseUnsupportedFields({ NetworkingConfig: { EndpointsConfig: { mynet: {} } } }), refusal('EndpointsConfig', 'NotImplemented'));
  for (const defaults of [{ PidsLimit: -1 }, { PidsLimit: null }, { MemorySwap: -1 }, { ConsoleSize: [0, 0] }, { IpcMode: 'private' }, { CgroupnsMode: 'host' }, { Isolation: 'default' }, { LogConfig: { Type: '', Config: {} } }]) {
    assert.doesNotThrow(() => refuseUnsupportedFields({ HostConfig: defaults }), JSON.stringify(defaults));
  }
  assert.doesNotThrow(() => refuseUnsupportedFields({ NotAnApiField: 42, HostConfig: { AlsoUnknown: true } }));
});

test("Go's zero values; a map with an entry is set even when the entry is empty", () => {
  for (const zero of [undefined, null, false, 0, '', [], {}, { Type: '', Config: {} }]) assert.equal(isZero(zero), true, JSON.stringify(zero));
  for (const value of [true, 1, -1, 'x', [0], { a: 1 }]) assert.equal(isZero(value), false, JSON.stringify(value));
  assert.equal(isUnset({}), true);
  assert.equal(isUnset({ '/data': {} }), false);
});
