/**
 * The berth CLI against a real berthd, command by command: the same checks that
 * test/conformance/docker-cli.test.ts makes of the docker CLI, so docker muscle memory works
 * with berth (output, exit codes, error messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readAll } from '../../src/client/client.ts';
import { newDaemon, busyboxTarball, sleep, waitFor, type TestDaemon } from './harness.ts';
import { freePort } from './registry.ts';

async function ready(t: import('node:test').TestContext): Promise<TestDaemon> {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  const imported = await daemon.cli(['import', busyboxTarball(), 'busybox']);
  assert.equal(imported.code, 0, imported.stderr);
  return daemon;
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** Whether the daemon has published `action` for a container since `since` (unix seconds). */
async function sawEvent(daemon: TestDaemon, since: number, action: string): Promise<boolean> {
  const res = await daemon.client.events({ since: String(since), until: (Date.now() / 1000).toFixed(3), filters: JSON.stringify({ event: { [action]: true } }) });
  return (await readAll(res)).includes(`"Action":"${action}"`);
}

/** A container script that blocks until `berth exec <name> touch /tmp/go`. */
const WAIT_FOR_GO = 'while [ ! -e /tmp/go ]; do sleep 0.1; done';

test('berth version, info and usage errors', async (t) => {
  const daemon = await ready(t);
  const version = await daemon.cli(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+ 1\.4\d 1\.24\n$/);
  const full = await daemon.cli(['version']);
  assert.match(full.stdout, /^Client: berth\n Version: +\d+\.\d+\.\d+\n API version: +1\.47\n/);
  assert.match(full.stdout, /\nServer: berth\n Engine:\n  Version: +\d+\.\d+\.\d+\n  API version: +1\.47 \(minimum version 1\.24\)\n/);
  const info = await daemon.cli(['info']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^Client:\n/);
  assert.match(info.stdout, /\nServer:\n Containers: 0\n  Running: 0\n  Paused: 0\n  Stopped: 0\n Images: 1\n/);
  assert.match(info.stdout, /Live Restore Enabled: true/);
  assert.match(info.stdout, / Total Memory: \d+(\.\d+)?[KMGT]iB\n/);
  const infoFormat = await daemon.cli(['info', '--format', '{{.Images}} {{.OSType}} {{.Swarm.LocalNodeState}}']);
  assert.equal(infoFormat.stdout, '1 linux inactive\n');
  assert.match((await daemon.cli(['--version'])).stdout, /^Berth version \d+\.\d+\.\d+, build \S+\n$/);

  const badFlag = await daemon.cli(['ps', '--bogus']);
  assert.equal(badFlag.code, 125);
  assert.match(badFlag.stderr, /^unknown flag: --bogus\n\nRun 'berth ps --help' for more information\n$/);
  const missingArg = await daemon.cli(['start']);
  assert.equal(missingArg.code, 1);
  assert.match(missingArg.stderr, /'berth start' requires at least 1 argument/);
  const unknown = await daemon.cli(['bogus']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command/);
  const badTemplate = await daemon.cli(['inspect', '-f', '{{.Name', 'busybox']);
  assert.equal(badTemplate.code, 1);
  assert.match(badTemplate.stderr, /^template parsing error: /);
});

test('berth run in the foreground streams output, exits with the code, honours --rm; create and run errors', async (t) => {
  const daemon = await ready(t);
  const run = await daemon.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; sleep 0.2; echo err >&2; exit 3']);
  assert.equal(run.code, 3);
  assert.equal(run.stdout, 'out\n');
  assert.equal(run.stderr, 'err\n');
  assert.equal((await daemon.cli(['ps', '-aq'])).stdout, '');
  const quick = await daemon.cli(['run', '--name', 'quick', 'busybox', 'echo', 'hello']);
  assert.equal(quick.code, 0);
  assert.equal(quick.stdout, 'hello\n', 'output written right at start is not lost');
  assert.equal((await daemon.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'quick'])).stdout, 'exited 0\n');

  const detached = await daemon.cli(['run', '-d', '--name', 'bg', 'busybox', 'sleep', '1000']);
  assert.equal(detached.code, 0, detached.stderr);
  assert.match(detached.stdout, /^[0-9a-f]{64}\n$/);

  // A missing image is pulled first; its registry (a closed loopback port) cannot be reached.
  const missing = `127.0.0.1:${await freePort()}/nosuchimage`;
  const missingImage = await daemon.cli(['run', missing]);
  assert.equal(missingImage.code, 125);
  assert.match(missingImage.stderr, new RegExp(`^Unable to find image '${missing}:latest' locally\\nberth: Error response from daemon: registry ${missing.split('/')[0]} is unavailable: .*ECONNREFUSED`));
  assert.match(missingImage.stderr, /\n\nRun 'berth run --help' for more information\n$/);
  const noPull = await daemon.cli(['run', '--pull', 'never', 'nosuchimage']);
  assert.equal(noPull.code, 125);
  assert.doesNotMatch(noPull.stderr, /Unable to find image/);
  assert.match(noPull.stderr, /No such image: nosuchimage/);
  const missingBinary = await daemon.cli(['run', 'busybox', '/no/such/binary']);
  assert.equal(missingBinary.code, 127);
  assert.match(missingBinary.stderr, /berth: Error response from daemon: .*no such file or directory/);
  const nameInUse = await daemon.cli(['run', '--name', 'bg', 'busybox', 'true']);
  assert.equal(nameInUse.code, 125);
  assert.match(nameInUse.stderr, /Conflict\. The container name "\/bg" is already in use/);
  const createConflict = await daemon.cli(['create', '--name', 'bg', 'busybox', 'true']);
  assert.equal(createConflict.code, 1, 'docker 28 exits 1 for a failed create (125 is for run)');
  assert.match(createConflict.stderr, /^Error response from daemon: Conflict\./);
  const tty = await daemon.cli(['run', '-t', 'busybox', 'true']);
  assert.equal(tty.code, 125, 'what berthd does not support is a daemon error, not a hang');
});

test('create, start -a, ps with filters and formats, inspect templates', async (t) => {
  const daemon = await ready(t);
  const created = await daemon.cli(['create', '--name', 'c3', '-e', 'FOO=bar', '-l', 'k=v', 'busybox', 'sh', '-c', 'echo created-output; echo $FOO; exit 4']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  const started = await daemon.cli(['start', '-a', 'c3']);
  assert.equal(started.code, 4);
  assert.equal(started.stdout, 'created-output\nbar\n');
  assert.equal((await daemon.cli(['start', '-a', 'c3', 'c3'])).code, 1, 'start -a takes one container');
  await daemon.cli(['run', '-d', '--name', 'up1', '-l', 'role=web', 'busybox', 'sleep', '1000']);
  const ps = await daemon.cli(['ps']);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sleep 1000"\s+.+\s+Up .+\s+up1\n$/);
  const exited = await daemon.cli(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}']);
  assert.match(exited.stdout, /^c3 Exited \(4\) .+ ago\n$/);
  assert.equal((await daemon.cli(['ps', '-a', '--filter', 'exited=4', '--format', '{{.Names}}'])).stdout, 'c3\n');
  assert.equal((await daemon.cli(['ps', '--filter', 'label=role=web', '--format', '{{.Names}}'])).stdout, 'up1\n');
  assert.equal((await daemon.cli(['ps', '-a', '--filter', 'name=c3', '-q'])).stdout.trim().length, 12);
  assert.equal(lines((await daemon.cli(['ps', '-a', '--filter', 'ancestor=busybox', '--format', '{{.Names}}'])).stdout).sort().join(','), 'c3,up1');
  assert.equal((await daemon.cli(['ps', '-l', '--format', '{{.Names}}'])).stdout, 'up1\n');
  assert.equal(lines((await daemon.cli(['ps', '-a', '-n', '2', '-q'])).stdout).length, 2);
  assert.match((await daemon.cli(['ps', '--format', 'table {{.Names}}\t{{.Image}}'])).stdout, /^NAMES\s+IMAGE\nup1\s+busybox\n$/);
  assert.match((await daemon.cli(['ps', '-s', '--format', '{{.Size}}'])).stdout, /B \(virtual .+B\)\n$/);
  assert.equal((await daemon.cli(['container', 'ls', '--format', '{{.Names}}'])).stdout, 'up1\n');

  const inspect = await daemon.cli(['inspect', '-f', '{{.State.ExitCode}} {{.Config.Labels.k}} {{json .Config.Env}}', 'c3']);
  assert.match(inspect.stdout, /^4 v \["FOO=bar"/);
  const whole = await daemon.cli(['inspect', 'c3']);
  assert.equal(whole.code, 0);
  assert.match(whole.stdout, /^\[\n {4}\{\n {8}"Id": "[0-9a-f]{64}",\n/);
  const parsed = JSON.parse(whole.stdout) as Array<{ Name: string }>;
  assert.equal(parsed[0]!.Name, '/c3');
  assert.equal((await daemon.cli(['image', 'inspect', '-f', '{{.Os}} {{len .RootFS.Layers}}', 'busybox'])).stdout, 'linux 1\n');
  assert.equal((await daemon.cli(['inspect', '-f', '{{.Os}}', 'busybox'])).stdout, 'linux\n', 'untyped inspect falls back to images');
  assert.equal((await daemon.cli(['container', 'inspect', '-f', '{{.Name}}', 'c3'])).stdout, '/c3\n');
  const missing = await daemon.cli(['inspect', 'nothing-here']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '[]\n');
  assert.equal(missing.stderr, 'Error: No such object: nothing-here\n');
  const mixed = await daemon.cli(['inspect', '-f', '{{.Name}}', 'c3', 'ghost']);
  assert.equal(mixed.code, 1);
  assert.equal(mixed.stdout, '/c3\n');
  const typed = await daemon.cli(['inspect', '--type', 'container', 'busybox']);
  assert.equal(typed.code, 1);
  assert.equal(typed.stderr, 'Error response from daemon: No such container: busybox\n');
  const imageMissing = await daemon.cli(['image', 'inspect', 'ghost']);
  assert.equal(imageMissing.code, 1);
  assert.match(imageMissing.stderr, /^Error response from daemon: No such image: ghost/);
});

test('logs with tail, timestamps, since/until, details and follow', async (t) => {
  const daemon = await ready(t);
  await daemon.cli(['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', `echo one; echo two; sleep 0.2; echo three >&2; ${WAIT_FOR_GO}; echo four`]);
  // (stdout and stderr are read from separate pipes: the pause keeps their order in the log.)
  await waitFor('the first lines', async () => {
    const { stdout, stderr } = await daemon.cli(['logs', 'lg']);
    return (stdout === 'one\ntwo\n' && stderr === 'three\n') || undefined;
  });
  const tail = await daemon.cli(['logs', '--tail', '1', 'lg']);
  assert.equal(tail.stderr, 'three\n');
  assert.equal(tail.stdout, '');
  const stamped = await daemon.cli(['logs', '-t', 'lg']);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z two\n$/);
  assert.equal((await daemon.cli(['logs', '--details', 'lg'])).stdout, ' one\n two\n');
  assert.equal((await daemon.cli(['logs', '--until', '2000-01-01T00:00:00Z', 'lg'])).stdout, '');
  assert.equal((await daemon.cli(['logs', '--since', '10m', 'lg'])).stdout, 'one\ntwo\n');
  const following = daemon.cli(['logs', '-f', 'lg']);
  await sleep(500);
  await daemon.cli(['exec', 'lg', 'touch', '/tmp/go']);
  const followed = await following;
  assert.equal(followed.code, 0);
  assert.equal(followed.stdout, 'one\ntwo\nfour\n', 'follow ends when the container exits, with every line');
  assert.equal((await daemon.cli(['logs', '-n', '1', 'lg'])).stdout, 'four\n');
  assert.equal((await daemon.cli(['logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), 'lg'])).stdout, '', 'unix timestamps pass through');
  const none = await daemon.cli(['logs', 'ghost']);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'Error response from daemon: No such container: ghost\n');
  const badSince = await daemon.cli(['logs', '--since', 'yesterday', 'lg']);
  assert.equal(badSince.code, 1);
  assert.match(badSince.stderr, /failed to parse value as time or duration: "yesterday"/);
});

test('stop, kill, restart, wait, rm -f, rename, and their errors', async (t) => {
  const daemon = await ready(t);
  await daemon.cli(['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 0.5; exit 7']);
  assert.equal((await daemon.cli(['wait', 'w1'])).stdout, '7\n');
  await daemon.cli(['run', '-d', '--name', 's1', 'busybox', 'sleep', '1000']);
  const stop = await daemon.cli(['stop', '-t', '1', 's1']);
  assert.equal(stop.code, 0);
  assert.equal(stop.stdout, 's1\n');
  assert.equal((await daemon.cli(['inspect', '-f', '{{.State.ExitCode}}', 's1'])).stdout, '137\n');
  const again = await daemon.cli(['stop', 's1']);
  assert.equal(again.code, 0, 'stopping a stopped container is fine (304)');
  assert.equal(again.stdout, 's1\n');
  const restart = await daemon.cli(['restart', '-t', '0', 's1']);
  assert.equal(restart.code, 0);
  assert.equal(restart.stdout, 's1\n');
  assert.equal((await daemon.cli(['inspect', '-f', '{{.State.Running}}', 's1'])).stdout, 'true\n');
  const kill = await daemon.cli(['kill', '-s', 'SIGKILL', 's1']);
  assert.equal(kill.code, 0);
  assert.equal(kill.stdout, 's1\n');
  const killAgain = await daemon.cli(['kill', 's1']);
  assert.equal(killAgain.code, 1);
  assert.match(killAgain.stderr, /^Error response from daemon: .*is not running\n$/);
  const renamed = await daemon.cli(['rename', 's1', 's2']);
  assert.equal(renamed.code, 0);
  assert.equal(renamed.stdout, '');
  assert.equal((await daemon.cli(['inspect', '-f', '{{.Name}}', 's2'])).stdout, '/s2\n');
  const renameMissing = await daemon.cli(['rename', 'ghost', 'g2']);
  assert.equal(renameMissing.code, 1);
  assert.equal(renameMissing.stderr, 'Error response from daemon: No such container: ghost\nError: failed to rename container named ghost\n');

  await daemon.cli(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '1000']);
  const rm = await daemon.cli(['rm', 'r1']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /^Error response from daemon: .*(stop the container before removing or force remove|Stop the container before attempting removal)/);
  const waitRemoved = (await daemon.client.waitContainerArmed('r1', 'removed')).result;
  const rmForce = await daemon.cli(['rm', '-f', '-v', 'r1']);
  assert.equal(rmForce.code, 0);
  assert.equal(rmForce.stdout, 'r1\n');
  assert.equal((await waitRemoved).StatusCode, 137);
  const rmGhost = await daemon.cli(['rm', '-f', 'ghost']);
  assert.equal(rmGhost.code, 0, 'rm -f of a missing container is reported, not a failure');
  assert.equal(rmGhost.stderr, 'Error response from daemon: No such container: ghost\n');
  const rmMany = await daemon.cli(['rm', 'ghost', 'w1']);
  assert.equal(rmMany.code, 1);
  assert.equal(rmMany.stdout, 'w1\n', 'the others are still removed');
  const startMissing = await daemon.cli(['start', 'ghost']);
  assert.equal(startMissing.code, 1);
  assert.equal(startMissing.stderr, 'Error response from daemon: No such container: ghost\nError: failed to start containers: ghost\n');
  const start = await daemon.cli(['start', 's2']);
  assert.equal(start.stdout, 's2\n');
  const nextExit = (await daemon.client.waitContainerArmed('s2', 'next-exit')).result;
  await daemon.cli(['kill', 's2']);
  assert.equal((await nextExit).StatusCode, 137);
  const waitMissing = await daemon.cli(['wait', 'ghost']);
  assert.equal(waitMissing.code, 1);
  assert.equal(waitMissing.stderr, 'Error response from daemon: No such container: ghost\n');
});

test('pause, unpause, top, stats, exec, attach', async (t) => {
  const daemon = await ready(t);
  await daemon.cli(['run', '-d', '--name', 'p1', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.3; done']);
  const pause = await daemon.cli(['pause', 'p1']);
  assert.equal(pause.code, 0);
  assert.equal(pause.stdout, 'p1\n');
  assert.match((await daemon.cli(['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  assert.equal((await daemon.cli(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'p1'])).stdout, 'paused true\n');
  const attachPaused = await daemon.cli(['attach', 'p1']);
  assert.equal(attachPaused.code, 1);
  assert.equal(attachPaused.stderr, 'You cannot attach to a paused container, unpause it first\n');
  const unpause = await daemon.cli(['unpause', 'p1']);
  assert.equal(unpause.code, 0);
  assert.equal(unpause.stdout, 'p1\n');
  assert.equal((await daemon.cli(['pause', 'ghost'])).code, 1);

  const top = await daemon.cli(['top', 'p1']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD\n/);
  assert.match(top.stdout, /sh -c while true/);
  const topArgs = await daemon.cli(['top', 'p1', '-o', 'pid,comm']);
  assert.match(topArgs.stdout, /^PID {17}COMMAND\n\d+ +sh\n/);

  const stats = await daemon.cli(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'p1']);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^p1 [1-9]\d* \d.*B \/ .+B\n$/);
  const table = await daemon.cli(['stats', '--no-stream']);
  assert.match(table.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n[0-9a-f]{12}\s+p1\s+\d+\.\d\d%\s+\S+B \/ \S+B\s+\d+\.\d\d%\s+0B \/ 0B\s+\S+B \/ \S+B\s+[1-9]\d*\n$/);
  const json = await daemon.cli(['stats', '--no-stream', '--no-trunc', '--format', 'json', 'p1']);
  const row = JSON.parse(json.stdout) as Record<string, string>;
  assert.equal(row.Container, 'p1');
  assert.match(row.ID!, /^[0-9a-f]{64}$/);
  assert.match(row.CPUPerc!, /^\d+\.\d\d%$/);
  const statsMissing = await daemon.cli(['stats', '--no-stream', 'ghost']);
  assert.equal(statsMissing.code, 1);
  assert.equal(statsMissing.stderr, 'Error response from daemon: No such container: ghost\n');

  const exec = await daemon.cli(['exec', '-e', 'X=1', '-w', '/tmp', 'p1', 'sh', '-c', 'echo $X $(pwd); echo oops >&2; exit 5']);
  assert.equal(exec.code, 5);
  assert.equal(exec.stdout, '1 /tmp\n');
  assert.equal(exec.stderr, 'oops\n');
  assert.equal((await daemon.cli(['exec', '-u', 'nobody', 'p1', 'id', '-u'])).stdout, '65534\n');
  assert.equal((await daemon.cli(['exec', 'p1', '/no/such/thing'])).code, 127);
  const detached = await daemon.cli(['exec', '-d', 'p1', 'sh', '-c', 'echo detached > /tmp/d']);
  assert.equal(detached.code, 0);
  assert.equal(detached.stdout, '');
  await waitFor('the detached exec', async () => (await daemon.cli(['exec', 'p1', 'cat', '/tmp/d'])).stdout === 'detached\n' || undefined);
  const execMissing = await daemon.cli(['exec', 'ghost', 'true']);
  assert.equal(execMissing.code, 1);
  assert.equal(execMissing.stderr, 'Error response from daemon: No such container: ghost\n');

  await daemon.cli(['run', '-d', '--name', 'a1', 'busybox', 'sh', '-c', `${WAIT_FOR_GO}; echo tick1; echo etick1 >&2; exit 2`]);
  const attachSince = Math.floor(Date.now() / 1000);
  const attaching = daemon.cli(['attach', '--no-stdin', 'a1']);
  await waitFor('the attach', async () => (await sawEvent(daemon, attachSince, 'attach')) || undefined);
  await daemon.cli(['exec', 'a1', 'touch', '/tmp/go']);
  const attach = await attaching;
  assert.equal(attach.code, 2);
  assert.equal(attach.stdout, 'tick1\n');
  assert.equal(attach.stderr, 'etick1\n');
  const attachStopped = await daemon.cli(['attach', 'a1']);
  assert.equal(attachStopped.code, 1);
  assert.equal(attachStopped.stderr, 'You cannot attach to a stopped container, start it first\n');
  const execStopped = await daemon.cli(['exec', 'a1', 'true']);
  assert.equal(execStopped.code, 1);
  assert.match(execStopped.stderr, /is not running/);
});

test('events: lifecycle with exit codes, since/until, filters, docker\'s default line', async (t) => {
  const daemon = await ready(t);
  const since = Math.floor(Date.now() / 1000);
  // (A container that exits at once can have its `die` dated before berthd publishes `start`.)
  await daemon.cli(['run', '--name', 'ev', 'busybox', 'sh', '-c', 'sleep 1; exit 3']);
  await daemon.cli(['rename', 'ev', 'ev2']);
  await daemon.cli(['rm', 'ev2']);
  const until = Math.ceil(Date.now() / 1000) + 1;
  const range = ['--since', String(since), '--until', String(until)];
  const events = await daemon.cli(['events', ...range, '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}']);
  assert.equal(events.code, 0, events.stderr);
  assert.deepEqual(lines(events.stdout).filter((l) => !l.startsWith('attach')), ['create ev <no value>', 'start ev <no value>', 'die ev 3', 'rename ev2 <no value>', 'destroy ev2 <no value>']);
  assert.equal((await daemon.cli(['events', ...range, '--filter', 'event=die', '--format', '{{.Action}}'])).stdout, 'die\n');
  const plain = await daemon.cli(['events', ...range, '--filter', 'type=container']);
  const first = lines(plain.stdout)[0]!;
  assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container create [0-9a-f]{64} \(image=busybox, name=ev\)$/);
  assert.match(plain.stdout, / container die [0-9a-f]{64} \(exitCode=3, image=busybox, name=ev\)\n/);
  const json = await daemon.cli(['events', ...range, '--filter', 'event=die', '--format', 'json']);
  assert.equal((JSON.parse(json.stdout) as { Actor: { Attributes: Record<string, string> } }).Actor.Attributes.exitCode, '3');
  const relative = await daemon.cli(['events', '--since', '1m', '--until', '0s', '--filter', 'event=destroy', '--format', '{{.Actor.Attributes.name}}']);
  assert.equal(relative.stdout, 'ev2\n', 'durations count back from now');
  const system = await daemon.cli(['system', 'events', ...range, '--filter', 'event=rename', '--format', '{{.Action}}']);
  assert.equal(system.stdout, 'rename\n');
});

test('cp in both directions with docker cp\'s path rules, and no escape from the container root', async (t) => {
  const daemon = await ready(t);
  await daemon.cli(['run', '-d', '--name', 'cp1', 'busybox', 'sh', '-c', 'echo inside > /data.txt; ln -s / /rootlink; mkdir -p /d/sub; echo a > /d/a; echo b > /d/sub/b; sleep 1000']);
  await waitFor('the files', async () => (await daemon.cli(['exec', 'cp1', 'cat', '/d/sub/b'])).stdout === 'b\n' || undefined);
  const work = mkdtempSync('/tmp/berth-cp-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const out = await daemon.cli(['cp', 'cp1:/data.txt', join(work, 'out.txt')]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout + out.stderr, '', 'quiet when not on a terminal');
  assert.equal(readFileSync(join(work, 'out.txt'), 'utf8'), 'inside\n');
  // A file onto an existing directory goes inside it.
  mkdirSync(join(work, 'existing'));
  assert.equal((await daemon.cli(['cp', 'cp1:/data.txt', join(work, 'existing')])).code, 0);
  assert.equal(readFileSync(join(work, 'existing', 'data.txt'), 'utf8'), 'inside\n');
  // A directory: into an existing one, to a new name, or just its contents with /.
  assert.equal((await daemon.cli(['cp', 'cp1:/d', join(work, 'existing')])).code, 0);
  assert.equal(readFileSync(join(work, 'existing', 'd', 'sub', 'b'), 'utf8'), 'b\n');
  assert.equal((await daemon.cli(['cp', 'cp1:/d', join(work, 'newdir')])).code, 0);
  assert.deepEqual(readdirSync(join(work, 'newdir')).sort(), ['a', 'sub']);
  mkdirSync(join(work, 'contents'));
  assert.equal((await daemon.cli(['cp', 'cp1:/d/.', join(work, 'contents')])).code, 0);
  assert.deepEqual(readdirSync(join(work, 'contents')).sort(), ['a', 'sub']);
  const dirOntoFile = await daemon.cli(['cp', 'cp1:/d', join(work, 'out.txt')]);
  assert.equal(dirOntoFile.code, 1);
  assert.equal(dirOntoFile.stderr, 'cannot copy directory\n');
  const fileToMissingDir = await daemon.cli(['cp', 'cp1:/data.txt', join(work, 'nodir') + '/']);
  assert.equal(fileToMissingDir.code, 1);
  assert.equal(fileToMissingDir.stderr, 'no such directory\n');
  assert.ok(!existsSync(join(work, 'nodir')));
  const toStdout = await daemon.cli(['cp', 'cp1:/data.txt', '-']);
  assert.equal(toStdout.code, 0);
  assert.match(toStdout.stdout, /^data\.txt\0/, 'a tar stream');

  writeFileSync(join(work, 'in.txt'), 'from host\n');
  const into = await daemon.cli(['cp', join(work, 'in.txt'), 'cp1:/tmp/']);
  assert.equal(into.code, 0, into.stderr);
  assert.equal((await daemon.cli(['exec', 'cp1', 'cat', '/tmp/in.txt'])).stdout, 'from host\n');
  assert.equal((await daemon.cli(['cp', join(work, 'in.txt'), 'cp1:/tmp/renamed.txt'])).code, 0);
  assert.equal((await daemon.cli(['exec', 'cp1', 'cat', '/tmp/renamed.txt'])).stdout, 'from host\n');
  mkdirSync(join(work, 'hd', 'sub'), { recursive: true });
  writeFileSync(join(work, 'hd', 'one'), '1\n');
  writeFileSync(join(work, 'hd', 'sub', 'two'), '2\n');
  assert.equal((await daemon.cli(['cp', join(work, 'hd'), 'cp1:/tmp/'])).code, 0);
  assert.equal((await daemon.cli(['cp', join(work, 'hd'), 'cp1:/tmp/hd2'])).code, 0);
  assert.equal((await daemon.cli(['exec', 'cp1', 'sh', '-c', 'cat /tmp/hd/sub/two /tmp/hd2/one'])).stdout, '2\n1\n');
  // /rootlink -> / is resolved inside the container: its /etc/passwd, never the host's.
  const viaLink = await daemon.cli(['cp', 'cp1:/rootlink/etc/passwd', join(work, 'passwd')]);
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.equal(readFileSync(join(work, 'passwd'), 'utf8').split('\n')[0], 'root:x:0:0:root:/root:/bin/sh');
  writeFileSync(join(work, 'planted'), 'x\n');
  assert.equal((await daemon.cli(['cp', join(work, 'planted'), 'cp1:/rootlink/tmp/'])).code, 0);
  assert.equal((await daemon.cli(['exec', 'cp1', 'cat', '/tmp/planted'])).stdout, 'x\n');

  const missing = await daemon.cli(['cp', 'cp1:/nope', join(work, 'x')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error response from daemon: Could not find the file \/nope/);
  const missingLocal = await daemon.cli(['cp', join(work, 'nope'), 'cp1:/tmp/']);
  assert.equal(missingLocal.code, 1);
  assert.equal(missingLocal.stderr, `lstat ${join(work, 'nope')}: no such file or directory\n`);
  assert.equal((await daemon.cli(['cp', join(work, 'in.txt'), join(work, 'y')])).stderr, 'must specify at least one container source\n');
  assert.equal((await daemon.cli(['cp', 'cp1:/a', 'cp1:/b'])).stderr, 'copying between containers is not supported\n');
  const ghost = await daemon.cli(['cp', 'ghost:/x', join(work, 'x')]);
  assert.equal(ghost.code, 1);
  assert.equal(ghost.stderr, 'Error response from daemon: No such container: ghost\n');
});

test('container prune, system df, images, tag, rmi', async (t) => {
  const daemon = await ready(t);
  await daemon.cli(['run', '--name', 'old', 'busybox', 'true']);
  const df = await daemon.cli(['system', 'df']);
  assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+1\s+\S+B\s+\S+B \(\d+%\)\nContainers\s+1\s+0\s+\S+B\s+.+\nLocal Volumes\s+0\s+0\s+0B\s+0B\nBuild Cache\s+0\s+0\s+0B\s+0B\n$/);
  const verbose = await daemon.cli(['system', 'df', '-v']);
  assert.match(verbose.stdout, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\nbusybox\s+latest\s/);
  assert.match(verbose.stdout, /\nContainers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"true"\s+0\s+/);

  const cancelled = await daemon.cli(['container', 'prune']);
  assert.equal(cancelled.code, 0);
  assert.equal(cancelled.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  assert.equal(lines((await daemon.cli(['ps', '-aq'])).stdout).length, 1, 'nothing removed without a yes');
  const prune = await daemon.cli(['container', 'prune'], 'y\n');
  assert.equal(prune.code, 0);
  assert.match(prune.stdout, /\[y\/N\] Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: \S+B\n$/);
  await daemon.cli(['run', '--name', 'old2', 'busybox', 'true']);
  const forced = await daemon.cli(['container', 'prune', '-f']);
  assert.match(forced.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.equal((await daemon.cli(['container', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');

  const tag = await daemon.cli(['tag', 'busybox', 'myrepo/bb:v1']);
  assert.equal(tag.code, 0, tag.stderr);
  assert.equal(tag.stdout, '');
  assert.equal((await daemon.cli(['image', 'tag', 'busybox', 'other'])).code, 0);
  const images = await daemon.cli(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(lines(images.stdout).sort(), ['busybox:latest', 'myrepo/bb:v1', 'other:latest']);
  assert.match((await daemon.cli(['images', 'myrepo/bb'])).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nmyrepo\/bb\s+v1\s+[0-9a-f]{12}\s/);
  assert.equal(lines((await daemon.cli(['image', 'ls', '-q'])).stdout).length, 3);
  const rmi = await daemon.cli(['rmi', 'myrepo/bb:v1']);
  assert.equal(rmi.code, 0);
  assert.equal(rmi.stdout, 'Untagged: myrepo/bb:v1\n');
  assert.equal((await daemon.cli(['image', 'rm', 'other'])).stdout, 'Untagged: other:latest\n');
  await daemon.cli(['create', '--name', 'user', 'busybox', 'true']);
  const inUse = await daemon.cli(['rmi', 'busybox']);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /^Error response from daemon: .*must force/);
  const missing = await daemon.cli(['rmi', 'ghost:1']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: No such image: ghost:1\n');
  const forcedMissing = await daemon.cli(['rmi', '-f', 'ghost:1']);
  assert.equal(forcedMissing.code, 0, 'rmi -f of a missing image is reported, not a failure');
  const tagMissing = await daemon.cli(['tag', 'ghost', 'x']);
  assert.equal(tagMissing.code, 1);
  assert.match(tagMissing.stderr, /^Error response from daemon: No such image: ghost/);

  await daemon.cli(['rm', 'user']);
  const removed = await daemon.cli(['rmi', 'busybox']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /^Untagged: busybox:latest\nDeleted: sha256:[0-9a-f]{64}\n$/);
  const reimported = await daemon.cli(['image', 'import', '-c', 'CMD ["echo", "from cmd"]', busyboxTarball(), 'again:1']);
  assert.match(reimported.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal((await daemon.cli(['run', '--rm', 'again:1'])).stdout, 'from cmd\n');
  const importMissing = await daemon.cli(['import', '/nonexistent.tar']);
  assert.equal(importMissing.code, 1);
  assert.match(importMissing.stderr, /no such file or directory/);
});
