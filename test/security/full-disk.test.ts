/**
 * A full data root loses log lines, never containers (security review finding 6, ENOSPC in 11).
 * The data root is a small tmpfs, filled up to the last byte while containers run.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../../src/client/client.ts';
import { isProcessAlive, newDaemon, runShell, waitFor, type TestDaemon } from '../integration/harness.ts';

/** A fresh daemon whose data root is a tmpfs of `size`; unmounted when the test ends, whatever happens. */
async function daemonOnTmpfs(t: TestContext, size: string): Promise<TestDaemon> {
  const daemon = newDaemon(t);
  mkdirSync(daemon.dataRoot, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711`, 'berth-full-disk', daemon.dataRoot]);
  t.after(() => {
    try {
      execFileSync('umount', ['-l', daemon.dataRoot], { stdio: 'ignore' });
    } catch { /* the harness unmounted it already */ }
  });
  await daemon.start();
  await daemon.importBusybox();
  return daemon;
}

/** Fills the file system of `dir` to the last byte; returns the filler to remove. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

interface StoredRecord { state: { Status: string; ExitCode: number }; shim?: { shimPid: number; shimStartTime: number } }
const readRecord = (daemon: TestDaemon, id: string) => JSON.parse(readFileSync(join(daemon.dataRoot, 'containers', id, 'record.json'), 'utf8')) as StoredRecord;

/** The numbers N of the `line N` entries in a json-file log; every entry must be whole JSON. */
function loggedNumbers(logPath: string): number[] {
  return readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => {
    const entry = JSON.parse(line) as { log: string };
    return Number(/^line (\d+)\n$/.exec(entry.log)?.[1]);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

test('on a full data root containers keep running, drop and count log lines, and report their real exit codes', async (t) => {
  const daemon = await daemonOnTmpfs(t, '24m');
  const chatty = await runShell(daemon, 'i=0; while true; do i=$((i+1)); echo "line $i"; usleep 2000; done', { StopTimeout: 1 }, 'chatty');
  const sevens = await runShell(daemon, 'trap "exit 7" USR1; while true; do sleep 0.1; done', {}, 'sevens');
  const quiet = await runShell(daemon, 'while true; do sleep 0.1; done', { StopTimeout: 1 }, 'quiet');
  const { LogPath } = await daemon.client.inspectContainer(chatty);
  await waitFor('the first lines in the log', () => loggedNumbers(LogPath).length >= 10 || undefined);
  const before = await daemon.client.inspectContainer(chatty);
  const shim = readRecord(daemon, chatty).shim!;
  const sevensShim = readRecord(daemon, sevens).shim!;

  const filler = fillDisk(daemon.dataRoot);
  const dropping = await waitFor('inspect to count dropped lines (or the container to die)', async () => {
    const now = await daemon.client.inspectContainer(chatty);
    return (now.State.LogDroppedLines ?? 0) > 0 || !now.State.Running ? now : undefined;
  });
  assert.equal(`${dropping.State.Status} ${dropping.State.Error}`, 'running ', 'the container keeps running');
  assert.equal(dropping.State.Pid, before.State.Pid, 'the same process');
  assert.ok(isProcessAlive(shim.shimPid, shim.shimStartTime), 'its shim is alive');
  await waitFor('the daemon log to report the dropped lines', () => /container log lines dropped/.test(daemon.log()) || undefined);
  assert.match(daemon.log(), /no space left on device/);

  // Events while the disk is full: once the journal's last page is used up (a few events)
  // they cannot be journaled, and every call answers success all the same.
  for (let i = 0; i < 30; i++) await daemon.client.killContainer(quiet, 'SIGWINCH');
  assert.match(daemon.log(), /cannot write the events journal/);
  // An exit while the disk is full: the real code, through wait and inspect.
  await daemon.client.killContainer(sevens, 'SIGUSR1');
  assert.equal((await daemon.client.waitContainer(sevens)).StatusCode, 7);
  const sevensExited = await daemon.client.inspectContainer(sevens);
  assert.equal(sevensExited.State.Status, 'exited');
  assert.equal(sevensExited.State.ExitCode, 7);
  assert.match(daemon.log(), /cannot write the container record; keeping the change in memory/);
  // A stop while the disk is full answers success and records the real code (SIGKILL after 1 s).
  await daemon.client.stopContainer(quiet, 1);
  assert.equal((await daemon.client.inspectContainer(quiet)).State.ExitCode, 137);
  const events = await readAll(await daemon.client.events({ since: '0', until: (Date.now() / 1000).toFixed(3), filters: JSON.stringify({ event: { die: true } }) }));
  assert.match(events, new RegExp(`"id":"${sevens}"[^\\n]*"exitCode":"7"|"exitCode":"7"[^\\n]*"id":"${sevens}"`), 'subscribers are told of the exit');

  // A create while the disk is full fails clearly and leaves nothing behind.
  const containersBefore = readdirSync(join(daemon.dataRoot, 'containers')).sort();
  await assert.rejects(daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'] }, 'newcomer'), (err: unknown) => err instanceof ApiError && err.status === 500 && /no space left on device/.test(err.message));
  assert.deepEqual(readdirSync(join(daemon.dataRoot, 'containers')).sort(), containersBefore, 'no containers/<id> directory is left');
  assert.ok(isProcessAlive(shim.shimPid, shim.shimStartTime), 'the shim is still alive');

  // Room again: the log goes on, and every line missing from it is one counted as dropped.
  rmSync(filler);
  const lastBefore = Math.max(...loggedNumbers(LogPath));
  await waitFor('new lines in the log after space was freed', () => Math.max(...loggedNumbers(LogPath)) > lastBefore + 10 || undefined);
  await waitFor('inspect to count exactly the lines missing from the log', async () => {
    const numbers = loggedNumbers(LogPath);
    const missing = Math.max(...numbers) - numbers.length;
    const counted = (await daemon.client.inspectContainer(chatty)).State.LogDroppedLines;
    return counted === missing || undefined;
  });
  assert.ok(((await daemon.client.inspectContainer(chatty)).State.LogDroppedLines ?? 0) > 0);
  assert.equal((await daemon.client.inspectContainer(chatty)).State.Pid, before.State.Pid);

  // The exits recorded in memory reach the disk, and only then do their shims go.
  await waitFor('the exit of sevens to be written to its record', () => readRecord(daemon, sevens).state.ExitCode === 7 || undefined, 30_000);
  assert.equal(readRecord(daemon, sevens).state.Status, 'exited');
  await waitFor('the shim of sevens to go', () => !isProcessAlive(sevensShim.shimPid, sevensShim.shimStartTime) || undefined);
  assert.equal((await daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'] }, 'newcomer')).Id.length, 64, 'the name stayed free');

  await daemon.client.stopContainer(chatty, 1);
  assert.equal((await daemon.client.inspectContainer(chatty)).State.ExitCode, 137);

  // A restarted daemon finds the same: the records and the events journal have no gap.
  await daemon.stop('SIGTERM');
  await daemon.start();
  assert.equal((await daemon.client.inspectContainer(sevens)).State.ExitCode, 7);
  assert.equal((await daemon.client.inspectContainer(quiet)).State.ExitCode, 137);
  const journaled = await readAll(await daemon.client.events({ since: '0', until: (Date.now() / 1000).toFixed(3), filters: JSON.stringify({ event: { die: true } }) }));
  for (const id of [sevens, quiet, chatty]) assert.match(journaled, new RegExp(`"id":"${id}"`), `the die event of ${id.slice(0, 12)} was journaled`);
});
