/**
 * Walks every field of the Engine API 1.47 create body (test/fixtures/engine-api-1.47-create-fields.json,
 * from moby's swagger.yaml) against a real berthd: each one, set to a non-default value of its
 * type, is either honoured (the container is created and inspect shows the value) or refused
 * with 400/501 and a message naming the field. Nothing is accepted and ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { newDaemon, ROOT, waitFor } from '../integration/harness.ts';
import { CREATE_FIELDS, type CreateSection } from '../../src/daemon/containers/create-fields.ts';

interface Fact { section: CreateSection; name: string; type: string; enum?: string[] }
const facts = (JSON.parse(readFileSync(join(ROOT, 'test/fixtures/engine-api-1.47-create-fields.json'), 'utf8')) as { fields: Fact[] }).fields;

/** For honoured fields: a valid non-default value, and what inspect must then show (the value itself unless said). */
const HONOURED_SAMPLES: Record<string, { value: unknown; shows?: unknown }> = {
  'Config.Hostname': { value: 'walker' },
  'Config.Domainname': { value: 'example.org' },
  'Config.User': { value: 'nobody' },
  'Config.AttachStdin': { value: true },
  'Config.AttachStdout': { value: true },
  'Config.AttachStderr': { value: true },
  'Config.ExposedPorts': { value: { '80/tcp': {} } },
  'Config.Env': { value: ['WALK=1'] },
  'Config.Cmd': { value: ['echo', 'walk'] },
  'Config.Healthcheck': { value: { Test: ['CMD', 'true'], Interval: 2_000_000_000, Retries: 2 } },
  'Config.Image': { value: 'busybox' },
  'Config.WorkingDir': { value: '/tmp' },
  'Config.Entrypoint': { value: ['/bin/sh'] },
  'Config.Labels': { value: { walk: 'yes' } },
  'Config.StopSignal': { value: 'SIGUSR1' },
  'Config.StopTimeout': { value: 3 },
  'HostConfig.Devices': { value: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/walknull', CgroupPermissions: 'rw' }] },
  'HostConfig.Binds': { value: ['/tmp:/hosttmp:ro'] },
  'HostConfig.ContainerIDFile': { value: '/tmp/walk.cid' },
  'HostConfig.LogConfig': { value: { Type: 'json-file', Config: { 'max-size': '1m' } } },
  'HostConfig.NetworkMode': { value: 'none' },
  'HostConfig.RestartPolicy': { value: { Name: 'on-failure', MaximumRetryCount: 2 } },
  'HostConfig.AutoRemove': { value: true },
  'HostConfig.CapAdd': { value: ['net_admin'] },
  'HostConfig.CapDrop': { value: ['MKNOD'] },
  'HostConfig.GroupAdd': { value: ['4242', 'daemon'] },
  'HostConfig.Privileged': { value: true },
  'HostConfig.ReadonlyRootfs': { value: true },
  'HostConfig.SecurityOpt': { value: ['no-new-privileges'] },
  'HostConfig.Sysctls': { value: { 'kernel.shmmni': '1234' } },
};

/** A non-default value of each type the create body uses (for fields berth refuses). */
function nonDefault(fact: Fact): unknown {
  const byField: Record<string, unknown> = { CgroupnsMode: 'private', Isolation: 'hyperv', IpcMode: 'host' };
  if (fact.name in byField) return byField[fact.name];
  const byType: Record<string, unknown> = {
    string: 'x',
    boolean: true,
    integer: 1,
    'string[]': ['x'],
    'integer[]': [24, 80],
    'map<string>': { x: 'y' },
    set: { '/x': {} },
    'ThrottleDevice[]': [{ Path: '/dev/null', Rate: 1 }],
    'object:Path,Weight[]': [{ Path: '/dev/null', Weight: 10 }],
    'DeviceRequest[]': [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }],
    'object:Name,Soft,Hard[]': [{ Name: 'nofile', Soft: 1, Hard: 1 }],
    PortMap: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
    'Mount[]': [{ Type: 'bind', Source: '/tmp', Target: '/x' }],
    'map<EndpointSettings>': { bridge: { Aliases: ['walker'] } },
  };
  assert.ok(fact.type in byType, `no non-default sample for type ${fact.type} (${fact.section}.${fact.name}): add one`);
  return byType[fact.type];
}

/** POST /containers/create, answering with the status and the parsed body whatever they are. */
function create(socketPath: string, payload: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(payload);
    const req = request({ socketPath, method: 'POST', path: '/v1.47/containers/create', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? (JSON.parse(data) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

function body(fact: Fact, value: unknown): Record<string, unknown> {
  const base: Record<string, unknown> = { Image: 'busybox', Cmd: ['true'] };
  if (fact.section === 'Config') return { ...base, [fact.name]: value };
  return { ...base, [fact.section]: { [fact.name]: value } };
}

test('every field of the API 1.47 create body is honoured or refused by name, never silently ignored', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const problems: string[] = [];
  let honoured = 0;
  let refused = 0;
  for (const fact of facts) {
    const key = `${fact.section}.${fact.name}`;
    const treatment = CREATE_FIELDS[fact.section][fact.name];
    assert.ok(treatment, `${key} is missing from CREATE_FIELDS`);
    if (treatment.status === 'honoured') {
      const sample = HONOURED_SAMPLES[key];
      if (!sample) {
        problems.push(`${key} is honoured but has no sample here to prove it`);
        continue;
      }
      const res = await create(daemon.socket, body(fact, sample.value));
      if (res.status !== 201) {
        problems.push(`${key}: honoured, but create answered ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      const inspect = (await daemon.client.inspectContainer(res.body.Id as string)) as Record<string, Record<string, unknown>>;
      const shown = fact.section === 'Config' ? inspect.Config![fact.name] : inspect.HostConfig![fact.name];
      try {
        assert.deepEqual(shown, sample.shows ?? sample.value);
        honoured += 1;
      } catch {
        problems.push(`${key}: inspect shows ${JSON.stringify(shown)}, sent ${JSON.stringify(sample.value)}`);
      }
      continue;
    }
    const value = nonDefault(fact);
    const res = await create(daemon.socket, body(fact, value));
    const message = typeof res.body.message === 'string' ? res.body.message : '';
    if (![400, 501].includes(res.status) || !message.includes(fact.name)) problems.push(`${key}=${JSON.stringify(value)}: answered ${res.status} ${JSON.stringify(res.body)}`);
    else refused += 1;
  }
  assert.deepEqual(problems, []);
  assert.equal(honoured + refused, facts.length);
});

test('Domainname, kept since berth 0.1 but never applied, now reaches the container', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const run = await daemon.cli(['run', '--rm', 'busybox', 'cat', '/proc/sys/kernel/domainname']);
  assert.equal(run.stdout, '(none)\n', run.stderr);
  const res = await create(daemon.socket, { Image: 'busybox', Cmd: ['cat', '/proc/sys/kernel/domainname'], Domainname: 'example.org' });
  assert.equal(res.status, 201);
  const id = res.body.Id as string;
  await daemon.client.startContainer(id);
  const logs = await waitFor('the output', async () => {
    const out = (await daemon.cli(['logs', id])).stdout;
    return out ? out : undefined;
  });
  assert.equal(logs, 'example.org\n');
});
