import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCreateRequest, parseBind } from './create-request.ts';
import { resolveCommand, mergeEnv } from './process-setup.ts';
import { EngineError } from '../../protocol/errors.ts';
import type { ImageRecord } from '../../protocol/records.ts';

const kindIs = (kind: string) => (err: unknown) => EngineError.is(err) && err.kind === kind;

test('a minimal body gets Docker defaults', () => {
  const { config, hostConfig } = parseCreateRequest({ Image: 'busybox' }, {});
  assert.equal(config.Image, 'busybox');
  assert.equal(config.Cmd, null);
  assert.deepEqual(config.Env, []);
  assert.equal(hostConfig.NetworkMode, 'default');
  assert.deepEqual(hostConfig.RestartPolicy, { Name: '', MaximumRetryCount: 0 });
  assert.equal(hostConfig.LogConfig.Type, 'json-file');
});

test('wrong types, bad policies, unknown networks and log drivers are refused with the right kind', () => {
  assert.throws(() => parseCreateRequest('nope', {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({}, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', Env: 'A=1' }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } } }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', HostConfig: { NetworkMode: 'mynet' } }, {}), kindIs('NotFound'));
  assert.throws(() => parseCreateRequest({ Image: 'b', HostConfig: { LogConfig: { Type: 'syslog' } } }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', HostConfig: { LogConfig: { Config: { 'max-size': 'huge' } } } }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', StopSignal: 'SIGFOO' }, {}), kindIs('InvalidArgument'));
  assert.throws(() => parseCreateRequest({ Image: 'b', WorkingDir: 'relative' }, {}), kindIs('InvalidArgument'));
});

test('daemon log opts are defaults that a container may override', () => {
  const { hostConfig } = parseCreateRequest({ Image: 'b', HostConfig: { LogConfig: { Config: { 'max-file': '2' } } } }, { 'max-size': '1m', 'max-file': '5' });
  assert.deepEqual(hostConfig.LogConfig.Config, { 'max-size': '1m', 'max-file': '2' });
});

test('binds: absolute host path, absolute target, ro/rw', () => {
  assert.deepEqual(parseBind('/srv/data:/data:ro'), { source: '/srv/data', destination: '/data', readOnly: true });
  assert.deepEqual(parseBind('/srv:/srv'), { source: '/srv', destination: '/srv', readOnly: false });
  assert.throws(() => parseBind('named:/data'), kindIs('InvalidArgument'));
  assert.throws(() => parseBind('/a:relative'), kindIs('InvalidArgument'));
  assert.throws(() => parseBind('/a:/b:xx'), kindIs('InvalidArgument'));
});

const image = (config: ImageRecord['config']): ImageRecord => ({ schemaVersion: 2, id: 'sha256:x', repoTags: [], repoDigests: [], created: '', size: 0, architecture: 'amd64', os: 'linux', config, diffIds: [] });

test('command resolution follows Docker: entrypoint + cmd, an entrypoint given at create drops the image CMD', () => {
  const img = image({ Entrypoint: ['/init'], Cmd: ['serve'] });
  assert.deepEqual(resolveCommand({ config: { Cmd: null, Entrypoint: null } as never }, img), { path: '/init', args: ['serve'] });
  assert.deepEqual(resolveCommand({ config: { Cmd: ['x'], Entrypoint: null } as never }, img), { path: '/init', args: ['x'] });
  assert.deepEqual(resolveCommand({ config: { Cmd: null, Entrypoint: ['/other'] } as never }, img), { path: '/other', args: [] });
  assert.throws(() => resolveCommand({ config: { Cmd: null, Entrypoint: null } as never }, image({})), kindIs('InvalidArgument'));
});

test('environment: container values override the image, PATH is always set', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3']), ['A=1', 'B=3', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.deepEqual(mergeEnv(['PATH=/bin'], []), ['PATH=/bin']);
});
