/**
 * Live restore at scale and logging through daemon downtime (run as root:
 * `npm run build && node bench/live-restore.ts`). A script, not a test: nothing here asserts
 * a time. Prints a markdown section (machine + table + notes) to append to bench/RESULTS.md.
 *
 *   1. Restore of N running containers (`sleep 100000`, created and started through the API in
 *      parallel batches of 20) on a berthd with --live-restore: SIGTERM, start again, and time
 *      spawn → first /_ping answer and spawn → first /info answer (/info waits for restore; both
 *      polled every ~1 ms from the moment of spawn), plus the daemon's own logged restore
 *      duration (`ms` of "daemon ready; restore done" in berthd.log). Every container's
 *      State.Pid and StartedAt are recorded before and compared after.
 *   2. A busybox container (awk) logging ~200-byte numbered lines at a target rate while the
 *      daemon is down for BENCH_DOWNTIME_S seconds. Every BATCH lines the writer appends
 *      "<last seq> <tv_sec> <tv_usec>" (its own wall clock, from busybox `adjtimex`, µs) to a
 *      bind-mounted progress file, which gives the longest stall and the write rate. Lines
 *      lost are gaps in the sequence read back through `GET /containers/{id}/logs`; because
 *      rotation (max-size 100m, max-file 3) drops the oldest lines, every log file inode is
 *      also hard-linked aside while it exists, so the whole stream can be checked from disk.
 *      The json-file `time` of each progress line is compared with the writer's timestamp.
 *
 * Environment: BENCH_RESTORE_COUNTS ("100,500"; "" skips part 1), BENCH_DOWNTIME_S (60; 0 skips
 * part 2), BENCH_LOG_MBS (writer target rate in MB/s = 10^6 B/s, default 12; 0 = as fast as it
 * can), BENCH_LOG_LINES_PER_WRITE (20; 1 = one write(2) per line), BENCH_LOG_MAX_SIZE ("100m"),
 * BENCH_LOG_MAX_FILE ("3"), BENCH_MAX_START_FAILURES (20: stop starting containers after that
 * many failed starts), BENCH_SHIM_ENTRY (run berthd with BERTH_SHIM_ENTRY=that shim bundle).
 *
 * Everything runs on temporary roots under /tmp. Containers are removed through the API first
 * (60 s per removal), then TestDaemon.cleanup kills by the PIDs in the records. After that,
 * whatever still names the temp root in its command line (e.g. the shim of a start that timed out)
 * is killed by PID. Processes left in the cgroups of containers this script created are thawed,
 * killed and their cgroups removed. The notes report each of these, and the last note checks that
 * no process, mount or directory of the temp roots is left.
 */
import { machineLines, sh } from './machine.ts';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { TestDaemon, ROOT, isProcessAlive, sleep } from '../test/integration/harness.ts';
import { FrameDecoder } from '../src/protocol/stdcopy.ts';

const COUNTS = (process.env.BENCH_RESTORE_COUNTS ?? '100,500').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const DOWNTIME_S = Number(process.env.BENCH_DOWNTIME_S ?? 60);
const LOG_MBS = Number(process.env.BENCH_LOG_MBS ?? 12);
const LOG_MAX_SIZE = process.env.BENCH_LOG_MAX_SIZE ?? '100m';
const LOG_MAX_FILE = process.env.BENCH_LOG_MAX_FILE ?? '3';
const LINES_PER_WRITE = Math.max(1, Number(process.env.BENCH_LOG_LINES_PER_WRITE ?? 20));
const PARALLEL = 20;
/** Stop starting containers once this many starts have failed (the rest of N is skipped). */
const MAX_START_FAILURES = Number(process.env.BENCH_MAX_START_FAILURES ?? 20);
/** Another shim bundle for berthd (its BERTH_SHIM_ENTRY), e.g. to compare a patched shim. */
const SHIM_ENTRY = process.env.BENCH_SHIM_ENTRY;
/** Lines between two progress records of the log writer (a multiple of LINES_PER_WRITE). */
const BATCH = Math.ceil(1000 / LINES_PER_WRITE) * LINES_PER_WRITE;
/** Payload of a log line: "<seq> " + PAD + "\n" ≈ 200 bytes. */
const PAD_LEN = 190;
/** Seconds of logging with the daemon up before the stop and after the restart. */
const WARM_S = 5;
const POLL_MS = 1;
const REMOVE_TIMEOUT_MS = 60_000;
/** Seconds over which idle shims' CPU is measured. */
const IDLE_S = 5;

// ---------------------------------------------------------------------------------------------
// helpers

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const fmt = (v: number): string => (!Number.isFinite(v) ? 'n/a' : Math.abs(v) < 10 ? v.toFixed(2) : Math.abs(v) < 100 ? v.toFixed(1) : v.toFixed(0));
const ms = (v: number): string => `${fmt(v)} ms`;


/** RFC3339Nano ("2026-11-22T06:23:03.971989123Z") → epoch milliseconds with the sub-ms digits. */
function parseTimeMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  return Date.parse(m[1]! + m[3]!) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** Bytes of log line `seq` as the writer prints it. */
const lineBytes = (seq: number): number => String(seq).length + 1 + PAD_LEN + 1;
function bytesBetween(fromSeq: number, toSeq: number): number {
  // Lines fromSeq+1 … toSeq.
  let total = 0;
  for (let digits = 1, lo = 1, hi = 9; lo <= toSeq; digits++, lo *= 10, hi = hi * 10 + 9) {
    const a = Math.max(lo, fromSeq + 1);
    const b = Math.min(hi, toSeq);
    if (b >= a) total += (b - a + 1) * (digits + 2 + PAD_LEN);
  }
  if (fromSeq < 0 && toSeq >= 0) total += lineBytes(0);
  return total;
}

const CLK_TCK = Number(sh('getconf CLK_TCK')) || 100;

/** utime + stime of a process in seconds (NaN if it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Direct children of `pid` (over all its threads). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch { /* gone */ }
  return out;
}

/** Idempotent requests are retried on a reset connection (a keep-alive socket the daemon closed). */
async function retrying<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i >= attempts || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
      retriedRequests++;
    }
  }
}
let retriedRequests = 0;

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

// ---------------------------------------------------------------------------------------------
// cleanup that also runs on SIGINT/SIGTERM

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  })().finally(() => (cleaning = undefined));
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up…`);
    void runCleanups().then(() => process.exit(130));
  });
}

/** Temp roots of the daemons started here: the final checks look for them. */
const ourRoots: string[] = [];
const rows: string[][] = [];
const notes: string[] = [];
const row = (what: string, result: string, note = ''): void => void rows.push([what, result, note]);

/** A live-restore daemon on fresh temp roots whose containers are removed and which is cleaned up at the end. */
async function newDaemon(prefix: string): Promise<TestDaemon> {
  // Short root: shim sockets live below it (108-byte sun_path).
  const d = new TestDaemon(mkdtempSync(`/tmp/${prefix}-`), { liveRestore: true, env: SHIM_ENTRY ? { BERTH_SHIM_ENTRY: SHIM_ENTRY } : {} });
  ourRoots.push(d.root);
  cleanups.push(async () => {
    if (d.process && d.process.exitCode === null && d.process.signalCode === null) {
      try {
        const all = await retrying(() => d.client.listContainers({ all: true }));
        const hung: string[] = [];
        await inBatches(all, PARALLEL, (c) => d.client.json('DELETE', `/containers/${String(c.Id)}`, { query: { force: true }, signal: AbortSignal.timeout(REMOVE_TIMEOUT_MS) }).catch((err: Error) => {
          if (err.name === 'TimeoutError' || err.name === 'AbortError') hung.push(String(c.Id).slice(0, 12));
          else console.error(`remove ${String(c.Id).slice(0, 12)}: ${err.message}`);
        }));
        if (hung.length) notes.push(`${d.root}: \`DELETE /containers/{id}?force=1\` did not answer within ${REMOVE_TIMEOUT_MS / 1000} s for ${hung.length} container(s) (${hung.slice(0, 5).join(', ')}); left to TestDaemon.cleanup.`);
      } catch (err) {
        console.error(`cleanup of ${d.root} through the API: ${(err as Error).message}`);
      }
      await d.stop('SIGTERM').catch(() => undefined);
    }
    await d.cleanup();
    // Anything still naming this root was started by this daemon and outlived TestDaemon.cleanup
    // (e.g. the shim of a start that timed out): kill it by PID and say so.
    const strays = ourProcesses([d.root]);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    if (strays.length) notes.push(`${strays.length} process(es) of ${d.root} outlived TestDaemon.cleanup and were killed by PID: ${strays.slice(0, 6).map((pid) => `${pid} ${strayDescriptions.get(pid) ?? ''}`).join('; ')}${strays.length > 6 ? '; …' : ''}`);
    // Containers of this daemon still alive in their cgroup (e.g. a start that timed out has no
    // shim in its record, so TestDaemon.cleanup does not know its PID): thaw, kill, remove the cgroup.
    const orphans = reapCgroups(createdIds(d));
    if (orphans.killed || orphans.removed) notes.push(`${d.root}: ${orphans.killed} container process(es) outlived TestDaemon.cleanup in the cgroups of this daemon's containers and were killed${orphans.thawed ? ` (${orphans.thawed} cgroup(s) had to be thawed first: FROZEN)` : ''}; ${orphans.removed} cgroup dir(s) removed.`);
  });
  await d.start();
  await d.importBusybox();
  return d;
}

const created = new WeakMap<TestDaemon, Set<string>>();
/** IDs of every container created through `d` (for the cgroup sweep at cleanup). */
function createdIds(d: TestDaemon): Set<string> {
  let ids = created.get(d);
  if (!ids) created.set(d, (ids = new Set()));
  return ids;
}

/** The cgroup dirs berthd gives container `id` (parent /berth; v1 controllers or v2). */
function cgroupDirsOf(id: string): string[] {
  const base = '/sys/fs/cgroup';
  const dirs = [join(base, 'berth', id)];
  for (const ctrl of existsSync(base) ? readdirSync(base) : []) dirs.push(join(base, ctrl, 'berth', id));
  return dirs.filter((dir) => existsSync(join(dir, 'cgroup.procs')));
}

/** SIGKILL what is left in the cgroups of `ids` (thawing frozen ones), then rmdir them. */
function reapCgroups(ids: Set<string>): { killed: number; thawed: number; removed: number } {
  const r = { killed: 0, thawed: 0, removed: 0 };
  for (const id of ids) {
    const dirs = cgroupDirsOf(id);
    if (!dirs.length) continue;
    for (let attempt = 0; attempt < 20; attempt++) {
      const pids = new Set(dirs.flatMap((dir) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)));
      if (!pids.size) break;
      for (const dir of dirs) {
        const freezer = join(dir, 'freezer.state');
        if (existsSync(freezer) && readFileSync(freezer, 'utf8').trim() !== 'THAWED') {
          writeFileSync(freezer, 'THAWED');
          r.thawed++;
        }
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          if (attempt === 0) r.killed++;
        } catch { /* gone */ }
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    for (const dir of dirs) {
      try {
        rmdirSync(dir); // cgroupfs: an empty cgroup is removed with rmdir
        r.removed++;
      } catch { /* busy or gone */ }
    }
  }
  return r;
}

/** Byte length of berthd.log now (so a later read sees only what this start wrote). */
const logSize = (d: TestDaemon): number => (existsSync(join(d.root, 'berthd.log')) ? statSync(join(d.root, 'berthd.log')).size : 0);

/** The "daemon ready; restore done" record written after `offset`. */
function readyRecord(d: TestDaemon, offset: number): Record<string, unknown> | undefined {
  const text = readFileSync(join(d.root, 'berthd.log')).subarray(offset).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line.includes('restore done')) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.msg === 'daemon ready; restore done') return rec;
    } catch { /* not JSON */ }
  }
  return undefined;
}

/** warn/error records of the daemon log written after `offset`, counted by message. */
function problems(d: TestDaemon, offset: number): string[] {
  const text = readFileSync(join(d.root, 'berthd.log')).subarray(offset).toString('utf8');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'warn' || rec.level === 'error' || rec.level === 'fatal') {
        const key = `${rec.level}: ${rec.msg ?? '?'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    } catch { /* not JSON */ }
  }
  return [...counts].map(([k, n]) => `${k} ×${n}`);
}

interface TimedStart {
  /** Send time of the first /_ping that connected (the socket was listening by then). */
  connectMs: number;
  /** When that first /_ping was answered. */
  pingMs: number;
  infoMs: number;
  /** /_ping answers that arrived before /info answered, and the slowest of them. */
  pingsBeforeInfo: number;
  maxPingLatencyMs: number;
  pingsFailedAfterListen: number;
  spawnWall: number;
}

/**
 * Spawn berthd for `d` (same arguments as TestDaemon.start) and poll /_ping and /info every
 * ~POLL_MS from the moment of spawn (each loop waits for its previous request). /info only
 * answers once restore is done; /_ping does not wait for it.
 */
async function timedStart(d: TestDaemon, timeoutMs = 120_000): Promise<TimedStart> {
  if (!existsSync(d.configPath)) writeFileSync(d.configPath, '{}');
  const logFd = openSync(join(d.root, 'berthd.log'), 'a');
  const spawnWall = Date.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'dist/berthd.js'), ...d.args()], { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...d.options.env } });
  d.process = child;
  closeSync(logFd);
  const r: TimedStart = { connectMs: NaN, pingMs: NaN, infoMs: NaN, pingsBeforeInfo: 0, maxPingLatencyMs: 0, pingsFailedAfterListen: 0, spawnWall };
  let done = false;
  const deadline = Date.now() + timeoutMs;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const pinger = (async () => {
    while (!done && !exited()) {
      const sent = performance.now();
      try {
        await d.client.ping();
        const now = performance.now();
        if (Number.isNaN(r.pingMs)) {
          r.pingMs = now - t0;
          r.connectMs = sent - t0;
        }
        if (Number.isNaN(r.infoMs)) {
          r.pingsBeforeInfo++;
          r.maxPingLatencyMs = Math.max(r.maxPingLatencyMs, now - sent);
        }
      } catch {
        if (!Number.isNaN(r.pingMs)) r.pingsFailedAfterListen++;
      }
      await sleep(POLL_MS);
    }
  })();
  try {
    for (;;) {
      if (exited()) throw new Error(`berthd exited (${child.exitCode ?? child.signalCode}):\n${d.log().slice(-3000)}`);
      try {
        await d.client.info();
        r.infoMs = performance.now() - t0;
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`berthd did not answer /info within ${timeoutMs} ms: ${(err as Error).message}`);
        await sleep(POLL_MS);
      }
    }
  } finally {
    done = true;
    await pinger;
  }
  return r;
}

/** "restore started ≈ X ms after spawn" from the ready line's time − its ms (the log has ms resolution). */
const loggedRestoreStart = (ready: Record<string, unknown> | undefined, t: TimedStart): number =>
  ready ? Date.parse(String(ready.time)) - Number(ready.ms) - t.spawnWall : NaN;

// ---------------------------------------------------------------------------------------------
// 1. restore of N running containers

interface Seen { pid: number; startedAt: string; running: boolean }

async function snapshot(d: TestDaemon, ids: string[]): Promise<Map<string, Seen>> {
  const states = await inBatches(ids, PARALLEL, async (id) => {
    const c = (await retrying(() => d.client.inspectContainer(id))) as unknown as { State: { Pid: number; StartedAt: string; Running: boolean } };
    return [id, { pid: c.State.Pid, startedAt: c.State.StartedAt, running: c.State.Running }] as const;
  });
  return new Map(states);
}

async function restoreBench(n: number, progress: { phase: string; detail: string }): Promise<void> {
  progress.phase = 'starting the daemon';
  const d = await newDaemon('blr');
  const load = loadavg()[0]!.toFixed(2);
  const t0 = performance.now();
  const startErrors = new Map<string, number>();
  let failures = 0;
  let skipped = 0;
  let done = 0;
  progress.phase = `creating+starting ${n} containers`;
  const started = await inBatches(Array.from({ length: n }, (_, i) => i), PARALLEL, async () => {
    if (failures >= MAX_START_FAILURES) {
      skipped++;
      return undefined;
    }
    try {
      const { Id } = await d.client.createContainer({ Image: 'busybox', Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: 'none' } });
      createdIds(d).add(Id);
      await d.client.startContainer(Id);
      return Id;
    } catch (err) {
      failures++;
      const key = (err as Error).message.replace(/\b[0-9a-f]{12,64}\b/g, '<id>');
      startErrors.set(key, (startErrors.get(key) ?? 0) + 1);
      return undefined;
    } finally {
      if (++done % 100 === 0) console.error(`[${n}] ${done}/${n} create+start calls done, ${failures} failed, ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(0)}`);
      progress.detail = `${done - failures - skipped} started, ${failures} failed${startErrors.size ? ` (${[...startErrors.keys()][0]!.slice(0, 100)})` : ''}`;
    }
  });
  const ids = started.filter((id): id is string => id !== undefined);
  const startAllMs = performance.now() - t0;
  progress.phase = `inspecting ${ids.length} started containers`;
  const before = await snapshot(d, ids);
  const runningBefore = [...before.values()].filter((s) => s.running && s.pid > 0).length;
  const memAvailKb = Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);

  // CPU the idle shims (and their foreground runtime processes) use while nothing happens.
  progress.phase = 'measuring idle shim CPU';
  const shimPids = ids.map((id) => (JSON.parse(readFileSync(join(d.dataRoot, 'containers', id, 'record.json'), 'utf8')) as { shim?: { shimPid?: number } }).shim?.shimPid ?? 0).filter((pid) => pid > 0);
  const runtimePids = shimPids.flatMap((pid) => childrenOf(pid));
  const sum = (pids: number[]) => pids.reduce((acc, pid) => acc + (cpuSeconds(pid) || 0), 0);
  await sleep(2000);
  const idle0 = { shims: sum(shimPids), runtimes: sum(runtimePids), at: performance.now() };
  await sleep(IDLE_S * 1000);
  const idleS = (performance.now() - idle0.at) / 1000;
  const idle = { shims: (100 * (sum(shimPids) - idle0.shims)) / idleS, runtimes: (100 * (sum(runtimePids) - idle0.runtimes)) / idleS };

  progress.phase = 'stopping and restarting the daemon';
  const stopMs = await d.stop('SIGTERM');
  const offset = logSize(d);
  const t = await timedStart(d);
  const ready = readyRecord(d, offset);
  progress.phase = 'comparing containers after restore';
  const after = await snapshot(d, ids);
  const issues = problems(d, offset);

  let matched = 0;
  const mismatches: string[] = [];
  for (const id of ids) {
    const a = before.get(id)!;
    const b = after.get(id);
    const alive = b ? isProcessAlive(b.pid) : false;
    if (b && b.running && alive && b.pid === a.pid && b.startedAt === a.startedAt) matched++;
    else if (mismatches.length < 5) mismatches.push(`${id.slice(0, 12)}: pid ${a.pid}→${b?.pid}, running ${b?.running}, alive ${alive}, StartedAt ${a.startedAt === b?.startedAt ? 'same' : `${a.startedAt}→${b?.startedAt}`}`);
  }

  const counts = ready ? `alive ${String(ready.alive)}, exited ${String(ready.exited)}, lost ${String(ready.lost)}, stray ${String(ready.stray)}` : 'no "daemon ready; restore done" line found';
  row(`${n} running: daemon spawn → first \`/_ping\` answer`, ms(t.pingMs), `that ping was sent at ${ms(t.connectMs)} (socket already listening) and waited ${ms(t.pingMs - t.connectMs)}; ${t.pingsBeforeInfo} pings answered before /info did, slowest ${ms(t.maxPingLatencyMs)}; polled every ~${POLL_MS} ms${t.pingsFailedAfterListen ? `; ${t.pingsFailedAfterListen} failed after the first answered` : ''}`);
  row(`${n} running: daemon spawn → first \`/info\` answer (restore done)`, ms(t.infoMs), `includes Node start-up, store load, restore; per berthd.log, restore began ≈ ${ms(loggedRestoreStart(ready, t))} after spawn`);
  row(`${n} running: restore as logged by berthd (\`ms\` of "daemon ready; restore done")`, ready ? ms(Number(ready.ms)) : 'n/a', counts);
  row(`${n} running: same PID and StartedAt, running, after restore`, `${matched}/${ids.length}`, `${runningBefore}/${ids.length} were running before the stop${ids.length < n ? ` (${n - ids.length} of ${n} not running: ${failures} starts failed${skipped ? `, ${skipped} not attempted after ${MAX_START_FAILURES} failures` : ''}: ${[...startErrors].map(([m, c]) => `${c}× "${m.slice(0, 120)}"`).join('; ')})` : ''}${mismatches.length ? `; ${mismatches.join('; ')}` : ''}`);
  row(`${n} running: CPU of the idle shims, before the stop`, `${fmt(idle.shims)}% of one CPU in all (${fmt(idle.shims / Math.max(1, shimPids.length))}% per shim)`, `over ${IDLE_S} s with no API calls; their ${runtimePids.length} foreground runtime processes: ${fmt(idle.runtimes)}% in all`);
  notes.push(`${n} containers: ${ids.length} created+started in ${(startAllMs / 1000).toFixed(1)} s (${(ids.length / (startAllMs / 1000)).toFixed(1)}/s, ${PARALLEL} in parallel); SIGTERM → exit ${stopMs} ms; MemAvailable with all running ${(memAvailKb / 2 ** 20).toFixed(1)} GiB; load average before ${load}${issues.length ? `; daemon log warnings/errors during the restart: ${issues.join(', ')}` : '; no warn/error lines in the daemon log during the restart'}.`);
}

// ---------------------------------------------------------------------------------------------
// 2. logging through downtime

interface Progress { seq: number; ms: number }

/**
 * The writer: busybox awk (no fork per line). It prints LINES_PER_WRITE lines per printf (busybox
 * awk flushes every printf, so that is one write(2) of ~4 KiB, like a program whose stdout is a
 * block-buffered pipe; 1 = one write per line), and after every BATCH lines records its progress
 * with its own wall clock. Sleeps (usleep) when ahead of LOG_MBS; stops when /progress/stop exists.
 */
function writerProgram(): string {
  return `
function now(   l, f) {
  while ((CMD | getline l) > 0) {
    split(l, f, " ")
    if (f[1] == "time.tv_sec:") s = f[2] + 0; else if (f[1] == "time.tv_usec:") u = f[2] + 0; else if (f[1] == "status:") st = f[2] + 0
  }
  close(CMD)
}
BEGIN {
  CMD = "adjtimex"; P = "/progress/p"; STOP = "/progress/stop"
  pad = sprintf("%0${PAD_LEN}d", 0)
  now(); s0 = s; u0 = u; div = (int(st / 8192) % 2) ? 1000 : 1
  printf "start %d %d %d\\n", s, u, st > P
  i = 0
  for (;;) {
    for (k = 0; k < ${BATCH}; k += ${LINES_PER_WRITE}) {
      b = ""
      for (j = 0; j < ${LINES_PER_WRITE}; j++) { b = b i " " pad "\\n"; i++ }
      printf "%s", b
    }
    fflush()
    now()
    printf "%d %d %d\\n", i - 1, s, u > P
    fflush(P)
    if ((getline x < STOP) >= 0) break
    if (${LOG_MBS} > 0) {
      el = (s - s0) * 1000000 + (u - u0) / div
      want = i * ${PAD_LEN + 8} / ${LOG_MBS}
      if (want > el + 1000) system("usleep " int(want - el))
    }
  }
  printf "end %d\\n", i > P
  close(P)
}`;
}

function readProgress(file: string): { records: Progress[]; end: number } {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const head = lines[0]?.split(' ') ?? [];
  const nano = (Number(head[3] ?? 0) & 8192) !== 0;
  const records: Progress[] = [];
  let end = -1;
  for (const line of lines.slice(1)) {
    const f = line.split(' ');
    if (f[0] === 'end') end = Number(f[1]);
    else if (f.length === 3) records.push({ seq: Number(f[0]), ms: Number(f[1]) * 1000 + Number(f[2]) / (nano ? 1e6 : 1e3) });
  }
  return { records, end };
}

/** Hard-links every inode that is ever `<log>`, `<log>.1`, … into `keepDir`, so rotation cannot delete what we check. */
class LogKeeper {
  readonly #seen = new Set<number>();
  readonly #log: string;
  readonly #keepDir: string;
  readonly #maxFile: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(log: string, keepDir: string, maxFile: number) {
    this.#log = log;
    this.#keepDir = keepDir;
    this.#maxFile = maxFile;
    mkdirSync(keepDir);
  }

  start(): void {
    this.#timer = setInterval(() => this.poll(), 100);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.poll();
  }

  poll(): void {
    for (let i = 0; i < this.#maxFile; i++) {
      const path = i === 0 ? this.#log : `${this.#log}.${i}`;
      const tmp = join(this.#keepDir, '.tmp');
      try {
        linkSync(path, tmp);
      } catch {
        continue; // not there (yet), or renamed between calls: the next poll sees it
      }
      const ino = statSync(tmp).ino;
      if (this.#seen.has(ino)) unlinkSync(tmp);
      else {
        this.#seen.add(ino);
        renameSync(tmp, join(this.#keepDir, String(ino)));
      }
    }
  }

  files(): string[] {
    return readdirSync(this.#keepDir).filter((f) => !f.startsWith('.')).map((f) => join(this.#keepDir, f));
  }
}

/** Calls `onLine` for every line of a file, reading it in 4 MiB chunks. */
function forEachLine(path: string, onLine: (line: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4 << 20);
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = rest + buf.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) onLine(l);
    }
    if (rest) onLine(rest);
  } finally {
    closeSync(fd);
  }
}

interface SeqCheck { first: number; last: number; count: number; missing: number; gaps: number; dup: number; bad: number; times: Map<number, number> }

/** Checks that a stream of (seq, payload) is contiguous; remembers the log time of the `wanted` sequence numbers. */
class SequenceChecker {
  first = -1;
  last = -1;
  count = 0;
  missing = 0;
  gaps = 0;
  dup = 0;
  bad = 0;
  readonly times = new Map<number, number>();
  readonly #wanted: Set<number>;
  readonly #pad = '0'.repeat(PAD_LEN);

  constructor(wanted: Set<number>) {
    this.#wanted = wanted;
  }

  add(payload: string, timeMs: number): void {
    const sp = payload.indexOf(' ');
    const seq = Number(payload.slice(0, sp));
    if (sp <= 0 || !Number.isInteger(seq) || payload.slice(sp + 1) !== `${this.#pad}\n`) {
      this.bad++;
      return;
    }
    this.count++;
    if (this.first < 0) this.first = seq;
    else if (seq <= this.last) this.dup++;
    else if (seq !== this.last + 1) {
      this.gaps++;
      this.missing += seq - this.last - 1;
    }
    if (seq > this.last) this.last = seq;
    if (this.#wanted.has(seq)) this.times.set(seq, timeMs);
  }

  result(): SeqCheck {
    return { first: this.first, last: this.last, count: this.count, missing: this.missing, gaps: this.gaps, dup: this.dup, bad: this.bad, times: this.times };
  }
}

/** The whole stream from the hard-linked inodes, oldest file first. */
function checkKeptFiles(files: string[], wanted: Set<number>): SeqCheck {
  const firstSeq = (f: string): number => {
    let seq = Infinity;
    const fd = openSync(f, 'r');
    try {
      const buf = Buffer.alloc(512);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const m = /"log":"(\d+) /.exec(buf.toString('utf8', 0, n));
      if (m) seq = Number(m[1]);
    } finally {
      closeSync(fd);
    }
    return seq;
  };
  const ordered = files.map((f) => ({ f, seq: firstSeq(f) })).sort((a, b) => a.seq - b.seq);
  const check = new SequenceChecker(wanted);
  for (const { f } of ordered) {
    forEachLine(f, (line) => {
      if (!line) return;
      const e = JSON.parse(line) as { log: string; stream: string; time: string };
      check.add(e.log, parseTimeMs(e.time));
    });
  }
  return check.result();
}

/** The stream as `GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1` returns it. */
async function checkApiLogs(d: TestDaemon, id: string, wanted: Set<number>): Promise<SeqCheck & { bytes: number; ms: number }> {
  const t0 = performance.now();
  const res = await d.client.containerLogs(id, { stdout: true, stderr: true, timestamps: true });
  const check = new SequenceChecker(wanted);
  const decoder = new FrameDecoder();
  let bytes = 0;
  let partial = '';
  for await (const chunk of res) {
    bytes += (chunk as Buffer).length;
    decoder.push(chunk as Buffer, (_stream, payload) => {
      const text = partial + payload.toString('utf8');
      if (!text.endsWith('\n')) {
        partial = text;
        return;
      }
      partial = '';
      const sp = text.indexOf(' ');
      check.add(text.slice(sp + 1), parseTimeMs(text.slice(0, sp)));
    });
  }
  return { ...check.result(), bytes, ms: performance.now() - t0 };
}

async function loggingBench(): Promise<void> {
  const d = await newDaemon('blg');
  const progressDir = join(d.root, 'progress');
  mkdirSync(progressDir);
  const load = loadavg()[0]!.toFixed(2);
  const logConfig = { Type: 'json-file', Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILE } };
  const { Id: id } = await d.client.createContainer({
    Image: 'busybox',
    Cmd: ['awk', writerProgram()],
    HostConfig: { NetworkMode: 'none', Binds: [`${progressDir}:/progress`], LogConfig: logConfig },
  });
  createdIds(d).add(id);
  const logPath = String(((await d.client.inspectContainer(id)) as unknown as { LogPath: string }).LogPath);
  const keeper = new LogKeeper(logPath, join(d.root, 'kept'), Number(LOG_MAX_FILE));
  cleanups.push(async () => keeper.stop());
  keeper.start();
  await d.client.startContainer(id);
  const writerPid = ((await d.client.inspectContainer(id)) as unknown as { State: { Pid: number } }).State.Pid;
  const shimPid = (JSON.parse(readFileSync(join(d.dataRoot, 'containers', id, 'record.json'), 'utf8')) as { shim: { shimPid: number } }).shim.shimPid;
  const runtimePid = childrenOf(shimPid).find((pid) => /\b(runc|crun)\b/.test(cmdline(pid).split(' ')[0] ?? '')) ?? 0;
  const cpuPids = { writer: writerPid, shim: shimPid, [cmdline(runtimePid).split(' ')[0]?.split('/').pop() || 'runtime']: runtimePid };

  await sleep(WARM_S * 1000);
  const stopAt = Date.now();
  await d.stop('SIGTERM');
  const downAt = Date.now();
  const cpuBefore = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  await sleep(DOWNTIME_S * 1000);
  const cpuAfter = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const spawnAt = Date.now();
  const offset = logSize(d);
  const restart = await timedStart(d);
  const readyAt = Date.now();
  await sleep(WARM_S * 1000);
  writeFileSync(join(progressDir, 'stop'), '');
  const exit = await d.client.waitContainer(id);
  keeper.stop();
  const issues = problems(d, offset);
  const ready = readyRecord(d, offset);

  const { records, end } = readProgress(join(progressDir, 'p'));
  const wanted = new Set(records.map((r) => r.seq));
  const api = await checkApiLogs(d, id, wanted);
  const kept = checkKeptFiles(keeper.files(), wanted);

  // Phases by the writer's own clock: daemon up (before the stop / after ready), down, restarting.
  const phase = (t: number): 'up' | 'down' | 'restart' => (t < downAt || t >= readyAt ? 'up' : t < spawnAt ? 'down' : 'restart');
  let longest = { gap: 0, at: 0 };
  const gapsByPhase = { up: [] as number[], down: [] as number[], restart: [] as number[] };
  for (let i = 1; i < records.length; i++) {
    const gap = records[i]!.ms - records[i - 1]!.ms;
    gapsByPhase[phase(records[i - 1]!.ms)].push(gap);
    if (gap > longest.gap) longest = { gap, at: records[i - 1]!.ms };
  }
  const where = (t: number): string => {
    if (t < stopAt) return `${((t - stopAt) / 1000).toFixed(1)} s before the SIGTERM`;
    if (t < downAt) return 'while the daemon was shutting down';
    if (t < spawnAt) return `${((t - downAt) / 1000).toFixed(1)} s into the downtime`;
    if (t < readyAt) return `during the restart (${(t - spawnAt).toFixed(0)} ms after spawn)`;
    return `${((t - readyAt) / 1000).toFixed(1)} s after the daemon was ready`;
  };
  const rate = (rs: Progress[]): number => (rs.length < 2 ? NaN : bytesBetween(rs[0]!.seq, rs.at(-1)!.seq) / 1e6 / ((rs.at(-1)!.ms - rs[0]!.ms) / 1000));
  const downRecords = records.filter((r) => phase(r.ms) === 'down');
  const totalLines = end >= 0 ? end : (records.at(-1)?.seq ?? -1) + 1;

  // json-file time − writer's clock for each progress line.
  const lag = (times: Map<number, number>, filter: (r: Progress) => boolean): number[] =>
    records.filter(filter).filter((r) => times.has(r.seq)).map((r) => times.get(r.seq)! - r.ms);
  const fmtLag = (v: number[]): string => (v.length ? `p50 ${ms(percentile(v, 50))}, p99 ${ms(percentile(v, 99))}, max ${ms(Math.max(...v))} (min ${ms(Math.min(...v))}; ${v.length} lines)` : 'n/a');
  const downLag = lag(kept.times, (r) => phase(r.ms) === 'down');
  const upLag = lag(kept.times, (r) => phase(r.ms) === 'up');

  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const totalBytes = bytesBetween(-1, totalLines - 1);
  const D = `${DOWNTIME_S} s`;
  row(`logging through ${D} downtime: lines lost, whole stream (all log file inodes kept aside)`, `${kept.missing} lost in ${kept.gaps} gaps; ${kept.count.toLocaleString('en-US')} of ${totalLines.toLocaleString('en-US')} lines (seq ${kept.first}…${kept.last})`, `${kept.dup} duplicated, ${kept.bad} malformed; ${keeper.files().length} inodes; dockerd 20.10: lost up to 65 lines in 9 trials`);
  row(`logging through ${D} downtime: lines lost in \`GET /containers/{id}/logs\``, `${api.missing} lost in ${api.gaps} gaps; ${api.count.toLocaleString('en-US')} lines (seq ${api.first}…${api.last})`, `the ${mb(api.bytes)} the API returned (in ${(api.ms / 1000).toFixed(1)} s); seq 0…${api.first - 1} were rotated away by max-file ${LOG_MAX_FILE}; ${api.dup} duplicated, ${api.bad} malformed`);
  row(`logging through ${D} downtime: longest writer stall`, ms(longest.gap), `between two progress records (every ${BATCH} lines ≈ ${((BATCH * 200) / 1024).toFixed(0)} KiB), ${where(longest.at)}; p99 gap while down ${ms(percentile(gapsByPhase.down, 99))}, while up ${ms(percentile(gapsByPhase.up, 99))}; dockerd 20.10: writer blocked for the whole downtime after ~128 KiB`);
  row(`logging through ${D} downtime: write rate`, `${fmt(rate(downRecords))} MB/s while down, ${fmt(rate(records))} MB/s overall`, `${LOG_MBS > 0 ? `target ${LOG_MBS} MB/s` : 'unthrottled'}; ${mb(totalBytes)} of payload, ${totalLines.toLocaleString('en-US')} lines of ~200 B in ${((records.at(-1)!.ms - records[0]!.ms) / 1000).toFixed(1)} s`);
  row(`logging through ${D} downtime: json-file \`time\` − writer's clock, lines written while down`, fmtLag(downLag), `for the progress lines (every ${BATCH}th); daemon up: ${fmtLag(upLag)}`);
  const cpu = Object.keys(cpuPids).map((k) => `${k} ${fmt((100 * (cpuAfter[k]! - cpuBefore[k]!)) / ((spawnAt - downAt) / 1000))}%`).join(', ');
  row(`logging through ${D} downtime: CPU while down (% of one CPU)`, cpu, `utime+stime from /proc; the writer's adjtimex/usleep children not counted; the runtime is the shim's foreground \`run\` child`);
  row(`logging through ${D} downtime: daemon restart`, `spawn → /_ping ${ms(restart.pingMs)}, → /info ${ms(restart.infoMs)}`, `restore logged as ${ready ? ms(Number(ready.ms)) : 'n/a'}; the writer kept logging meanwhile; container exit code ${exit.StatusCode} after the stop file`);
  notes.push(
    `Logging: the writer is busybox \`awk\` (PID 1 of the container) printing "<seq> <${PAD_LEN} zeros>" lines (~200 B), ${LINES_PER_WRITE} lines per write(2)${LINES_PER_WRITE > 1 ? ` (~${((LINES_PER_WRITE * 198) / 1024).toFixed(1)} KiB, like a program whose stdout is a block-buffered pipe)` : ''}; every ${BATCH} lines it appends "<seq> <tv_sec> <tv_usec>" read from busybox \`adjtimex\` (read-only: the wall clock in µs, one fork per record) to a bind-mounted file${LOG_MBS > 0 ? ` and \`usleep\`s when ahead of ${LOG_MBS} MB/s` : ''}. ${WARM_S} s with the daemon up, SIGTERM, ${D} down, restart, ${WARM_S} s up, then a stop file. Log settings: HostConfig.LogConfig = json-file, max-size=${LOG_MAX_SIZE}, max-file=${LOG_MAX_FILE}, so the API shows only the newest ~${LOG_MAX_FILE}×${LOG_MAX_SIZE}; every inode that was ever the log file or a rotated file was hard-linked aside (polled every 100 ms) to check the whole stream. "json-file time − writer's clock": the shim's stamp of line k minus the writer's adjtimex reading taken right after it wrote line k (negative = the shim stamped it before the writer's clock read finished). Load average before: ${load}.`,
    `Logging daemon restart: ${issues.length ? `warn/error lines: ${issues.join(', ')}` : 'no warn/error lines in the daemon log'}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// machine and final checks

function machine(info: Record<string, unknown>): string {
  return machineLines(info, `; /tmp on ${sh("df -T /tmp | awk 'NR==2{print $2}'")}`).join('\n');
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

const strayDescriptions = new Map<number, string>();

/** PIDs whose command line names one of `roots` (only our daemons put those paths there). */
function ourProcesses(roots: string[]): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = cmdline(Number(name));
    if (roots.some((root) => cmd.includes(root + '/'))) {
      found.push(Number(name));
      strayDescriptions.set(Number(name), `(${cmd.replace(/^\S*node --\S+ --\S+ --\S+ /, '').slice(0, 120)})`);
    }
  }
  return found;
}

function leftovers(): string[] {
  const found: string[] = ourProcesses(ourRoots).map((pid) => `process ${pid} ${strayDescriptions.get(pid) ?? ''}`);
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    if (ourRoots.some((root) => line.includes(root + '/'))) found.push(`mount ${line.slice(0, 150)}`);
  }
  for (const root of ourRoots) if (existsSync(root)) found.push(`directory ${root}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// main

let info: Record<string, unknown> = {};
const startedAt = new Date();
try {
  {
    const probe = await newDaemon('blp');
    info = await probe.client.info();
    await runCleanups();
  }
  for (const n of COUNTS) {
    const progress = { phase: '', detail: '' };
    try {
      await restoreBench(n, progress);
    } catch (err) {
      row(`${n} running: restore`, 'failed', `while ${progress.phase} (${progress.detail}): ${(err as Error).message.split('\n')[0]!.slice(0, 200)}`);
      console.error(err);
    } finally {
      await runCleanups();
    }
  }
  if (DOWNTIME_S > 0) {
    try {
      await loggingBench();
    } catch (err) {
      row('logging through downtime', 'failed', (err as Error).message.split('\n')[0]!.slice(0, 200));
      console.error(err);
    }
  }
} finally {
  await runCleanups();
}

if (retriedRequests) notes.push(`${retriedRequests} idempotent API request(s) were retried after ECONNRESET/EPIPE.`);
const left = leftovers();
notes.push(left.length ? `LEFT BEHIND: ${left.join('; ')}` : `Afterwards no process, mount or directory of this run's temp roots (${ourRoots.length}) was left.`);

console.log(`## Live restore at scale and logging through downtime

\`node bench/live-restore.ts\` (as root), ${startedAt.toISOString().slice(0, 10)}; BENCH_RESTORE_COUNTS=${COUNTS.join(',')}, BENCH_DOWNTIME_S=${DOWNTIME_S}, BENCH_LOG_MBS=${LOG_MBS}, BENCH_LOG_LINES_PER_WRITE=${LINES_PER_WRITE}${SHIM_ENTRY ? `, BENCH_SHIM_ENTRY=${SHIM_ENTRY}` : ''}.

${machine(info)}

| measurement | result | note |
|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

${notes.map((n) => `- ${n}`).join('\n')}
`);
