/**
 * Starts real berthd daemons on temporary roots for integration tests, and cleans up after
 * them — daemon, shims, containers, mounts, temp dirs — even when a test fails. Processes are
 * only ever killed by the PIDs this harness recorded.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { BerthClient } from '../../src/client/client.ts';
import { isProcessAlive, readProcStat, waitForProcessExit } from '../../src/lib/proc.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const NODE = process.execPath;

let busyboxTar: string | undefined;

/** The busybox test image, built once per test process from the host's busybox-static. */
export function busyboxTarball(): string {
  if (busyboxTar && existsSync(busyboxTar)) return busyboxTar;
  const dir = mkdtempSync('/tmp/berth-img-');
  busyboxTar = join(dir, 'busybox.tar');
  execFileSync(join(ROOT, 'scripts/busybox-rootfs.sh'), [busyboxTar]);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return busyboxTar;
}

export interface DaemonOptions {
  liveRestore?: boolean;
  /** daemon.json contents; written to <root>/daemon.json and passed with --config-file. */
  configFile?: Record<string, unknown> | string;
  extraArgs?: string[];
  /** Extra environment for berthd, e.g. BERTH_SHIM_ENTRY to run an older shim. */
  env?: Record<string, string>;
  /** The API socket at <exec root>/berth.sock, where berthd puts it by default, instead of <root>/api.sock. */
  socketInExecRoot?: boolean;
}

export class TestDaemon {
  readonly root: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly configPath: string;
  readonly client: BerthClient;
  process: ChildProcess | undefined;
  #logFile: string;
  /** Mutable between starts, e.g. to restart the same roots without live restore. */
  options: DaemonOptions;

  constructor(root: string, options: DaemonOptions) {
    this.root = root;
    this.dataRoot = join(root, 'data');
    this.execRoot = join(root, 'exec');
    this.socket = options.socketInExecRoot ? join(this.execRoot, 'berth.sock') : join(root, 'api.sock');
    this.configPath = join(root, 'daemon.json');
    this.client = new BerthClient(this.socket);
    this.#logFile = join(root, 'berthd.log');
    this.options = options;
    if (options.configFile !== undefined) this.writeConfig(options.configFile);
  }

  get pid(): number {
    return this.process?.pid ?? 0;
  }

  writeConfig(config: Record<string, unknown> | string): void {
    writeFileSync(this.configPath, typeof config === 'string' ? config : JSON.stringify(config));
  }

  args(): string[] {
    const args = ['--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', `unix://${this.socket}`, '--config-file', this.configPath];
    if (this.options.liveRestore) args.push('--live-restore');
    return [...args, ...(this.options.extraArgs ?? [])];
  }

  /** Start berthd and wait until its API answers /_ping and restore is done. */
  async start(): Promise<void> {
    if (!existsSync(this.configPath)) writeFileSync(this.configPath, '{}');
    const logFd = openSync(this.#logFile, 'a');
    this.process = spawn(NODE, [join(ROOT, 'dist/berthd.js'), ...this.args()], { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...this.options.env } });
    closeSync(logFd);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`berthd exited with ${this.process.exitCode}:\n${this.log()}`);
      try {
        await this.client.info();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`berthd did not become ready:\n${this.log()}`);
        await sleep(50);
      }
    }
  }

  /** Run berthd with these args to completion, for tests of refusals; returns exit code and stderr. */
  runExpectingExit(args: string[] = this.args()): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolvePromise) => {
      const child = spawn(NODE, [join(ROOT, 'dist/berthd.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolvePromise({ code, stderr });
      });
    });
  }

  /** Send a signal to the daemon and wait for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return 0;
    const started = Date.now();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`berthd did not exit within ${timeoutMs} ms after ${signal}`)), timeoutMs);
    });
    // The timer is cleared, so a test file that stops a daemon does not linger for timeoutMs.
    await Promise.race([exited, timedOut]).finally(() => clearTimeout(timer));
    return Date.now() - started;
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  log(): string {
    return existsSync(this.#logFile) ? readFileSync(this.#logFile, 'utf8') : '';
  }

  async importBusybox(name = 'busybox'): Promise<string> {
    const { status } = await this.client.importImage(createReadStream(busyboxTarball()), name);
    return status;
  }

  /** `berth` CLI against this daemon. */
  cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolvePromise) => {
      const child = spawn(NODE, [join(ROOT, 'dist/berth.js'), '-H', `unix://${this.socket}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin.end(input ?? '');
      child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
    });
  }

  /** Kill everything this daemon started (by recorded PIDs), unmount, remove the temp root. */
  async cleanup(): Promise<void> {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
      await waitForProcessExit(this.process.pid!, undefined, 5000);
    }
    const containersDir = join(this.dataRoot, 'containers');
    for (const id of existsSync(containersDir) ? readdirSync(containersDir) : []) {
      const recordPath = join(containersDir, id, 'record.json');
      if (!existsSync(recordPath)) continue;
      const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { state: { Pid: number }; shim?: { shimPid: number; shimStartTime: number; pidStartTime: number; runtime: { path: string; root: string } } };
      killIfOurs(record.state.Pid, record.shim?.pidStartTime);
      if (record.shim) killIfOurs(record.shim.shimPid, record.shim.shimStartTime);
      if (record.shim) {
        try {
          execFileSync(record.shim.runtime.path, ['--root', record.shim.runtime.root, 'delete', '--force', id], { stdio: 'ignore' });
        } catch { /* not known to the runtime */ }
      }
    }
    // Shims of containers whose record says nothing (e.g. a start still in progress): their pid files.
    const bundles = join(this.execRoot, 'bundles');
    for (const id of existsSync(bundles) ? readdirSync(bundles) : []) {
      const pidFile = join(bundles, id, 'init.pid');
      if (existsSync(pidFile)) killIfOurs(Number(readFileSync(pidFile, 'utf8')), undefined);
      // A shim still waiting for an acknowledgement that its dead daemon never sent.
      const shimPidFile = join(bundles, id, 'shim.pid');
      const shimPid = existsSync(shimPidFile) ? Number(readFileSync(shimPidFile, 'utf8')) : 0;
      if (shimPid && ownsBundle(shimPid, join(bundles, id))) killIfOurs(shimPid, undefined);
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const mountPoint = line.split(' ')[4];
      if (mountPoint && mountPoint.startsWith(this.root + '/')) {
        try {
          execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
        } catch { /* already gone */ }
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Whether `pid` is the shim serving `bundle` (its command line names the bundle), so a recycled PID is never hit. */
function ownsBundle(pid: number, bundle: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(bundle);
  } catch {
    return false;
  }
}

function killIfOurs(pid: number, startTime: number | undefined): void {
  if (!pid || !isProcessAlive(pid, startTime)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch { /* gone */ }
}

/** A daemon on fresh temporary roots, cleaned up when the test ends (pass or fail). */
export function newDaemon(t: TestContext, options: DaemonOptions = {}): TestDaemon {
  // Short path: shim sockets live below it and unix socket paths are limited to 108 bytes.
  const daemon = new TestDaemon(mkdtempSync('/tmp/bt-'), options);
  t.after(() => daemon.cleanup());
  return daemon;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export { isProcessAlive, readProcStat };

/** Create + start a busybox container running `script` with sh -c; returns its ID. */
export async function runShell(daemon: TestDaemon, script: string, extra: Record<string, unknown> = {}, name?: string): Promise<string> {
  const { Id } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', script], ...extra }, name);
  await daemon.client.startContainer(Id);
  return Id;
}

/** The real docker CLI (v28) these tests drive berthd with. */
export const DOCKER = process.env.DOCKER_CLI ?? '/usr/local/bin/docker';

/** `docker …` against `daemon`, with a private client config; stdin gets `input` (or nothing). */
export function docker(daemon: TestDaemon, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const home = join(daemon.root, 'docker-config');
    mkdirSync(home, { recursive: true });
    const child = spawn(DOCKER, args, { env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: home, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
