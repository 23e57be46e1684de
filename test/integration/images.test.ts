// The image store without a registry: load/save round trips, hostile archives, shared
// layers and reference counting, image config applied on create, a crash during a load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { busyboxTarball, newDaemon, waitFor, type TestDaemon } from './harness.ts';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function tempDir(t: import('node:test').TestContext): string {
  const dir = mkdtempSync('/tmp/bt-img-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A layer tar of `files` (path → content), made with GNU tar; `-P` keeps hostile names as given. */
function layerTar(dir: string, name: string, files: Record<string, string>, raw = false): Buffer {
  const root = join(dir, `${name}-root`);
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    if (raw) continue;
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const out = join(dir, `${name}.tar`);
  if (raw) {
    // Hostile members: write each file beside `root` and archive it under the name given.
    const args = ['-cPf', out, '-C', root];
    for (const [path, content] of Object.entries(files)) {
      const stage = join(root, `m${args.length}`);
      writeFileSync(stage, content);
      args.push(`--transform=s|^m${args.length}$|${path}|`, `m${args.length}`);
    }
    execFileSync('tar', args);
  } else {
    execFileSync('tar', ['-cf', out, '-C', root, '.']);
  }
  return readFileSync(out);
}

/** A docker-save archive (manifest.json + config + layer tars) of busybox plus `extraLayers`. */
function dockerArchive(dir: string, tag: string, extraLayers: Buffer[], config: Record<string, unknown> = {}): string {
  const stage = join(dir, `archive-${Math.random().toString(16).slice(2)}`);
  mkdirSync(stage, { recursive: true });
  const layers = [readFileSync(busyboxTarball()), ...extraLayers];
  const layerPaths = layers.map((layer, i) => {
    mkdirSync(join(stage, `l${i}`));
    writeFileSync(join(stage, `l${i}`, 'layer.tar'), layer);
    return `l${i}/layer.tar`;
  });
  const configBytes = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-02T03:04:05Z',
    config: { Cmd: ['sh'], ...config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
    history: layers.map((_, i) => ({ created: '2026-01-02T03:04:05Z', created_by: `layer ${i}` })),
  }));
  const configName = `${sha256(configBytes).slice(7)}.json`;
  writeFileSync(join(stage, configName), configBytes);
  writeFileSync(join(stage, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layerPaths }]));
  const out = join(dir, `${tag.replace(/[/:]/g, '_')}.tar`);
  execFileSync('tar', ['-cf', out, '-C', stage, '.']);
  return out;
}

async function load(daemon: TestDaemon, archive: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return daemon.cli(['load', '-i', archive]);
}

/** Everything the image store holds on disk, to compare before and after a refused operation. */
function storeState(daemon: TestDaemon): string[] {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
  return [
    ...list(join(daemon.dataRoot, 'images')).map((n) => `image ${n}`),
    ...list(join(daemon.dataRoot, 'layers')).map((n) => `layer ${n}`),
    ...list(join(daemon.dataRoot, 'content', 'sha256')).map((n) => `blob ${n}`),
  ];
}

async function runOutput(daemon: TestDaemon, image: string, script: string): Promise<string> {
  const result = await daemon.cli(['run', '--rm', image, 'sh', '-c', script]);
  assert.equal(result.code, 0, `run ${image}: ${result.stderr}`);
  return result.stdout;
}

for (const driver of ['overlay', 'copy'] as const) test(`a docker-save archive loads, runs with its layers stacked (${driver}), and saves back to an archive that loads again`, async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t, { extraArgs: ['--storage-driver', driver] });
  await daemon.start();
  const layer2 = layerTar(dir, 'l2', { 'data/a': 'A\n', 'data/b': 'B\n', 'opt/dir/x': 'X\n' });
  // Layer 3 deletes /data/a (whiteout) and makes /opt/dir opaque with only y in it.
  const layer3 = layerTar(dir, 'l3', { 'data/.wh.a': '', 'opt/dir/.wh..wh..opq': '', 'opt/dir/y': 'Y\n' });
  const archive = dockerArchive(dir, 'app:v1', [layer2, layer3], { Env: ['GREETING=hi'], WorkingDir: '/data', Labels: { tier: 'test' } });
  const loaded = await load(daemon, archive);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.match(loaded.stdout, /Loaded image: app:v1/);

  const out = await runOutput(daemon, 'app:v1', 'ls /data; ls /opt/dir; cat /data/b; echo "$GREETING $(pwd)"');
  assert.equal(out, 'b\ny\nB\nhi /data\n');
  const inspect = await daemon.client.inspectImage('app:v1') as { RootFS: { Layers: string[] }; Config: { Labels: Record<string, string> } };
  assert.deepEqual(inspect.RootFS.Layers, [sha256(readFileSync(busyboxTarball())), sha256(layer2), sha256(layer3)]);
  assert.equal(inspect.Config.Labels.tier, 'test');

  const saved = join(dir, 'saved.tar');
  const save = await daemon.cli(['save', '-o', saved, 'app:v1']);
  assert.equal(save.code, 0, save.stderr);
  const members = execFileSync('tar', ['-tf', saved], { encoding: 'utf8' });
  assert.match(members, /manifest\.json/);
  assert.match(members, /index\.json/);
  const rmi = await daemon.cli(['rmi', 'app:v1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.deepEqual(storeState(daemon), [], 'deleting the only image frees every layer and blob');
  // Gzip the saved archive: load takes compressed archives too.
  const gz = join(dir, 'saved.tar.gz');
  writeFileSync(gz, gzipSync(readFileSync(saved)));
  const again = await load(daemon, gz);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await runOutput(daemon, 'app:v1', 'ls /data /opt/dir'), '/data:\nb\n\n/opt/dir:\ny\n');
});

test('images that share a base layer share its unpacked copy; it goes with the last image that uses it', async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t);
  await daemon.start();
  for (const [tag, file] of [['one:1', 'one'], ['two:1', 'two']] as const) {
    const result = await load(daemon, dockerArchive(dir, tag, [layerTar(dir, file, { [`${file}.txt`]: `${file}\n` })]));
    assert.equal(result.code, 0, result.stderr);
  }
  const layers = () => readdirSync(join(daemon.dataRoot, 'layers'));
  assert.equal(layers().length, 3, 'busybox base once, plus one layer per image');
  assert.equal((await daemon.cli(['rmi', 'one:1'])).code, 0);
  assert.equal(layers().length, 2, 'the base stays for the other image');
  assert.equal(await runOutput(daemon, 'two:1', 'cat /two.txt; test -e /one.txt || echo no-one'), 'two\nno-one\n');
  assert.equal((await daemon.cli(['rmi', 'two:1'])).code, 0);
  assert.deepEqual(layers(), []);
});

test('an image of 80 layers mounts (short layer names keep the overlay options within a page) and every layer counts', async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t);
  await daemon.start();
  const layers = Array.from({ length: 79 }, (_, i) => layerTar(dir, `many${i}`, { [`layers/${i}`]: `${i}\n` }));
  const result = await load(daemon, dockerArchive(dir, 'many:1', layers));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await runOutput(daemon, 'many:1', 'ls /layers | wc -l; cat /layers/0 /layers/78'), '79\n0\n78\n');
});

test('hostile or broken archives are refused with a clear error and leave the store as it was', async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const before = storeState(daemon);
  const sentinel = join(dir, 'escaped');

  const cases: Array<[string, string, RegExp]> = [];
  // A layer whose member climbs out of the layer.
  cases.push(['layer with ../ member', dockerArchive(dir, 'evil:dotdot', [layerTar(dir, 'dotdot', { '../../../../../../../../../../tmp/bt-img-escape': 'pwned' }, true)]), /outside|\.\./i]);
  // A config whose diff IDs do not match the layers.
  const lying = dockerArchive(dir, 'evil:lie', [layerTar(dir, 'lie', { 'x': 'x' })]);
  const lyingStage = join(dir, 'lying');
  mkdirSync(lyingStage);
  execFileSync('tar', ['-xf', lying, '-C', lyingStage]);
  const manifest = JSON.parse(readFileSync(join(lyingStage, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  writeFileSync(join(lyingStage, manifest[0]!.Layers[1]!), layerTar(dir, 'other', { 'y': 'y' }));
  const lyingOut = join(dir, 'lying.tar');
  execFileSync('tar', ['-cf', lyingOut, '-C', lyingStage, '.']);
  cases.push(['layer that does not match its diff ID', lyingOut, /does not match/]);
  // Truncated archive.
  const whole = readFileSync(dockerArchive(dir, 'trunc:1', [layerTar(dir, 'big', { 'big.bin': 'z'.repeat(200_000) })]));
  const truncated = join(dir, 'truncated.tar');
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  cases.push(['truncated archive', truncated, /truncated|unexpected end|invalid archive/i]);
  // Malformed manifest.json.
  const malformedStage = join(dir, 'malformed');
  mkdirSync(malformedStage);
  writeFileSync(join(malformedStage, 'manifest.json'), '[{"Config": 12');
  const malformed = join(dir, 'malformed.tar');
  execFileSync('tar', ['-cf', malformed, '-C', malformedStage, '.']);
  cases.push(['malformed manifest.json', malformed, /not valid JSON/]);
  // A hard link whose target is outside the archive (the archive itself, not a layer).
  const linkStage = join(dir, 'hardlink');
  mkdirSync(linkStage);
  writeFileSync(join(linkStage, 'a'), 'a');
  execFileSync('ln', [join(linkStage, 'a'), join(linkStage, 'b')]);
  const hardlink = join(dir, 'hardlink.tar');
  execFileSync('tar', ['-cPf', hardlink, '-C', linkStage, '--transform=s|^a$|../../outside|h', 'a', 'b']);
  cases.push(['hard link out of the archive', hardlink, /points outside the archive/]);
  // A gzip'd archive cut short (an interrupted download).
  const cutGzip = join(dir, 'cut.tar.gz');
  const gz = gzipSync(whole);
  writeFileSync(cutGzip, gz.subarray(0, Math.floor(gz.length * 0.6)));
  cases.push(['truncated gzip', cutGzip, /truncated|unexpected end|decompression failed|invalid archive/i]);
  // Not a tar at all.
  const garbage = join(dir, 'garbage.tar');
  writeFileSync(garbage, Buffer.alloc(4096, 0x41));
  cases.push(['garbage', garbage, /invalid archive|not a tar/i]);

  for (const [what, archive, message] of cases) {
    const result = await load(daemon, archive);
    assert.notEqual(result.code, 0, `${what}: refused`);
    assert.match(result.stderr, message, `${what}: ${result.stderr}`);
    assert.deepEqual(storeState(daemon), before, `${what}: the store is as it was`);
  }
  assert.equal(existsSync('/tmp/bt-img-escape'), false, 'nothing was written outside the layer');
  // An absolute member name is taken inside the layer, as Docker does: it loads, and lands in the image.
  const absolute = await load(daemon, dockerArchive(dir, 'abs:1', [layerTar(dir, 'abs', { [sentinel]: 'inside' }, true)]));
  assert.equal(absolute.code, 0, absolute.stderr);
  assert.equal(existsSync(sentinel), false, 'nothing was written at the absolute path on the host');
  assert.equal(await runOutput(daemon, 'abs:1', `cat ${sentinel}`), 'inside');
  assert.equal((await daemon.cli(['rmi', 'abs:1'])).code, 0);
  assert.deepEqual(storeState(daemon), before);
  const listed = JSON.parse((await daemon.cli(['images', '--format', 'json'])).stdout.split('\n')[0] || '{}') as { Repository?: string };
  assert.equal(listed.Repository, 'busybox');
});

test('import --change sets the config a container starts with; labels, stop signal and ports carry into the container', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  const result = await daemon.cli(['import', '-c', 'ENV MODE=prod', '-c', 'WORKDIR /tmp', '-c', 'CMD ["sh", "-c", "echo $MODE $(pwd) $(id -u)"]', '-c', 'USER 1000', '-c', 'LABEL team=infra', '-c', 'EXPOSE 8080', '-c', 'STOPSIGNAL SIGUSR1', busyboxTarball(), 'configured:1']);
  assert.equal(result.code, 0, result.stderr);
  const run = await daemon.cli(['run', '--name', 'c1', 'configured:1']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'prod /tmp 1000\n');
  const container = await daemon.client.inspectContainer('c1');
  const config = container.Config as { Labels: Record<string, string>; StopSignal?: string; ExposedPorts?: Record<string, object> };
  assert.equal(config.Labels.team, 'infra');
  assert.equal(config.StopSignal, 'SIGUSR1');
  assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['8080/tcp']);
  // In use by a container: rmi refuses without -f; with -f the image stays, untagged, for the container.
  const refused = await daemon.cli(['rmi', 'configured:1']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /container .* is using its referenced image/);
  const imageId = (await daemon.client.inspectImage('configured:1')).Id as string;
  assert.equal((await daemon.cli(['rmi', '-f', 'configured:1'])).code, 0);
  assert.equal((await daemon.client.inspectImage(imageId)).Id, imageId, 'the image stays while a container uses it');
  assert.equal((await daemon.cli(['start', '-a', 'c1'])).stdout, 'prod /tmp 1000\n', 'the container still starts');
  // Prune keeps it while the container exists, removes it once the container is gone.
  await daemon.cli(['image', 'prune', '-f']);
  assert.equal((await daemon.client.inspectImage(imageId)).Id, imageId);
  assert.equal((await daemon.cli(['rm', 'c1'])).code, 0);
  const pruned = await daemon.cli(['image', 'prune', '-f']);
  assert.match(pruned.stdout, new RegExp(`deleted: ${imageId}`));
  assert.deepEqual(storeState(daemon), []);
});

test('a daemon killed in the middle of a load leaves nothing that a restarted daemon trusts', async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t);
  await daemon.start();
  // A big layer (random bytes do not compress) sent slowly enough to be caught in the middle.
  const big = join(dir, 'big-root');
  mkdirSync(big);
  writeFileSync(join(big, 'blob.bin'), execFileSync('head', ['-c', String(48 * 1024 * 1024), '/dev/urandom'], { maxBuffer: 64 * 1024 * 1024 }));
  const layer = join(dir, 'big.tar');
  execFileSync('tar', ['-cf', layer, '-C', big, '.']);
  const archive = dockerArchive(dir, 'big:1', [readFileSync(layer)]);
  const loading = daemon.cli(['load', '-i', archive]);
  // Kill once the daemon has started writing what it receives.
  await waitFor('the load to be under way', () => {
    const tmp = join(daemon.dataRoot, 'tmp');
    return existsSync(tmp) && readdirSync(tmp).some((n) => n.startsWith('blob-') && statSync(join(tmp, n)).size > 0);
  }, 30_000);
  await daemon.stop('SIGKILL');
  await loading;
  await daemon.start();
  const images = await daemon.client.listImages();
  assert.deepEqual(images, [], 'no image from the interrupted load');
  assert.deepEqual(storeState(daemon), [], 'no blob or layer left behind');
  // And the same load then works.
  const result = await daemon.cli(['load', '-i', archive]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await runOutput(daemon, 'big:1', 'wc -c < /blob.bin'), `${48 * 1024 * 1024}\n`);
});

test('what a crash can leave of a delete or an unpack is cleaned at start, never trusted', async (t) => {
  const dir = tempDir(t);
  const daemon = newDaemon(t);
  await daemon.start();
  const loaded = await load(daemon, dockerArchive(dir, 'keep:1', [layerTar(dir, 'k', { 'keep.txt': 'kept\n' })]));
  assert.equal(loaded.code, 0, loaded.stderr);
  const gone = await load(daemon, dockerArchive(dir, 'gone:1', [layerTar(dir, 'g', { 'gone.txt': 'gone\n' })]));
  assert.equal(gone.code, 0, gone.stderr);
  const goneId = ((await daemon.client.inspectImage('gone:1')) as { Id: string }).Id.slice('sha256:'.length);
  const goneLayers = ((await daemon.client.inspectImage('gone:1')) as { RootFS: { Layers: string[] } }).RootFS.Layers;
  await daemon.stop('SIGKILL');

  // A delete that removed the record but died before collecting the image's content.
  rmSync(join(daemon.dataRoot, 'images', goneId), { recursive: true });
  // A delete that died half-way through removing a directory (renamed aside first).
  mkdirSync(join(daemon.dataRoot, 'images', `.${goneId}.deleting`, 'x'), { recursive: true });
  // A layer directory without its record, and one whose record names another layer.
  mkdirSync(join(daemon.dataRoot, 'layers', 'f'.repeat(64), 'diff'), { recursive: true });
  mkdirSync(join(daemon.dataRoot, 'layers', 'e'.repeat(64), 'diff'), { recursive: true });
  writeFileSync(join(daemon.dataRoot, 'layers', 'e'.repeat(64), 'layer.json'), JSON.stringify({ schemaVersion: 1, chainId: `sha256:${'d'.repeat(64)}`, diffId: `sha256:${'d'.repeat(64)}`, size: 1 }));
  // A blob write that died before its rename.
  writeFileSync(join(daemon.dataRoot, 'content', 'sha256', `.${'c'.repeat(64)}.123.456.tmp`), 'partial');

  await daemon.start();
  const state = storeState(daemon);
  assert.equal(state.filter((e) => e.startsWith('image ')).length, 1, 'only the kept image');
  for (const layer of goneLayers.slice(1)) assert.ok(!state.includes(`layer ${layer.slice(7)}`), 'the deleted image\'s own layer is gone');
  assert.ok(!state.some((e) => e.includes('f'.repeat(64)) || e.includes('e'.repeat(64)) || e.includes('c'.repeat(64)) || e.includes('.deleting')), state.join('\n'));
  assert.equal(await runOutput(daemon, 'keep:1', 'cat /keep.txt'), 'kept\n');
  assert.equal((await daemon.cli(['image', 'inspect', 'gone:1'])).code, 1);
});
