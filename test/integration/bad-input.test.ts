import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { newDaemon, runShell } from './harness.ts';
import { ApiError } from '../../src/client/client.ts';

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected an API error, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.match(err.message, pattern);
    return true;
  });
}

test('an option set both as a flag and in daemon.json is refused, naming it', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true, configFile: { 'live-restore': true } });
  const { code, stderr } = await daemon.runExpectingExit();
  assert.notEqual(code, 0);
  assert.match(stderr, /specified both as a flag and in the configuration file: live-restore/);
});

test('malformed daemon.json and unknown keys are refused, naming the file and the problem', async (t) => {
  const daemon = newDaemon(t, { configFile: '{"live-restore": tru' });
  const bad = await daemon.runExpectingExit();
  assert.notEqual(bad.code, 0);
  assert.ok(bad.stderr.includes(daemon.configPath));
  assert.match(bad.stderr, /invalid JSON/);
  daemon.writeConfig({ 'live-restor': true });
  const unknown = await daemon.runExpectingExit();
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /don't match any configuration option: live-restor/);
});

test('a second daemon on the same data root is refused, naming the PID that holds it', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  const args = daemon.args().map((a) => (a === `unix://${daemon.socket}` ? `unix://${daemon.socket}2` : a));
  const second = await daemon.runExpectingExit(args);
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, new RegExp(`pid ${daemon.pid}`));
  assert.ok((await daemon.client.ping()) === 'OK', 'the first daemon is unaffected');
});

test('bad API input gets Docker status codes and leaves state untouched', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  await rejectsWith(daemon.client.createContainer({ Image: 'nosuchimage', Cmd: ['true'] }), 404, /No such image: nosuchimage/);
  await rejectsWith(daemon.client.inspectContainer('nosuchcontainer'), 404, /No such container: nosuchcontainer/);
  await rejectsWith(daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'] }, 'bad/name'), 400, /Invalid container name/);
  await rejectsWith(daemon.client.createContainer({ Image: 'busybox', Cmd: 'true', Env: 'A=B' }), 400, /Env/);
  await rejectsWith(daemon.client.json('POST', '/containers/create', { stream: (await import('node:stream')).Readable.from(['{"Image": ']) }), 400, /invalid JSON/);

  const id = await runShell(daemon, 'sleep 1000', {}, 'keeper');
  await rejectsWith(daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'] }, 'keeper'), 409, /already in use/);
  await rejectsWith(daemon.client.removeContainer(id), 409, /stop the container before removing or force remove/);
  const state = await daemon.client.inspectContainer('keeper');
  assert.equal(state.State.Running, true, 'refused removal left the container running');
  await rejectsWith(daemon.client.startContainer(id), 304, /not modified/);
  await rejectsWith(daemon.client.killContainer(id, 'SIGNOPE'), 400, /invalid signal/);
  assert.equal((await daemon.client.listContainers({ all: true })).length, 1, 'no half-created container was left behind');
  const record = JSON.parse(readFileSync(`${daemon.dataRoot}/containers/${id}/record.json`, 'utf8')) as { name: string };
  assert.equal(record.name, 'keeper');
  await daemon.client.removeContainer(id, true);
  await rejectsWith(daemon.client.inspectContainer(id), 404, /No such container/);
});

test('the berth CLI reports errors like docker: run of a missing image exits 125, unknown container 1', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  const run = await daemon.cli(['run', '-d', '--pull', 'never', 'nosuchimage']);
  assert.equal(run.code, 125);
  assert.match(run.stderr, /No such image: nosuchimage/);
  const rm = await daemon.cli(['rm', 'ghost']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /No such container: ghost/);
});
