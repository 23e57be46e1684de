import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxTarball, newDaemon, readProcStat, runShell, waitFor, type TestDaemon } from '../integration/harness.ts';

const MS = 1_000_000;

function shimPid(execRoot: string, id: string): number {
  return Number.parseInt(readFileSync(join(execRoot, 'bundles', id, 'shim.pid'), 'utf8'), 10);
}

test('a health probe that prints 60 MB neither grows nor kills the shim: its output is cut to 4 KiB as it is read', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const id = await runShell(daemon, 'exec sleep 1000', {
    Healthcheck: { Test: ['CMD-SHELL', 'head -c 60000000 /dev/zero | tr "\\0" x'], Interval: 500 * MS, Timeout: 20_000 * MS, Retries: 3 },
  });
  const pid = shimPid(daemon.execRoot, id);
  const started = readProcStat(pid)?.startTime;
  const health = await waitFor('two probes recorded', async () => {
    const h = ((await daemon.client.inspectContainer(id)).State as { Health?: { Log: Array<{ ExitCode: number; Output: string }> } }).Health;
    return h && h.Log.length >= 2 ? h : undefined;
  }, 60_000);
  for (const result of health.Log) {
    assert.equal(result.ExitCode, 0);
    assert.equal(result.Output, 'x'.repeat(4096), 'the first 4 KiB of the output, nothing more');
  }
  const state = (await daemon.client.inspectContainer(id)).State as { Running: boolean };
  assert.equal(state.Running, true, 'the container still runs');
  const stat = readProcStat(pid);
  assert.ok(stat && stat.state !== 'Z' && stat.startTime === started, 'the same shim is alive');
});

/** An image of the busybox rootfs whose /etc/passwd is replaced by `make(path)`. */
function imageWithPasswd(dir: string, name: string, make: (path: string) => void): string {
  const rootfs = join(dir, name);
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', busyboxTarball(), '-C', rootfs]);
  chmodSync(rootfs, 0o755);
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  rmSync(join(rootfs, 'etc/passwd'), { force: true });
  make(join(rootfs, 'etc/passwd'));
  const tarball = join(dir, `${name}.tar`);
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tarball, '.']);
  return tarball;
}

/** Fails (rather than hangs) when the daemon does not answer within `ms`. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function refusedWithin(daemon: TestDaemon, what: string, call: () => Promise<unknown>, message: RegExp): Promise<void> {
  const pings = (async () => {
    for (let i = 0; i < 3; i++) await within(5_000, `/_ping during ${what}`, daemon.client.ping());
  })();
  await assert.rejects(within(15_000, what, call()), (err: Error) => {
    assert.doesNotMatch(err.message, /no answer within/, `${what} hangs the daemon`);
    assert.match(err.message, message, what);
    return true;
  });
  await pings;
}

test('a hostile /etc/passwd (a FIFO, /dev/zero, a host file by absolute or climbing symlink) never blocks the daemon nor reaches the host', async (t) => {
  const work = mkdtempSync('/tmp/berth-passwd-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // A host file that would resolve the user if the daemon followed a link out of the rootfs.
  const hostPasswd = join(work, 'host-passwd');
  writeFileSync(hostPasswd, 'nobody:x:4242:4242:host file:/:/bin/sh\n');
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const cases: Array<[string, (path: string) => void, string, RegExp]> = [
    ['fifo', (path) => execFileSync('mkfifo', [path]), 'mkfifo /etc/passwd', /\/etc\/passwd in the container is not a regular file/],
    ['zero', (path) => symlinkSync('/dev/zero', path), 'ln -s /dev/zero /etc/passwd', /\/etc\/passwd in the container is not a regular file|unable to find user nobody/],
    ['hostabs', (path) => symlinkSync(hostPasswd, path), `ln -s ${hostPasswd} /etc/passwd`, /unable to find user nobody/],
    ['hostrel', (path) => symlinkSync(`../../../../../../../../..${hostPasswd}`, path), `ln -s ../../../../../../../../..${hostPasswd} /etc/passwd`, /unable to find user nobody/],
  ];
  for (const [name, make, swap, message] of cases) {
    // From the image, at start (the runtime itself would hang on a FIFO: berth refuses before it runs).
    await daemon.client.importImage(createReadStream(imageWithPasswd(work, name, make)), name);
    const { Id } = await daemon.client.createContainer({ Image: name, Cmd: ['id'], User: 'nobody' });
    await refusedWithin(daemon, `start of ${name} as nobody`, () => daemon.client.startContainer(Id), message);
    // Swapped in by a running container, at exec.
    const running = await runShell(daemon, `rm /etc/passwd && ${swap} && touch /tmp/swapped && exec sleep 1000`);
    // Seen from the host in the container's writable layer (an exec would hang in the runtime on a FIFO).
    await waitFor('the swapped /etc/passwd', () => existsSync(join(daemon.dataRoot, 'containers', running, 'diff/tmp/swapped')) || undefined);
    const exec = await daemon.client.createExec(running, { Cmd: ['id'], User: 'nobody', AttachStdout: true });
    await refusedWithin(daemon, `exec into ${name} as nobody`, () => daemon.client.startExecDetached(exec.Id), message);
    // Attached (what `exec -u` does): the error reaches the client before its stream is taken over.
    const attached = await within(15_000, `berth exec -u nobody into ${name}`, daemon.cli(['exec', '-u', 'nobody', running, 'id']));
    assert.notEqual(attached.code, 0);
    assert.match(attached.stderr, message);
  }
  // An ordinary image still resolves its users and groups, at start and in execs.
  const { Id } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], User: 'nobody' });
  await daemon.client.startContainer(Id);
  const run = await daemon.cli(['exec', Id, 'id']);
  assert.match(run.stdout, /uid=65534\(nobody\) gid=65534\(nogroup\)/, run.stderr);
  const asDaemon = await daemon.cli(['exec', '-u', 'daemon', Id, 'id', '-u']);
  assert.equal(asDaemon.stdout.trim(), '1', asDaemon.stderr);
  unlinkSync(hostPasswd);
});

test('--log-opt max-file is bounded, and logs reads every rotated file in order', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  await assert.rejects(
    daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-file': '3000000', 'max-size': '1k' } } } }),
    (err: Error) => /max-file/.test(err.message) && (err as { status?: number }).status === 400,
  );
  const id = await runShell(daemon, 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done', { HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '4k', 'max-file': '5' } } } });
  await daemon.client.waitContainer(id);
  const logs = await daemon.cli(['logs', id]);
  const lines = logs.stdout.trim().split('\n');
  const first = Number(lines[0]!.split(' ')[1]);
  assert.ok(first > 0, 'the oldest lines were rotated away');
  assert.deepEqual(lines, Array.from({ length: 300 - first }, (_, i) => `line ${first + i}`));
  const rotated = readFileSync(join(daemon.dataRoot, 'containers', id, `${id}-json.log.4`), 'utf8');
  assert.ok(rotated.length > 0, 'five files were in use');
});
