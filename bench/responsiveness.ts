/**
 * Does berthd keep answering while it does long work for one client? (run as root:
 * `npm run build && node bench/responsiveness.ts`). A script, not a test: nothing here
 * asserts a time. Prints a markdown section to paste into bench/RESULTS.md.
 *
 * A real berthd on temporary roots, two containers:
 *   - one that printed BENCH_LOG_MB (default 64) MB of 100-byte lines (`yes | head -c`), so its
 *     json-file log is ~1.7× that;
 *   - one that created BENCH_FILES (default 30,000) empty files in its upper directory.
 * Then, for each operation, `/_ping` is sent back to back on its own connection while the
 * operation runs, and its latency is reported (p50, p99, max):
 *   idle; `logs?since=<in an hour>` (reads and skips the whole log); `logs?tail=100000`;
 *   `containers/json?size=1` (`ps -s`); `system/df`.
 *
 * BENCH_BERTH_DIST=<dir> runs the berthd.js of another build (e.g. the commit before a fix)
 * against the same workload.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { machineLines } from './machine.ts';
import { ROOT, TestDaemon, sleep } from '../test/integration/harness.ts';

const LOG_MB = Number(process.env.BENCH_LOG_MB ?? 64);
const FILES = Number(process.env.BENCH_FILES ?? 30_000);
const DIST = process.env.BENCH_BERTH_DIST ?? join(ROOT, 'dist');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;

/** One request on a fresh connection; resolves with the body size once it has all been read. */
function get(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/v1.47${path}`, method: 'GET', agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(bytes) : reject(new Error(`${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `/_ping` latencies, back to back, while `work` runs (or for `idleMs` with no work). */
async function pingDuring(socketPath: string, work: () => Promise<unknown>): Promise<{ pings: number[]; workMs: number }> {
  let done = false;
  const pings: number[] = [];
  const pinger = (async () => {
    while (!done) {
      const t0 = performance.now();
      await get(socketPath, '/_ping');
      pings.push(performance.now() - t0);
    }
  })();
  const t0 = performance.now();
  await work();
  const workMs = performance.now() - t0;
  done = true;
  await pinger;
  return { pings, workMs };
}

async function startDaemon(daemon: TestDaemon): Promise<void> {
  daemon.writeConfig({});
  const logFd = openSync(join(daemon.root, 'berthd.log'), 'a');
  daemon.process = spawn(process.execPath, [join(DIST, 'berthd.js'), ...daemon.args()], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  for (const deadline = Date.now() + 20_000; ; await sleep(50)) {
    try {
      await daemon.client.info();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

async function waitExited(daemon: TestDaemon, id: string): Promise<void> {
  for (;;) {
    const state = (await daemon.client.inspectContainer(id)).State as { Status: string; ExitCode: number };
    if (state.Status === 'exited') {
      if (state.ExitCode !== 0) throw new Error(`setup container ${id} exited ${state.ExitCode}`);
      return;
    }
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const daemon = new TestDaemon(mkdtempSync('/tmp/bb-'), {});
  try {
    await startDaemon(daemon);
    await daemon.importBusybox();
    const line = 'x'.repeat(99);
    const { Id: logger } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', `yes ${line} | head -c ${LOG_MB * 1024 * 1024}`] });
    const { Id: files } = await daemon.client.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', `mkdir /d && cd /d && i=0; while [ $i -lt ${Math.ceil(FILES / 1000)} ]; do mkdir $i; (cd $i && seq 1 1000 | xargs touch); i=$((i+1)); done`],
    });
    let t0 = performance.now();
    await daemon.client.startContainer(logger);
    await daemon.client.startContainer(files);
    await waitExited(daemon, logger);
    await waitExited(daemon, files);
    const setupS = (performance.now() - t0) / 1000;
    const logBytes = statSync(join(daemon.dataRoot, 'containers', logger, `${logger}-json.log`)).size;
    const future = Math.floor(Date.now() / 1000) + 3600;
    const socket = daemon.socket;
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['idle (2 s)', () => sleep(2000)],
      [`logs?since=<in an hour> (skips the whole ${(logBytes / 2 ** 20).toFixed(0)} MiB log)`, () => get(socket, `/containers/${logger}/logs?stdout=1&stderr=1&since=${future}`)],
      ['logs?tail=100000', () => get(socket, `/containers/${logger}/logs?stdout=1&stderr=1&tail=100000`)],
      [`containers/json?all=1&size=1 (ps -s; ${FILES.toLocaleString('en-US')} files in one container)`, () => get(socket, '/containers/json?all=1&size=1')],
      ['system/df', () => get(socket, '/system/df')],
    ];
    const rows: string[] = [];
    for (const [name, work] of operations) {
      const { pings, workMs } = await pingDuring(socket, work);
      rows.push(`| ${name} | ${ms(workMs)} | ${pings.length} | ${ms(percentile(pings, 50))} | ${ms(percentile(pings, 99))} | ${ms(Math.max(...pings))} |`);
    }
    const info = await daemon.client.info();
    console.log(`## Responsiveness: /_ping while one client makes berthd read a big log or size many files (${new Date().toISOString().slice(0, 10)})\n`);
    console.log(`\`node bench/responsiveness.ts\` (as root); berthd from \`${DIST === join(ROOT, 'dist') ? 'dist/' : DIST}\`; BENCH_LOG_MB=${LOG_MB}, BENCH_FILES=${FILES}; setup took ${setupS.toFixed(1)} s.\n`);
    for (const l of machineLines(info)) console.log(l);
    console.log('\n| while berthd serves | operation took | pings | ping p50 | ping p99 | ping max |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log('\nPings are sent back to back, each on a new connection, from the same process as the operation\'s client.');
  } finally {
    await daemon.cleanup();
  }
}

await main();
