/**
 * Upgrades: containers started under an older shim (fixtures built from the project's own
 * history by scripts/build-shim-fixture.sh) are restored, stopped, exec'd into and removed
 * by the current daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ApiError } from '../../src/client/client.ts';
import { newDaemon, runShell, sleep, isProcessAlive, ROOT } from './harness.ts';

for (const version of ['1.0', '1.1', '1.2']) {
  test(`containers under a protocol ${version} shim survive the upgrade to the current daemon`, async (t) => {
    const fixture = join(ROOT, 'test/fixtures/shims', `berth-shim-${version}.js`);
    const daemon = newDaemon(t, { liveRestore: true, env: { BERTH_SHIM_ENTRY: fixture } });
    await daemon.start();
    await daemon.importBusybox();
    const id = await runShell(daemon, 'i=0; while true; do echo "n $i"; i=$((i+1)); sleep 0.1; done', { StopTimeout: 1 });
    const before = await daemon.client.inspectContainer(id);
    const record = JSON.parse(readFileSync(join(daemon.dataRoot, 'containers', id, 'record.json'), 'utf8')) as { shim: { shimPid: number; protocolVersion: string } };
    assert.equal(record.shim.protocolVersion, version);

    // The upgrade: the daemon stops and comes back with the current shim as its default.
    await daemon.stop('SIGTERM');
    daemon.options.env = {};
    await daemon.start();
    const after = await daemon.client.inspectContainer(id);
    assert.equal(after.State.Status, 'running');
    assert.equal(after.State.Pid, before.State.Pid);
    assert.equal(after.State.StartedAt, before.State.StartedAt);

    const exec = daemon.client.json<{ Id: string }>('POST', `/containers/${id}/exec`, { body: { Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true } });
    if (version === '1.0') {
      await assert.rejects(exec, (err: unknown) => err instanceof ApiError && err.status === 501 && /protocol 1\.0, which cannot exec/.test(err.message));
    } else {
      const { Id } = await exec;
      const res = await daemon.client.raw('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: false } });
      for await (const _ of res) { /* drain */ }
      const inspected = await daemon.client.json<{ ExitCode: number }>('GET', `/exec/${Id}/json`);
      assert.equal(inspected.ExitCode, 0);
    }

    await daemon.client.stopContainer(id, 1);
    const stopped = await daemon.client.inspectContainer(id);
    assert.equal(stopped.State.Status, 'exited');
    assert.ok([137, 143].includes(stopped.State.ExitCode));
    await sleep(200);
    assert.equal(isProcessAlive(record.shim.shimPid), false, 'the old shim has gone');
    await daemon.client.removeContainer(id);
    await assert.rejects(daemon.client.inspectContainer(id), (err: unknown) => err instanceof ApiError && err.status === 404);
  });
}
