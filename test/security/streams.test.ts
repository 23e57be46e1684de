/**
 * A hostile or careless client must not hang or crash the daemon: streams to clients that never
 * read cost bounded memory, clients that go away release their log fds at once, malformed
 * requests get a 400, and signals sent while restore still runs are handled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { isProcessAlive, newDaemon, ROOT, runShell, sleep, waitFor, type TestDaemon } from '../integration/harness.ts';

const MB = 1024 * 1024;
/** How much berthd (or a shim) may grow while a client refuses to read 100-200 MB of output. */
const MAX_GROWTH = 40 * MB;

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  assert.ok(kb, `VmRSS of ${pid}`);
  return Number(kb) * 1024;
}

function shimPid(daemon: TestDaemon, id: string): number {
  const record = JSON.parse(readFileSync(join(daemon.dataRoot, 'containers', id, 'record.json'), 'utf8')) as { shim: { shimPid: number } };
  return record.shim.shimPid;
}

/** The fds of `pid` that are open on a container's json log, with their read positions. */
function logFds(pid: number): Array<{ fd: string; pos: number }> {
  const found: Array<{ fd: string; pos: number }> = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (!/-json\.log(\.\d+)?$/.test(target)) continue;
    const pos = /pos:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
    found.push({ fd, pos: Number(pos ?? 0) });
  }
  return found;
}

/** Bytes `pid` has written so far, or "gone". */
function writtenBy(pid: number): string {
  try {
    return /wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 'gone';
  } catch {
    return 'gone';
  }
}

/** Waits until `sample` has returned the same value for `quietMs` (the work it measures has settled). */
async function settled(what: string, sample: () => string, quietMs = 1000, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = sample();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to settle`);
    await sleep(100);
    const now = sample();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** A raw connection to the API socket that sends `request` and then never reads. */
function nonReadingClient(socketPath: string, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.pause();
      socket.write(request);
      resolve(socket);
    });
  });
}

function upgradeRequest(method: string, path: string, body = ''): string {
  return `${method} ${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Sends raw bytes, returns the status and body of the answer (or throws when none comes). */
function rawExchange(socketPath: string, bytes: string, timeoutMs = 5000): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(bytes.split('\r\n')[0])}; got ${JSON.stringify(text)}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? -1);
      const body = text.slice(end + 4);
      if (length >= 0 && Buffer.byteLength(body, 'latin1') < length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(text.split(' ')[1]), contentType: /content-type:\s*([^\r]*)/i.exec(text.slice(0, end))?.[1] ?? '', body });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(bytes);
  });
}

/** A running container whose log holds about `bytes` of output (1000-byte lines). */
async function containerWithLog(daemon: TestDaemon, bytes: number): Promise<string> {
  const line = 'x'.repeat(999);
  const id = await runShell(daemon, `yes ${line} | head -c ${bytes}; echo written; exec sleep 1000`);
  await waitFor('the log to be written', async () => {
    const res = await daemon.client.containerLogs(id, { stdout: 1, tail: 1 });
    let text = '';
    for await (const c of res) text += (c as Buffer).toString('latin1');
    return text.includes('written') || undefined;
  }, 45_000);
  return id;
}

test('a client that never reads an attach with logs=1 of a 100 MB log costs bounded memory', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const id = await containerWithLog(daemon, 100_000_000);
  const before = rssBytes(daemon.pid);

  const client = await nonReadingClient(daemon.socket, upgradeRequest('POST', `/v1.47/containers/${id}/attach?logs=1&stream=1&stdout=1&stderr=1`));
  t.after(() => client.destroy());
  await waitFor('the attach to open the log', () => logFds(daemon.pid).length > 0 || undefined);
  await daemon.client.ping();
  await settled('the attach read position', () => JSON.stringify(logFds(daemon.pid)));

  const growth = rssBytes(daemon.pid) - before;
  assert.ok(growth < MAX_GROWTH, `berthd grew by ${Math.round(growth / MB)} MB while the client read nothing`);
  assert.equal(await daemon.client.ping(), 'OK', 'the daemon still answers');
});

test('a client that never reads an exec of 200 MB of output costs bounded memory in berthd and the shim', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const id = await runShell(daemon, 'exec sleep 1000');
  const shim = shimPid(daemon, id);
  const { Id: execId } = await daemon.client.createExec(id, { Cmd: ['head', '-c', '200000000', '/dev/zero'], AttachStdout: true, AttachStderr: true });
  const before = { daemon: rssBytes(daemon.pid), shim: rssBytes(shim) };

  const client = await nonReadingClient(daemon.socket, upgradeRequest('POST', `/v1.47/exec/${execId}/start`, '{"Detach":false,"Tty":false}'));
  t.after(() => client.destroy());
  const pid = await waitFor('the exec to start', async () => (await daemon.client.inspectExec(execId)).Pid || undefined);
  // Settled once the exec's process writes no more: finished, or held back by a full pipe.
  await settled('the exec output', () => writtenBy(pid));

  const growth = { daemon: rssBytes(daemon.pid) - before.daemon, shim: rssBytes(shim) - before.shim };
  assert.ok(growth.daemon < MAX_GROWTH, `berthd grew by ${Math.round(growth.daemon / MB)} MB while the client read nothing`);
  assert.ok(growth.shim < MAX_GROWTH, `the shim grew by ${Math.round(growth.shim / MB)} MB while the client read nothing`);
  assert.equal(await daemon.client.ping(), 'OK', 'the daemon still answers');

  // The client goes away: the exec runs to its end, its output dropped.
  client.destroy();
  const ended = await waitFor('the exec to end after its client left', async () => {
    const e = await daemon.client.inspectExec(execId);
    return e.Running ? undefined : e;
  }, 30_000);
  assert.equal(ended.ExitCode, 0);
});

test('clients that disconnect mid-stream release their log fds at once', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  const id = await containerWithLog(daemon, 20_000_000);
  const get = (query: string) => `GET /v1.47/containers/${id}/logs?${query} HTTP/1.1\r\nHost: berth\r\n\r\n`;
  const clients = await Promise.all([
    nonReadingClient(daemon.socket, get('stdout=1&follow=1')),
    nonReadingClient(daemon.socket, get('stdout=1&follow=1&timestamps=1')),
    nonReadingClient(daemon.socket, get('stdout=1')),
    nonReadingClient(daemon.socket, upgradeRequest('POST', `/v1.47/containers/${id}/attach?logs=1&stream=1&stdout=1`)),
  ]);
  t.after(() => clients.forEach((c) => c.destroy()));
  await waitFor('every slow client to hold the log open', () => logFds(daemon.pid).length >= clients.length || undefined);
  await daemon.client.ping();

  for (const c of clients) c.destroy();
  await waitFor('the log fds to be closed', () => logFds(daemon.pid).length === 0 || undefined, 5000).catch(() => {
    assert.fail(`berthd still holds ${logFds(daemon.pid).length} log fds after their clients left`);
  });
  assert.equal(await daemon.client.ping(), 'OK');
});

test('a malformed request line or path escape gets a 400 with a JSON message', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  const cases = [
    'GET http://[ HTTP/1.1\r\nHost: berth\r\n\r\n',
    'GET /containers/%E0%A4%A/json HTTP/1.1\r\nHost: berth\r\n\r\n',
    'GET /v1.47/containers/%ZZ/json HTTP/1.1\r\nHost: berth\r\n\r\n',
    upgradeRequest('POST', '/v1.47/containers/%E0%A4%A/attach?stream=1&stdout=1'),
    upgradeRequest('POST', '/v1.47/exec/%E0%A4%A/start', '{}'),
    // Refused by Node's HTTP parser itself.
    'GET /a b HTTP/1.1\r\nHost: berth\r\n\r\n',
    'GET /_ping HTTP/1.1\r\nHost berth\r\n\r\n',
    // Bad filters on a stream: a 400 before the stream begins, not a 200 cut short.
    `GET /v1.47/events?filters=${encodeURIComponent('{"type":')} HTTP/1.1\r\nHost: berth\r\n\r\n`,
  ];
  for (const request of cases) {
    const answer = await rawExchange(daemon.socket, request);
    const what = JSON.stringify(request.split('\r\n')[0]);
    assert.equal(answer.status, 400, `${what}: ${answer.body}`);
    assert.match(answer.contentType, /application\/json/, what);
    const body = JSON.parse(answer.body) as { message?: unknown };
    assert.equal(typeof body.message, 'string', `${what} has a message`);
  }
  assert.equal(await daemon.client.ping(), 'OK');
  assert.doesNotMatch(daemon.log(), /unhandled rejection/);
});

/** Start berthd on the daemon's roots without waiting for restore; resolves once /_ping answers. */
async function startUntilPing(daemon: TestDaemon): Promise<void> {
  const logFd = openSync(join(daemon.root, 'berthd.log'), 'a');
  daemon.process = spawn(process.execPath, [join(ROOT, 'dist/berthd.js'), ...daemon.args()], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  await waitFor('/_ping to answer', async () => {
    if (daemon.process!.exitCode !== null) throw new Error(`berthd exited with ${daemon.process!.exitCode}:\n${daemon.log()}`);
    return daemon.client.ping().catch(() => undefined);
  }, 20_000);
}

function exited(daemon: TestDaemon): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = daemon.process!;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const RESTORE_COUNT = 20;
/** Ends at once on SIGTERM, so a stop is quick. */
const IDLE = "trap 'exit 0' TERM; while :; do sleep 0.2; done";

/** RESTORE_COUNT running containers left behind by a daemon stopped with live restore on, for a restore to find. */
async function manyLeftRunning(daemon: TestDaemon): Promise<Array<{ id: string; pid: number }>> {
  await daemon.start();
  await daemon.importBusybox();
  const containers: Array<{ id: string; pid: number }> = [];
  for (let i = 0; i < RESTORE_COUNT; i++) {
    const id = await runShell(daemon, IDLE);
    containers.push({ id, pid: (await daemon.client.inspectContainer(id)).State.Pid });
  }
  await daemon.stop('SIGTERM');
  return containers;
}

test('SIGHUP sent while restore still runs neither kills the daemon nor stops the restore', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true });
  const containers = await manyLeftRunning(daemon);

  await startUntilPing(daemon);
  daemon.signal('SIGHUP');
  const running = await waitFor('restore to finish', async () => {
    if (daemon.process!.exitCode !== null || daemon.process!.signalCode !== null) {
      throw new Error(`berthd died on SIGHUP during restore (${daemon.process!.signalCode ?? daemon.process!.exitCode})`);
    }
    return daemon.client.listContainers().catch(() => undefined);
  });
  assert.equal(running.length, RESTORE_COUNT, 'every container is restored as running');
  for (const c of containers) assert.ok(isProcessAlive(c.pid), `container ${c.id.slice(0, 12)} still runs`);
  await waitFor('the reload to be applied', () => daemon.log().includes('configuration reloaded') || undefined);
  assert.equal(await daemon.client.ping(), 'OK');
});

test('SIGTERM sent while restore still runs stops every container when live restore is off, and exits 0', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true });
  const containers = await manyLeftRunning(daemon);

  daemon.options = { ...daemon.options, liveRestore: false };
  await startUntilPing(daemon);
  daemon.signal('SIGTERM');
  const end = await Promise.race([exited(daemon), sleep(60_000).then(() => undefined)]);
  assert.ok(end, 'berthd exits after SIGTERM');
  assert.deepEqual(end, { code: 0, signal: null }, `berthd exits 0 on SIGTERM during restore:\n${daemon.log().slice(-2000)}`);
  for (const c of containers) assert.equal(isProcessAlive(c.pid), false, `container ${c.id.slice(0, 12)} was stopped`);
});

test('an exec held back by a client that never reads runs to its end when the daemon goes away', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  await daemon.importBusybox();
  const id = await runShell(daemon, 'exec sleep 1000');
  const { Id: execId } = await daemon.client.createExec(id, { Cmd: ['head', '-c', '200000000', '/dev/zero'], AttachStdout: true });
  const client = await nonReadingClient(daemon.socket, upgradeRequest('POST', `/v1.47/exec/${execId}/start`, '{}'));
  t.after(() => client.destroy());
  const pid = await waitFor('the exec to start', async () => (await daemon.client.inspectExec(execId)).Pid || undefined);
  await settled('the exec output', () => writtenBy(pid));
  assert.ok(isProcessAlive(pid), 'the exec waits for its reader instead of having its output buffered');

  await daemon.stop('SIGKILL');
  await waitFor('the exec to end without the daemon', () => !isProcessAlive(pid) || undefined, 30_000);
  await daemon.start();
  const ended = await waitFor('the exec end to be recorded', async () => {
    const e = await daemon.client.inspectExec(execId);
    return e.Running ? undefined : e;
  });
  assert.equal(ended.ExitCode, 0);
});
