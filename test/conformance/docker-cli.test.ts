/**
 * The real docker CLI (v28) against a real berthd: each command's output and exit code.
 * Without the docker CLI this suite fails loudly; it never skips.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { docker, DOCKER, newDaemon, busyboxTarball, waitFor, type TestDaemon } from '../integration/harness.ts';


before(() => {
  const probe = spawnSync(DOCKER, ['--version'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `the docker CLI is required for this suite (looked for ${DOCKER}); install it or set DOCKER_CLI`);
});


async function ready(t: import('node:test').TestContext): Promise<TestDaemon> {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  const imported = await docker(daemon, ['import', busyboxTarball(), 'busybox']);
  assert.equal(imported.code, 0, imported.stderr);
  return daemon;
}

test('docker version and info talk to berthd', async (t) => {
  const daemon = await ready(t);
  const version = await docker(daemon, ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+ 1\.4\d 1\.24\n$/);
  const full = await docker(daemon, ['version']);
  assert.match(full.stdout, /Server: berth/);
  const info = await docker(daemon, ['info']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /Live Restore Enabled: true/);
});

test('docker run in the foreground streams output, exits with the code, honours --rm', async (t) => {
  const daemon = await ready(t);
  const run = await docker(daemon, ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; sleep 0.2; echo err >&2; exit 3']);
  assert.equal(run.code, 3);
  assert.equal(run.stdout, 'out\n');
  assert.equal(run.stderr, 'err\n');
  assert.equal((await docker(daemon, ['ps', '-aq'])).stdout, '');
  const detached = await docker(daemon, ['run', '-d', '--name', 'bg', 'busybox', 'sleep', '1000']);
  assert.equal(detached.code, 0, detached.stderr);
  assert.match(detached.stdout, /^[0-9a-f]{64}\n$/);
});

test('create, start -a, ps with filters and formats, inspect templates', async (t) => {
  const daemon = await ready(t);
  const created = await docker(daemon, ['create', '--name', 'c3', '-e', 'FOO=bar', '-l', 'k=v', 'busybox', 'sh', '-c', 'echo created-output; echo $FOO; exit 4']);
  assert.equal(created.code, 0, created.stderr);
  const started = await docker(daemon, ['start', '-a', 'c3']);
  assert.equal(started.code, 4);
  assert.equal(started.stdout, 'created-output\nbar\n');
  await docker(daemon, ['run', '-d', '--name', 'up1', '-l', 'role=web', 'busybox', 'sleep', '1000']);
  const ps = await docker(daemon, ['ps']);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sleep 1000"\s+.+\s+Up .+\s+up1\n$/);
  const exited = await docker(daemon, ['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}']);
  assert.match(exited.stdout, /^c3 Exited \(4\) .+ ago\n$/);
  assert.equal((await docker(daemon, ['ps', '-a', '--filter', 'exited=4', '--format', '{{.Names}}'])).stdout, 'c3\n');
  assert.equal((await docker(daemon, ['ps', '--filter', 'label=role=web', '--format', '{{.Names}}'])).stdout, 'up1\n');
  assert.equal((await docker(daemon, ['ps', '-a', '--filter', 'name=c3', '-q'])).stdout.trim().length, 12);
  assert.equal((await docker(daemon, ['ps', '-a', '--filter', 'ancestor=busybox', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort().join(','), 'c3,up1');
  assert.equal((await docker(daemon, ['ps', '-l', '--format', '{{.Names}}'])).stdout, 'up1\n');
  assert.equal((await docker(daemon, ['ps', '-a', '-n', '2', '-q'])).stdout.split('\n').filter(Boolean).length, 2);
  const table = await docker(daemon, ['ps', '--format', 'table {{.Names}}\t{{.Image}}']);
  assert.match(table.stdout, /^NAMES\s+IMAGE\nup1\s+busybox\n$/);
  const sized = await docker(daemon, ['ps', '-s', '--format', '{{.Size}}']);
  assert.match(sized.stdout, /B \(virtual .+B\)\n$/);
  const inspect = await docker(daemon, ['inspect', '-f', '{{.State.ExitCode}} {{.Config.Labels.k}} {{json .Config.Env}}', 'c3']);
  assert.match(inspect.stdout, /^4 v \["FOO=bar"/);
  const image = await docker(daemon, ['image', 'inspect', '-f', '{{.Os}} {{len .RootFS.Layers}}', 'busybox']);
  assert.equal(image.stdout, 'linux 1\n');
  const missing = await docker(daemon, ['inspect', 'nothing-here']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such object: nothing-here/);
});

test('logs with tail, timestamps, since/until, details and follow', async (t) => {
  const daemon = await ready(t);
  await docker(daemon, ['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'echo one; echo two; sleep 0.2; echo three >&2; sleep 1; echo four']);
  await waitFor('the first lines in the log', async () => {
    const l = await docker(daemon, ['logs', 'lg']);
    return l.stdout === 'one\ntwo\n' && l.stderr === 'three\n' ? true : undefined;
  });
  assert.equal((await docker(daemon, ['logs', '--tail', '1', 'lg'])).stderr, 'three\n');
  const stamped = await docker(daemon, ['logs', '-t', 'lg']);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n/);
  assert.equal((await docker(daemon, ['logs', '--details', 'lg'])).stdout, ' one\n two\n');
  assert.equal((await docker(daemon, ['logs', '--until', '2000-01-01T00:00:00Z', 'lg'])).stdout, '');
  assert.equal((await docker(daemon, ['logs', '--since', '10m', 'lg'])).stdout, 'one\ntwo\n');
  const followed = await docker(daemon, ['logs', '-f', 'lg']);
  assert.equal(followed.code, 0);
  assert.equal(followed.stdout, 'one\ntwo\nfour\n', 'follow ends when the container exits, with every line');
  const none = await docker(daemon, ['logs', 'ghost']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No such container: ghost/);
});

test('stop, kill, restart, wait with conditions, rm -f, rename', async (t) => {
  const daemon = await ready(t);
  await docker(daemon, ['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 0.5; exit 7']);
  assert.equal((await docker(daemon, ['wait', 'w1'])).stdout, '7\n');
  await docker(daemon, ['run', '-d', '--name', 's1', 'busybox', 'sleep', '1000']);
  const stop = await docker(daemon, ['stop', '-t', '1', 's1']);
  assert.equal(stop.code, 0);
  assert.equal(stop.stdout, 's1\n');
  assert.equal((await docker(daemon, ['inspect', '-f', '{{.State.ExitCode}}', 's1'])).stdout, '137\n');
  assert.equal((await docker(daemon, ['stop', 's1'])).code, 0, 'stopping a stopped container is fine (304)');
  const restart = await docker(daemon, ['restart', '-t', '0', 's1']);
  assert.equal(restart.code, 0);
  assert.equal((await docker(daemon, ['inspect', '-f', '{{.State.Running}}', 's1'])).stdout, 'true\n');
  const kill = await docker(daemon, ['kill', '-s', 'SIGKILL', 's1']);
  assert.equal(kill.code, 0);
  const killAgain = await docker(daemon, ['kill', 's1']);
  assert.equal(killAgain.code, 1);
  assert.match(killAgain.stderr, /is not running/);
  const renamed = await docker(daemon, ['rename', 's1', 's2']);
  assert.equal(renamed.code, 0);
  assert.equal((await docker(daemon, ['inspect', '-f', '{{.Name}}', 's2'])).stdout, '/s2\n');
  await docker(daemon, ['run', '-d', '--name', 'r1', 'busybox', 'sleep', '1000']);
  const rm = await docker(daemon, ['rm', 'r1']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /stop the container before removing or force remove/);
  // The docker CLI has no --condition flag; `run --rm` uses condition=removed, as does this.
  const waitRemoved = await daemon.client.waitContainerArmed('r1', 'removed');
  assert.equal((await docker(daemon, ['rm', '-f', '-v', 'r1'])).code, 0);
  assert.equal((await waitRemoved.result).StatusCode, 137);
  const nextExit = await daemon.client.waitContainerArmed('s2', 'next-exit');
  await docker(daemon, ['start', 's2']);
  await docker(daemon, ['kill', 's2']);
  assert.equal((await nextExit.result).StatusCode, 137);
});

test('pause, unpause, top, stats, exec, attach', async (t) => {
  const daemon = await ready(t);
  await docker(daemon, ['run', '-d', '--name', 'p1', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.3; done']);
  assert.equal((await docker(daemon, ['pause', 'p1'])).code, 0);
  assert.match((await docker(daemon, ['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  assert.equal((await docker(daemon, ['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p1'])).stdout, 'paused true\n');
  assert.equal((await docker(daemon, ['unpause', 'p1'])).code, 0);
  const top = await docker(daemon, ['top', 'p1']);
  assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
  assert.match(top.stdout, /sh -c while true/);
  const topArgs = await docker(daemon, ['top', 'p1', '-o', 'pid,comm']);
  assert.match(topArgs.stdout, /^PID\s+COMMAND\n/);
  const stats = await docker(daemon, ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'p1']);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^p1 [1-9]\d* \d.*B \/ .+B\n$/);
  const exec = await docker(daemon, ['exec', '-e', 'X=1', '-w', '/tmp', 'p1', 'sh', '-c', 'echo $X $(pwd); echo oops >&2; exit 5']);
  assert.equal(exec.code, 5);
  assert.equal(exec.stdout, '1 /tmp\n');
  assert.equal(exec.stderr, 'oops\n');
  const asUser = await docker(daemon, ['exec', '-u', 'nobody', 'p1', 'id', '-u']);
  assert.equal(asUser.stdout, '65534\n');
  assert.equal((await docker(daemon, ['exec', 'p1', '/no/such/thing'])).code, 127);
  assert.equal((await docker(daemon, ['exec', '-d', 'p1', 'sh', '-c', 'echo detached > /tmp/d'])).code, 0);
  await waitFor('the detached exec to write', async () => ((await docker(daemon, ['exec', 'p1', 'cat', '/tmp/d'])).stdout === 'detached\n' ? true : undefined));
  await docker(daemon, ['run', '-d', '--name', 'a1', 'busybox', 'sh', '-c', 'sleep 1; echo tick1; echo etick1 >&2; exit 2']);
  const attach = await docker(daemon, ['attach', '--no-stdin', 'a1']);
  assert.equal(attach.code, 2);
  assert.equal(attach.stdout, 'tick1\n');
  assert.equal(attach.stderr, 'etick1\n');
});

test('events: lifecycle with exit codes, since/until, filters', async (t) => {
  const daemon = await ready(t);
  const since = Math.floor(Date.now() / 1000);
  await docker(daemon, ['run', '--name', 'ev', 'busybox', 'sh', '-c', 'exit 3']);
  await docker(daemon, ['rename', 'ev', 'ev2']);
  await docker(daemon, ['rm', 'ev2']);
  const until = Math.ceil(Date.now() / 1000) + 1;
  const events = await docker(daemon, ['events', '--since', String(since), '--until', String(until), '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
  assert.equal(events.code, 0, events.stderr);
  const lines = events.stdout.trim().split('\n');
  assert.deepEqual(lines.filter((l) => !l.startsWith('attach')), ['create ev <no value>', 'start ev <no value>', 'die ev 3', 'rename ev2 <no value>', 'destroy ev2 <no value>']);
  const dies = await docker(daemon, ['events', '--since', String(since), '--until', String(until), '--filter', 'event=die', '--format', '{{.Action}}']);
  assert.equal(dies.stdout, 'die\n');
});

test('cp in both directions, and no escape from the container root', async (t) => {
  const daemon = await ready(t);
  await docker(daemon, ['run', '-d', '--name', 'cp1', 'busybox', 'sh', '-c', 'echo inside > /data.txt; ln -s / /rootlink; sleep 1000']);
  await waitFor('the container to set up its files', async () => ((await docker(daemon, ['exec', 'cp1', 'readlink', '/rootlink'])).stdout === '/\n' ? true : undefined));
  const work = mkdtempSync('/tmp/berth-cp-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const out = await docker(daemon, ['cp', 'cp1:/data.txt', join(work, 'out.txt')]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(readFileSync(join(work, 'out.txt'), 'utf8'), 'inside\n');
  writeFileSync(join(work, 'in.txt'), 'from host\n');
  assert.equal((await docker(daemon, ['cp', join(work, 'in.txt'), 'cp1:/tmp/'])).code, 0);
  assert.equal((await docker(daemon, ['exec', 'cp1', 'cat', '/tmp/in.txt'])).stdout, 'from host\n');
  // /rootlink -> / is resolved inside the container: its /etc/passwd, never the host's.
  const viaLink = await docker(daemon, ['cp', 'cp1:/rootlink/etc/passwd', join(work, 'passwd')]);
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.equal(readFileSync(join(work, 'passwd'), 'utf8').split('\n')[0], 'root:x:0:0:root:/root:/bin/sh');
  writeFileSync(join(work, 'planted'), 'x\n');
  assert.equal((await docker(daemon, ['cp', join(work, 'planted'), 'cp1:/rootlink/tmp/'])).code, 0);
  assert.equal((await docker(daemon, ['exec', 'cp1', 'cat', '/tmp/planted'])).stdout, 'x\n');
  const missing = await docker(daemon, ['cp', 'cp1:/nope', join(work, 'x')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Could not find the file \/nope/);
});

test('container prune, system df, images, tag, rmi', async (t) => {
  const daemon = await ready(t);
  await docker(daemon, ['run', '--name', 'old', 'busybox', 'true']);
  const df = await docker(daemon, ['system', 'df']);
  assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+1\s+/);
  const prune = await docker(daemon, ['container', 'prune', '-f']);
  assert.equal(prune.code, 0);
  assert.match(prune.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.equal((await docker(daemon, ['tag', 'busybox', 'myrepo/bb:v1'])).code, 0);
  const images = await docker(daemon, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(images.stdout.trim().split('\n').sort(), ['busybox:latest', 'myrepo/bb:v1']);
  const rmi = await docker(daemon, ['rmi', 'myrepo/bb:v1']);
  assert.equal(rmi.stdout, 'Untagged: myrepo/bb:v1\n');
  await docker(daemon, ['create', '--name', 'user', 'busybox', 'true']);
  const inUse = await docker(daemon, ['rmi', 'busybox']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /must force/);
  assert.equal((await docker(daemon, ['rmi', 'ghost:1'])).code, 1);
});

test('what berth does not do is a clear error, never a hang', async (t) => {
  const daemon = await ready(t);
  const swarm = await docker(daemon, ['swarm', 'init']);
  assert.notEqual(swarm.code, 0);
  assert.match(swarm.stderr, /swarm/i);
  const res = await daemon.client.raw('GET', '/plugins').catch((err: { status?: number }) => err);
  assert.equal((res as { status?: number }).status, 501);
});
