/**
 * State written by berth 0.1.0 (the first release, protocol 1.0; kept as fixtures in
 * test/fixtures/state-0.1.0) loads in the current daemon: its containers inspect, log,
 * start, exec and stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { newDaemon, busyboxTarball, ROOT } from './harness.ts';

const FIXTURE = join(ROOT, 'test/fixtures/state-0.1.0');

test('a data root written by berth 0.1.0 is read by the current daemon', async (t) => {
  const daemon = newDaemon(t);
  mkdirSync(daemon.dataRoot, { recursive: true });
  cpSync(join(FIXTURE, 'containers'), join(daemon.dataRoot, 'containers'), { recursive: true });
  cpSync(join(FIXTURE, 'images'), join(daemon.dataRoot, 'images'), { recursive: true });
  // The image's unpacked layer is not kept in the repository: unpack the same busybox rootfs.
  for (const image of readdirSync(join(daemon.dataRoot, 'images'))) {
    const rootfs = join(daemon.dataRoot, 'images', image, 'rootfs');
    mkdirSync(rootfs);
    execFileSync('tar', ['-xf', busyboxTarball(), '-C', rootfs]);
  }
  await daemon.start();

  const old1 = await daemon.client.inspectContainer('old1');
  assert.equal(old1.State.Status, 'exited');
  assert.equal(old1.State.ExitCode, 6);
  assert.deepEqual((old1.Config as { Labels: Record<string, string> }).Labels, { x: 'y' });
  const logs = await daemon.cli(['logs', 'old1']);
  assert.equal(logs.stdout, 'from-old\n');

  assert.equal((await daemon.client.inspectContainer('old2')).State.Status, 'created');
  await daemon.client.startContainer('old2');
  assert.equal((await daemon.client.inspectContainer('old2')).State.Running, true);
  const exec = await daemon.client.json<{ Id: string }>('POST', '/containers/old2/exec', { body: { Cmd: ['true'] } });
  const res = await daemon.client.raw('POST', `/exec/${exec.Id}/start`, { body: { Detach: false } });
  for await (const _ of res) { /* drain */ }
  assert.equal((await daemon.client.json<{ ExitCode: number }>('GET', `/exec/${exec.Id}/json`)).ExitCode, 0);
  await daemon.client.removeContainer('old2', true);
  assert.equal((await daemon.client.listContainers({ all: true })).length, 1);

  // The 0.1 image's one rootfs became a layer of the layer store (moved, not copied).
  const image = await daemon.client.inspectImage('busybox') as { Id: string; RootFS: { Layers: string[] } };
  const layer = image.RootFS.Layers[0]!.slice('sha256:'.length);
  assert.equal(existsSync(join(daemon.dataRoot, 'layers', layer, 'diff', 'bin', 'busybox')), true);
  assert.equal(existsSync(join(daemon.dataRoot, 'images', image.Id.slice('sha256:'.length), 'rootfs')), false);
  // berth 0.1 kept no layer archive: save says so (until a pull or load brings the same layer).
  assert.match((await daemon.cli(['save', '-o', join(daemon.root, 'old.tar'), 'busybox'])).stderr, /not kept \(imported by berth 0\.1\)/);
});
