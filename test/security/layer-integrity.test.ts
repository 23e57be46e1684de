/**
 * A layer whose files were cut short while the daemon was down (a power loss before writeback,
 * or someone truncating them) is noticed before a container uses it: it is unpacked again
 * from its archive, or, with no archive, reported missing until a pull brings it back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { newDaemon, type TestDaemon } from '../integration/harness.ts';
import { startRegistry } from '../integration/registry.ts';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n';

/** The only unpacked layer (the busybox image has one): its directory under layers/. */
function onlyLayer(daemon: TestDaemon): string {
  const layers = readdirSync(join(daemon.dataRoot, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.equal(layers.length, 1, `one layer: ${layers.join(', ')}`);
  return join(daemon.dataRoot, 'layers', layers[0]!);
}

async function cliOk(daemon: TestDaemon, args: string[]): Promise<string> {
  const res = await daemon.cli(args);
  assert.equal(res.code, 0, `berth ${args.join(' ')}: ${res.stderr}${res.stdout}`);
  return res.stdout;
}

test('a layer file truncated while the daemon was down is unpacked again from its archive before a container sees it', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  assert.equal(await cliOk(daemon, ['run', '--rm', 'busybox', 'cat', '/etc/passwd']), PASSWD);
  await daemon.stop();

  const passwd = join(onlyLayer(daemon), 'diff/etc/passwd');
  truncateSync(passwd, 10);
  await daemon.start();
  assert.equal(await cliOk(daemon, ['run', '--rm', 'busybox', 'cat', '/etc/passwd']), PASSWD, 'the container sees the whole file, not the truncated one');
  assert.equal(readFileSync(passwd, 'utf8'), PASSWD, 'the layer on disk is whole again');
  assert.match(daemon.log(), /re-unpacked damaged layer from its archive/);
});

test('a truncated layer whose archive is gone is reported missing, never used, and a pull fetches it again', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());
  const daemon = newDaemon(t);
  await daemon.start();
  const ref = `${registry.host}/integrity/busybox:1`;
  await daemon.importBusybox(ref);
  await cliOk(daemon, ['push', ref]);
  await daemon.stop();

  const layer = onlyLayer(daemon);
  const record = JSON.parse(readFileSync(join(layer, 'layer.json'), 'utf8')) as { blob: { digest: string } };
  rmSync(join(daemon.dataRoot, 'content/sha256', record.blob.digest.slice('sha256:'.length)));
  const busybox = join(layer, 'diff/bin/busybox');
  const size = statSync(busybox).size;
  truncateSync(busybox, 4096);
  await daemon.start();
  const refused = await daemon.cli(['run', '--rm', ref, 'echo', 'ran']);
  assert.notEqual(refused.code, 0, `the container must not run on the damaged layer: ${refused.stdout}`);
  assert.match(refused.stderr, /layer sha256:[0-9a-f]{64} is missing or damaged on disk .*pull or load the image again/);
  assert.match(daemon.log(), /removed damaged layer/);

  await cliOk(daemon, ['pull', ref]);
  assert.equal(await cliOk(daemon, ['run', '--rm', ref, 'sh', '-c', 'wc -c < /bin/busybox']), `${size}\n`, 'the pulled layer has the whole binary');
});
