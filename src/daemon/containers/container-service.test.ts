// The container lifecycle against a fake shim (ShimConnector) and fake host processes: no root, no runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerService } from './container-service.ts';
import { ContainerStore } from './container-store.ts';
import { DaemonPaths } from '../host/paths.ts';
import { EventBus } from '../events/events.ts';
import { pino } from 'pino';
import type { ImageRecord } from '../../protocol/records.ts';
import type { ExitRecord, HelloResult, ShimConfig, ShimState } from '../../protocol/shim.ts';
import type { HostProcesses, ShimConnection, ShimConnector } from '../shims/connector.ts';
import type { RootfsStorage } from '../storage/storage.ts';
import type { ImageStore } from '../../images/image-store.ts';

const BOOT = 'boot-test';
const SHIM_PID = 900_001;
const CONTAINER_PID = 900_002;

/** One fake shim per container: its state moves when the daemon kills it or the test ends it. */
class FakeShim implements ShimConnection {
  state: ShimState;
  readonly calls: string[] = [];
  #watchers: Array<{ after: number; resolve: (s: ShimState) => void; reject: (e: Error) => void }> = [];

  constructor(startedAt: string) {
    this.state = { status: 'running', pid: CONTAINER_PID, pidStartTime: 7, startedAt, generation: 1 };
  }

  exit(exitCode: number): void {
    const exit: ExitRecord = { schemaVersion: 1, exitCode, oomKilled: false, finishedAt: new Date().toISOString() };
    this.state = { ...this.state, status: 'exited', exit, generation: (this.state.generation ?? 0) + 1 };
    this.#notify();
  }

  vanish(): void {
    for (const w of this.#watchers.splice(0)) w.reject(new Error('connection to shim lost'));
  }

  #notify(): void {
    for (const w of this.#watchers.splice(0)) w.resolve(this.state);
  }

  async hello(): Promise<HelloResult> { this.calls.push('hello'); return { version: '1.3', shimPid: SHIM_PID, state: this.state }; }
  watch(generation: number): Promise<ShimState> {
    if ((this.state.generation ?? 0) > generation) return Promise.resolve(this.state);
    return new Promise((resolve, reject) => this.#watchers.push({ after: generation, resolve, reject }));
  }
  async wait(): Promise<ExitRecord> { throw new Error('protocol 1.3 shims are watched'); }
  async kill(signal: string): Promise<void> { this.calls.push(`kill ${signal}`); this.exit(signal === 'SIGKILL' ? 137 : 143); }
  async pause(): Promise<void> { this.calls.push('pause'); }
  async resume(): Promise<void> { this.calls.push('resume'); }
  async shutdown(): Promise<void> { this.calls.push('shutdown'); }
  close(): void { this.calls.push('close'); this.vanish(); }
}

function setup(t: { after: (fn: () => void) => void }, dir = mkdtempSync(join(tmpdir(), 'berth-lifecycle-'))) {
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = new DaemonPaths(join(dir, 'data'), join(dir, 'exec'));
  const log = pino({ level: 'silent' });
  const store = new ContainerStore(paths, log);
  store.load(log);
  const shims = new Map<string, FakeShim>();
  const alive = new Set<number>();
  const connector: ShimConnector = {
    async launch(config: ShimConfig) {
      const shim = new FakeShim(new Date().toISOString());
      shims.set(config.socketPath, shim);
      alive.add(SHIM_PID);
      return { shimPid: SHIM_PID, ready: { ok: true as const, version: '1.3', shimPid: SHIM_PID, socketPath: config.socketPath, state: shim.state } };
    },
    async connect(socketPath: string) {
      const shim = shims.get(socketPath);
      if (!shim) throw new Error(`cannot connect to shim at ${socketPath}: ENOENT`);
      return shim;
    },
    async delete() { /* nothing to clean */ },
  };
  const processes: HostProcesses = {
    bootId: () => BOOT,
    alive: (pid) => alive.has(pid),
    startTime: () => 1,
    waitForExit: async () => true,
    kill: (pid) => { alive.delete(pid); },
    cmdline: () => undefined,
    removeSocket: () => undefined,
  };
  const unmounts: string[] = [];
  let failUnmount = false;
  const storage = {
    driver: 'copy',
    async mount(_lower: string[], _upper: string, _work: string, target: string) { mkdirSync(join(target, 'etc'), { recursive: true }); writeFileSync(join(target, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n'); },
    async unmount(target: string) { if (failUnmount) throw new Error('device busy'); unmounts.push(target); },
  } as unknown as RootfsStorage;
  const image = { id: 'sha256:' + 'e'.repeat(64), repoTags: ['busybox:latest'], config: { Cmd: ['sleep', '1000'], Env: ['PATH=/bin'] } } as unknown as ImageRecord;
  const images = { find: () => image, intactLowerDirs: async () => [] } as unknown as ImageStore;
  const events = new EventBus();
  const make = () => new ContainerService({
    paths, store, images, storage, runtime: { name: 'fake', path: '/bin/false', root: join(dir, 'exec/runtime/fake') },
    shimBinary: { node: '/bin/false', entry: '/nonexistent' }, connector, processes, cgroupParent: undefined,
    log, daemonLogOpts: () => ({}), events,
  });
  return { dir, paths, store, shims, alive, make, unmounts, setFailUnmount: (v: boolean) => { failUnmount = v; } };
}

test('start, kill, wait: the record follows the shim, and the shim is let go once the exit is written', async (t) => {
  const s = setup(t);
  const service = s.make();
  const { Id } = service.create({ Image: 'busybox' }, 'web');
  await service.start(Id);
  const running = s.store.resolve(Id);
  assert.equal(running.state.Status, 'running');
  assert.equal(running.state.Pid, CONTAINER_PID);
  const shim = [...s.shims.values()][0]!;
  const waited = service.wait(Id);
  await service.kill(Id, 'SIGKILL');
  assert.deepEqual(await waited, { StatusCode: 137, Error: null });
  const exited = s.store.resolve(Id);
  assert.equal(exited.state.Status, 'exited');
  assert.equal(exited.state.Pid, 0);
  assert.equal(exited.shim, undefined);
  assert.ok(shim.calls.includes('shutdown'), `calls: ${shim.calls.join(', ')}`);
});

test('pause and unpause go through the shim and the state table', async (t) => {
  const s = setup(t);
  const service = s.make();
  const { Id } = service.create({ Image: 'busybox' }, undefined);
  await assert.rejects(service.pause(Id), /is not running/);
  await service.start(Id);
  await service.pause(Id);
  assert.equal(s.store.resolve(Id).state.Status, 'paused');
  await service.unpause(Id);
  assert.equal(s.store.resolve(Id).state.Status, 'running');
  await service.kill(Id);
});

test('a shim that dies without an exit: exited 255 with an Error naming it', async (t) => {
  const s = setup(t);
  const service = s.make();
  const { Id } = service.create({ Image: 'busybox' }, undefined);
  await service.start(Id);
  const waited = service.wait(Id);
  s.alive.delete(SHIM_PID);
  [...s.shims.values()][0]!.vanish();
  const result = await waited;
  assert.equal(result.StatusCode, 255);
  assert.match(result.Error?.Message ?? '', /shim process \(pid 900001\) died unexpectedly/);
});

test('restore: a live shim is reattached with the same PID; one that exited meanwhile is recorded with its real code', async (t) => {
  const s = setup(t);
  const first = s.make();
  const a = first.create({ Image: 'busybox' }, 'alpha').Id;
  const b = first.create({ Image: 'busybox' }, 'beta').Id;
  await first.start(a);
  await first.start(b);
  const startedAt = s.store.resolve(a).state.StartedAt;
  first.detachAll();
  const shimOf = (id: string) => s.shims.get(s.store.resolve(id).shim!.socketPath)!;
  shimOf(b).exit(3);
  const second = s.make();
  const counts = await second.restore();
  assert.deepEqual(counts, { alive: 1, exited: 1, lost: 0, stray: 0 });
  assert.equal(s.store.resolve(a).state.Status, 'running');
  assert.equal(s.store.resolve(a).state.Pid, CONTAINER_PID);
  assert.equal(s.store.resolve(a).state.StartedAt, startedAt);
  assert.equal(s.store.resolve(b).state.Status, 'exited');
  assert.equal(s.store.resolve(b).state.ExitCode, 3);
  await second.kill(a);
});

test('a removal that fails leaves the container dead; removing it again succeeds', async (t) => {
  const s = setup(t);
  const service = s.make();
  const { Id } = service.create({ Image: 'busybox' }, undefined);
  s.setFailUnmount(true);
  await assert.rejects(service.remove(Id), /device busy/);
  assert.equal(s.store.resolve(Id).state.Status, 'dead');
  s.setFailUnmount(false);
  await service.remove(Id);
  assert.equal(s.store.find(Id), undefined);
});
