/**
 * A local user must not get in (CVE-2021-41091 in Docker): nothing under the data root or the
 * exec root may be listed, read or run by anyone but root, and the API socket (root-equivalent)
 * is root's unless `--group` hands it to a group. Each test loosens its temp root to 0755 first,
 * so only berth's own modes protect what is below; the probes run as `nobody` through setpriv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxTarball, newDaemon, runShell, waitFor, type TestDaemon } from '../integration/harness.ts';

const SECRET = 'DB_PASSWORD=hunter2-secret';

interface Outcome { status: number | null; stdout: string; stderr: string }

/**
 * Runs `argv` as nobody:nogroup with no supplementary groups but `groups`. Through `sh`: setpriv
 * keeps root's capabilities until its own execve, so the path it execs is resolved as root.
 */
function asNobody(argv: string[], groups: number[] = []): Outcome {
  const groupArgs = groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', ...groupArgs, '--', '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function curlArgs(socket: string, path = '/_ping'): string[] {
  return ['curl', '-sS', '-f', '--max-time', '5', '--unix-socket', socket, `http://berth${path}`];
}

function assertRefused(what: string, argv: string[], groups: number[] = []): void {
  const r = asNobody(argv, groups);
  assert.notEqual(r.status, 0, `nobody could ${what}: ${argv.join(' ')} printed ${JSON.stringify(r.stdout.slice(0, 300))}`);
  assert.match(r.stderr, /Permission denied/, `${what}: refused for lack of permission (${r.stderr.trim()})`);
  assert.ok(!r.stdout.includes('hunter2'), `${what}: the secret stays hidden`);
}

function assertCannotConnect(what: string, socket: string, groups: number[] = []): void {
  const r = asNobody(curlArgs(socket), groups);
  assert.equal(r.status, 7, `nobody could connect to ${what} (curl exit ${r.status}: ${r.stdout}${r.stderr})`);
}

const modeOf = (path: string) => statSync(path).mode & 0o7777;
const octal = (mode: number) => `0${mode.toString(8)}`;

function assertMode(path: string, mode: number): void {
  assert.equal(octal(modeOf(path)), octal(mode), `${path} has mode ${octal(mode)}`);
}

/** An image whose only layer is the busybox rootfs plus a setuid-root copy of the host's `id`. */
function setuidImage(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', busyboxTarball(), '-C', rootfs]);
  chmodSync(rootfs, 0o755); // as in real images (the busybox tarball's root entry is 0700)
  mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
  copyFileSync('/usr/bin/id', join(rootfs, 'usr/local/bin/suid-id'));
  chmodSync(join(rootfs, 'usr/local/bin/suid-id'), 0o4755);
  const tarball = join(dir, 'suid.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tarball, '.']);
  return tarball;
}

/** Every directory berth keeps its state in, and every record file in them (not container or layer contents). */
function stateTree(daemon: TestDaemon): { dirs: string[]; records: string[] } {
  const data = daemon.dataRoot;
  const dirs = [data, ...['containers', 'images', 'layers', 'content', 'content/sha256', 'tmp'].map((d) => join(data, d))];
  for (const parent of ['containers', 'images', 'layers']) {
    for (const name of readdirSync(join(data, parent))) {
      const dir = join(data, parent, name);
      if (statSync(dir).isDirectory() && !name.startsWith('.') && name !== 'l') dirs.push(dir);
    }
  }
  const records = dirs.flatMap((dir) => readdirSync(dir).filter((f) => /\.jsonl?$/.test(f)).map((f) => join(dir, f)));
  records.push(...readdirSync(join(data, 'content/sha256')).map((f) => join(data, 'content/sha256', f)));
  return { dirs, records };
}

test('nobody can neither list, read nor run anything under the data root or the exec root, nor use the API socket', async (t) => {
  const daemon = newDaemon(t);
  chmodSync(daemon.root, 0o755);
  await daemon.start();
  const work = mkdtempSync('/tmp/berth-suid-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  await daemon.client.importImage(createReadStream(setuidImage(work)), 'suid');

  // A container given a secret, which plants a setuid-root binary in its writable layer.
  const { Id: id } = await daemon.client.createContainer({
    Image: 'suid',
    Env: [SECRET],
    Cmd: ['sh', '-c', 'cp /usr/local/bin/suid-id /tmp/suid-id && chmod 4755 /tmp/suid-id && exec sleep 1000'],
  });
  await daemon.client.startContainer(id);
  const containerDir = join(daemon.dataRoot, 'containers', id);
  const plantedSuid = join(containerDir, 'diff/tmp/suid-id');
  await waitFor('the setuid binary in the writable layer', () => existsSync(plantedSuid) && (modeOf(plantedSuid) & 0o4000) !== 0);
  // An exec (execs.json) and a container that has exited (exit.json), so every record exists.
  const exec = await daemon.client.createExec(id, { Cmd: ['true'] });
  await daemon.client.startExecDetached(exec.Id);
  await waitFor('exec exit', async () => (await daemon.client.inspectExec(exec.Id)).Running === false);
  const exited = await runShell(daemon, 'true', { Image: 'suid' });
  await daemon.client.waitContainer(exited);

  const layersDir = join(daemon.dataRoot, 'layers');
  const layer = readdirSync(layersDir).map((c) => join(layersDir, c)).find((dir) => existsSync(join(dir, 'diff/usr/local/bin/suid-id')));
  assert.ok(layer, 'the setuid layer is unpacked');
  const layerSuid = join(layer, 'diff/usr/local/bin/suid-id');
  assert.equal(modeOf(layerSuid), 0o4755, 'the layer keeps its setuid bit (berth unpacks images faithfully)');
  const record = join(containerDir, 'record.json');
  const bundleSpec = join(daemon.execRoot, 'bundles', id, 'config.json');
  const shimSocket = (JSON.parse(execFileSync('cat', [record], { encoding: 'utf8' })) as { shim: { socketPath: string } }).shim.socketPath;
  assert.ok(execFileSync('cat', [record], { encoding: 'utf8' }).includes(SECRET) && execFileSync('cat', [bundleSpec], { encoding: 'utf8' }).includes(SECRET), 'the secret is on disk, in the record and the bundle');

  // The probes work for nobody where nothing forbids them.
  assert.equal(asNobody(['id', '-u']).stdout.trim(), '65534');

  assertRefused('list the data root', ['ls', daemon.dataRoot]);
  assertRefused('list the layers', ['ls', layersDir]);
  assertRefused('run a setuid binary from an image layer', [layerSuid, '-u']);
  assertRefused('run a setuid binary a container planted in its writable layer', [plantedSuid, '-u']);
  assertRefused('list a writable layer', ['ls', join(containerDir, 'diff/tmp')]);
  assertRefused('read a container record', ['cat', record]);
  assertRefused('grep records for secrets', ['grep', '-r', 'DB_PASSWORD', join(daemon.dataRoot, 'containers')]);
  assertRefused('read the content store', ['ls', join(daemon.dataRoot, 'content/sha256')]);
  assertRefused('list the exec root', ['ls', daemon.execRoot]);
  assertRefused('read a bundle spec', ['cat', bundleSpec]);
  assertRefused('list the shim sockets', ['ls', join(daemon.execRoot, 's')]);
  assertCannotConnect('a shim socket', shimSocket);
  assertCannotConnect('the API socket', daemon.socket);

  // And as root sees it: owner-only modes all the way down, the API socket root:root 0660.
  const { dirs, records } = stateTree(daemon);
  for (const dir of dirs) assertMode(dir, 0o700);
  const names = new Set(records.map((r) => r.split('/').pop()));
  for (const name of ['record.json', 'exit.json', 'execs.json', 'settings.json', 'events.jsonl', 'layer.json', 'image.json']) assert.ok(names.has(name), `${name} was written`);
  for (const file of records) assertMode(file, 0o600);
  for (const dir of [daemon.execRoot, ...['bundles', 's', 'runtime', 'runtime/runc', `bundles/${id}`].map((d) => join(daemon.execRoot, d))]) assertMode(dir, 0o700);
  for (const file of ['config.json', 'shim.json'].map((f) => join(daemon.execRoot, 'bundles', id, f))) assertMode(file, 0o600);
  assertMode(shimSocket, 0o600);
  const api = statSync(daemon.socket);
  assert.ok(api.isSocket());
  assert.deepEqual([octal(api.mode & 0o7777), api.uid, api.gid], ['0660', 0, 0], 'API socket root:root 0660');
});

test('loose modes an older berth left are tightened at start, and live-restored containers stay under control', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true });
  chmodSync(daemon.root, 0o755);
  await daemon.start();
  await daemon.importBusybox();
  const id = await runShell(daemon, 'exec sleep 1000', { Env: [SECRET] });
  const { State: before } = await daemon.client.inspectContainer(id);
  await daemon.stop();

  const record = join(daemon.dataRoot, 'containers', id, 'record.json');
  const shimSocket = (JSON.parse(execFileSync('cat', [record], { encoding: 'utf8' })) as { shim: { socketPath: string } }).shim.socketPath;
  const data = (p: string) => join(daemon.dataRoot, p);
  const exec = (p: string) => join(daemon.execRoot, p);
  // What berth before this fix left: a 0711 data root with 0755 stores and 0644 records; here made 0755, the worst a user may have.
  for (const dir of [daemon.dataRoot, data('containers'), data(`containers/${id}`), data('layers'), data('content'), data('images'), daemon.execRoot, exec('s'), exec('bundles'), exec('runtime')]) chmodSync(dir, 0o755);
  for (const file of [record, data('settings.json')]) chmodSync(file, 0o644);
  chmodSync(shimSocket, 0o777);
  assert.equal(asNobody(['grep', '-c', 'DB_PASSWORD', record]).stdout.trim(), '1', 'as left, nobody reads the secret');
  assert.notEqual(asNobody(curlArgs(shimSocket)).status, 7, 'as left, nobody reaches the shim socket');

  await daemon.start();
  for (const dir of [daemon.dataRoot, data('containers'), data(`containers/${id}`), data('layers'), data('content'), data('images'), daemon.execRoot, exec('s'), exec('bundles'), exec('runtime')]) assertMode(dir, 0o700);
  assertMode(record, 0o600);
  assertMode(data('settings.json'), 0o600);
  assertMode(shimSocket, 0o600);
  assertRefused('read the record', ['cat', record]);
  assertCannotConnect('the shim socket', shimSocket);

  // The daemon still reaches the container through the tightened socket.
  const { State: after } = await daemon.client.inspectContainer(id);
  assert.equal(after.Running, true);
  assert.equal(after.Pid, before.Pid);
  await daemon.client.stopContainer(id, 1);
  assert.equal((await daemon.client.inspectContainer(id)).State.Running, false);
});

test('--group hands the API socket (and only it) to a group: 0660 root:group in a 0710 exec root', async (t) => {
  const group = `bt${randomBytes(4).toString('hex')}`;
  execFileSync('groupadd', [group]);
  t.after(() => execFileSync('groupdel', [group]));
  const gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  // The socket where berthd puts it by default: inside the exec root.
  const daemon = newDaemon(t, { socketInExecRoot: true, extraArgs: ['--group', group] });
  chmodSync(daemon.root, 0o755);
  await daemon.start();

  const socket = statSync(daemon.socket);
  assert.ok(socket.isSocket());
  assert.deepEqual([octal(socket.mode & 0o7777), socket.uid, socket.gid], ['0660', 0, gid], 'API socket root:group 0660');
  const execRoot = statSync(daemon.execRoot);
  assert.deepEqual([octal(execRoot.mode & 0o7777), execRoot.uid, execRoot.gid], ['0710', 0, gid], 'exec root root:group 0710: the group may only pass through');
  for (const dir of ['bundles', 's', 'runtime']) assertMode(join(daemon.execRoot, dir), 0o700);

  const member = asNobody(curlArgs(daemon.socket), [gid]);
  assert.deepEqual([member.status, member.stdout], [0, 'OK'], `a member of ${group} pings the daemon (${member.stderr})`);
  assert.equal(asNobody(curlArgs(daemon.socket, '/containers/json?all=1'), [gid]).stdout.trim(), '[]', 'and uses the API');
  assertCannotConnect('the API socket without the group', daemon.socket);
  assertRefused('list the exec root as a group member', ['ls', daemon.execRoot], [gid]);
  assertRefused('list the shim sockets as a group member', ['ls', join(daemon.execRoot, 's')], [gid]);
  assertRefused('list the data root as a group member', ['ls', daemon.dataRoot], [gid]);
});

test('an unknown --group stops the daemon before it starts, naming the group', async (t) => {
  const daemon = newDaemon(t, { configFile: {} });
  const missing = `bt-no-such-group-${randomBytes(3).toString('hex')}`;
  const { code, stderr } = await daemon.runExpectingExit([...daemon.args(), '--group', missing]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, new RegExp(`group ${missing} not found`));
  assert.equal(existsSync(daemon.socket), false, 'no socket was made');
});
