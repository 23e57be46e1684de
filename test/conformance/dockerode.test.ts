/** dockerode (what Node services use) against a real berthd: lifecycle, streams and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { newDaemon, sleep, type TestDaemon } from '../integration/harness.ts';
import { startRegistry } from '../integration/registry.ts';

async function setup(t: import('node:test').TestContext): Promise<{ daemon: TestDaemon; docker: Docker }> {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  await daemon.importBusybox();
  return { daemon, docker: new Docker({ socketPath: daemon.socket }) };
}

function demux(docker: Docker, stream: NodeJS.ReadableStream): { out: () => string; err: () => string; done: Promise<void> } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  docker.modem.demuxStream(stream, stdout, stderr);
  const done = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  return { out: () => out, err: () => err, done };
}

test('dockerode: ping, version, info, lifecycle and inspect', async (t) => {
  const { docker } = await setup(t);
  assert.equal(String(await docker.ping()), 'OK');
  const version = await docker.version();
  assert.ok(version.ApiVersion >= '1.44');
  const info = await docker.info();
  assert.equal(info.LiveRestoreEnabled, true);
  const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hello; sleep 1000'], name: 'dode', Labels: { app: 'x' } });
  await container.start();
  const inspected = await container.inspect();
  assert.equal(inspected.State.Running, true);
  assert.equal(inspected.Name, '/dode');
  assert.equal(inspected.Config.Labels.app, 'x');
  const list = await docker.listContainers({ filters: { label: ['app=x'] } });
  assert.equal(list.length, 1);
  assert.deepEqual(list[0]!.Names, ['/dode']);
  await container.stop({ t: 1 });
  const waited = await container.wait();
  assert.equal(waited.StatusCode, 137);
  await container.remove();
  await assert.rejects(container.inspect(), (err: { statusCode?: number; message?: string }) => err.statusCode === 404 && /No such container/.test(err.message ?? ''));
});

test('dockerode: logs follow, attach, exec and events streams', async (t) => {
  const { docker } = await setup(t);
  const events = (await docker.getEvents({ filters: { type: ['container'] } })) as NodeJS.ReadableStream & { destroy(): void };
  const seen: string[] = [];
  events.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) seen.push((JSON.parse(line) as { Action: string }).Action);
  });
  t.after(() => events.destroy());

  const container = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.5; echo a; echo b >&2; sleep 0.3; echo c; exit 4'] });
  const attachStream = await container.attach({ stream: true, stdout: true, stderr: true });
  const attached = demux(docker, attachStream);
  await container.start();
  const logStream = await container.logs({ follow: true, stdout: true, stderr: true });
  const followed = demux(docker, logStream);
  await followed.done;
  assert.equal(followed.out(), 'a\nc\n');
  assert.equal(followed.err(), 'b\n');
  await attached.done;
  assert.equal(attached.out(), 'a\nc\n');
  assert.equal(attached.err(), 'b\n');
  assert.equal((await container.wait()).StatusCode, 4);

  const runner = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'] });
  await runner.start();
  const exec = await runner.exec({ Cmd: ['sh', '-c', 'echo from-exec; echo to-err >&2; exit 6'], AttachStdout: true, AttachStderr: true });
  const execStream = await exec.start({ hijack: true, stdin: false });
  const execOut = demux(docker, execStream);
  await execOut.done;
  assert.equal(execOut.out(), 'from-exec\n');
  assert.equal(execOut.err(), 'to-err\n');
  const execInfo = await exec.inspect();
  assert.equal(execInfo.ExitCode, 6);
  assert.equal(execInfo.Running, false);
  await runner.remove({ force: true });
  await sleep(200);
  for (const action of ['create', 'start', 'die', 'exec_die', 'destroy']) assert.ok(seen.some((a) => a === action || a.startsWith(`${action}:`)), `event ${action} seen (got ${seen.join(', ')})`);
});

test('dockerode: errors carry Docker status codes', async (t) => {
  const { docker } = await setup(t);
  await assert.rejects(docker.createContainer({ Image: 'nosuchimage' }), (err: { statusCode?: number }) => err.statusCode === 404);
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], name: 'dup' });
  await assert.rejects(docker.createContainer({ Image: 'busybox', name: 'dup' }), (err: { statusCode?: number }) => err.statusCode === 409);
  await c.start();
  await assert.rejects(c.start(), (err: { statusCode?: number }) => err.statusCode === 304);
  await assert.rejects(c.remove(), (err: { statusCode?: number }) => err.statusCode === 409);
  await assert.rejects(docker.getContainer('nope').kill(), (err: { statusCode?: number }) => err.statusCode === 404);
  await c.remove({ force: true });
});

test('dockerode: push to a registry with auth, pull back with progress, save and load', async (t) => {
  const { docker } = await setup(t);
  const registry = await startRegistry({ auth: 'htpasswd' });
  t.after(() => registry.stop());
  const authconfig = { username: registry.username!, password: registry.password!, serveraddress: registry.host };
  const ref = `${registry.host}/dode/busybox:1`;
  await docker.getImage('busybox').tag({ repo: `${registry.host}/dode/busybox`, tag: '1' });

  const follow = (stream: NodeJS.ReadableStream) =>
    new Promise<Array<{ status?: string; error?: string }>>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: Array<{ status?: string }>) => (err ? reject(err) : resolve(out))));
  const pushed = await follow(await docker.getImage(ref).push({ authconfig }));
  assert.ok(pushed.some((m) => /^1: digest: sha256:[0-9a-f]{64} size: \d+$/.test(m.status ?? '')), JSON.stringify(pushed));
  // Without credentials the registry refuses, and dockerode reports it.
  const anonymous = await follow(await docker.getImage(ref).push({}));
  assert.match(anonymous.at(-1)?.error ?? '', /unauthorized: authentication required/);

  await docker.getImage(ref).remove();
  const pulled = await follow(await docker.pull(ref, { authconfig }));
  assert.ok(pulled.some((m) => m.status === `Status: Downloaded newer image for ${ref}`), JSON.stringify(pulled));
  const image = await docker.getImage(ref).inspect();
  assert.ok(image.RepoDigests.some((d) => d.startsWith(`${registry.host}/dode/busybox@sha256:`)));

  // save → remove → load: the same image ID and tag come back.
  const archive = await docker.getImage(ref).get();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  await docker.getImage(ref).remove();
  const loaded = await follow(await docker.loadImage(Readable.from([Buffer.concat(chunks)])));
  assert.ok(JSON.stringify(loaded).includes(`Loaded image: ${ref}`), JSON.stringify(loaded));
  assert.equal((await docker.getImage(ref).inspect()).Id, image.Id);
});
