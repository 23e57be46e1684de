import { rmSync } from 'node:fs';
import type { ContainerRecord, ExitRecordLike } from './types.ts';
import { isActive } from '../../protocol/records.ts';
import type { ExitRecord, ShimState } from '../../protocol/shim.ts';
import type { KeyedQueue } from '../../lib/keyed-queue.ts';
import type { Logger } from '../../lib/logger.ts';
import { readJsonIfExists } from '../../lib/atomic-file.ts';
import { Throttle } from '../../lib/throttle.ts';
import type { EventBus } from '../events/events.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { RootfsStorage } from '../storage/storage.ts';
import type { ShimConnection } from '../shims/connector.ts';
import type { ShimEvents, ShimSupervisor } from '../shims/supervisor.ts';
import type { ContainerStore } from './container-store.ts';
import { publishContainerEvent } from './container-events.ts';
import { transition } from './lifecycle.ts';

export interface MonitorDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  storage: Pick<RootfsStorage, 'unmount'>;
  events: EventBus;
  log: Logger;
  queue: KeyedQueue;
  supervisor: ShimSupervisor;
  /** `--rm`: called once an exit is recorded. */
  autoRemove: (record: ContainerRecord) => Promise<void>;
}

const DROP_WARN_INTERVAL_MS = 60_000;

/**
 * Follows every running container through its shim and records what happens to it: restarts
 * the shim did on its own, health, dropped log lines, and the final exit with its real code.
 */
export class ContainerMonitor {
  readonly #d: MonitorDeps;
  readonly #exitWaiters = new Map<string, Set<() => void>>();
  readonly #dropWarnings = new Throttle(DROP_WARN_INTERVAL_MS);
  readonly #shimEvents: ShimEvents;

  constructor(deps: MonitorDeps) {
    this.#d = deps;
    const { queue, store } = deps;
    this.#shimEvents = {
      seenGeneration: (id) => store.find(id)?.shim?.seenGeneration ?? 0,
      onState: (id, state) => queue.run(id, async () => this.applyShimState(id, state)),
      onExit: (id, exit, connection) => queue.run(id, () => this.recordExit(id, exit, connection)),
      onLost: (id) => queue.run(id, () => this.shimLost(id)),
    };
  }

  /** Connect to the container's shim and follow it in the background until the container's final exit. */
  watch(record: ContainerRecord): Promise<void> {
    return this.#d.supervisor.follow(record.id, record.shim!, this.#shimEvents);
  }

  /**
   * Bring the record up to date with what the shim did on its own (restarts under the
   * restart policy, maybe while the daemon was down): events dated when things happened,
   * the current PID and StartedAt, RestartCount.
   */
  applyShimState(id: string, state: ShimState): void {
    const record = this.#d.store.find(id);
    if (!record?.shim || !isActive(record.state.Status)) return;
    const before = JSON.stringify(record);
    const seen = record.shim.seenGeneration ?? 0;
    // Every start and exit the daemon has not reported yet, dated when it happened.
    let reportedStart = record.state.StartedAt;
    for (const run of state.history ?? []) {
      if (run.generation <= seen) continue;
      if (run.startedAt && run.startedAt !== reportedStart) this.#emit('start', record, {}, run.startedAt);
      reportedStart = run.startedAt;
      if (run.restarted) this.#emit('die', record, { exitCode: String(run.exitCode) }, run.finishedAt);
    }
    const last = state.history?.at(-1);
    if (state.status === 'running' && state.startedAt !== record.state.StartedAt) {
      if (state.startedAt !== reportedStart) this.#emit('start', record, {}, state.startedAt);
      transition(record, 'running', { Pid: state.pid, StartedAt: state.startedAt, Error: '' });
      record.shim.pidStartTime = state.pidStartTime;
    } else if (state.status === 'restarting' && last) {
      transition(record, 'restarting', { Pid: 0, ExitCode: last.exitCode, FinishedAt: last.finishedAt });
    }
    if (state.health) {
      if (state.health.Status !== record.state.Health?.Status) this.#emit(`health_status: ${state.health.Status}`, record, {}, state.health.Log.at(-1)?.End);
      transition(record, record.state.Status, { Health: state.health });
    }
    if ((state.logDroppedLines ?? 0) > (record.state.LogDroppedLines ?? 0)) {
      transition(record, record.state.Status, { LogDroppedLines: state.logDroppedLines });
      this.#warnDroppedLines(record, state.logWriteError);
    }
    record.restartCount = (record.shim.restartCountAtLaunch ?? 0) + (state.restartCount ?? 0);
    record.shim.seenGeneration = state.generation ?? seen;
    // A reattach usually changes nothing: skip the fsync (restore of hundreds stays fast).
    if (JSON.stringify(record) !== before) void this.#d.store.saveEventually(record);
  }

  /** At most one warning per container and minute: a full disk drops lines by the thousand. */
  #warnDroppedLines(record: ContainerRecord, error: string | undefined): void {
    if (!this.#dropWarnings.allow(record.id)) return;
    this.#d.log.warn({ containerId: record.id, droppedLines: record.state.LogDroppedLines, error }, 'container log lines dropped: the json-file log cannot be written');
  }

  /** Record an exit (the container's real code and time), release its resources, and let the shim go. */
  async recordExit(id: string, exit: ExitRecordLike, connection?: ShimConnection): Promise<void> {
    const record = this.#d.store.find(id);
    if (!record || !isActive(record.state.Status)) return;
    transition(record, 'exited', { Pid: 0, ExitCode: exit.exitCode, FinishedAt: exit.finishedAt, OOMKilled: exit.oomKilled ?? false, Error: exit.error ?? '' });
    const shim = record.shim;
    delete record.shim;
    this.#dropWarnings.reset(id);
    const { written, persisted } = this.#d.store.saveEventually(record);
    this.#emit('die', record, { exitCode: String(exit.exitCode) }, exit.finishedAt);
    this.#d.log.info({ containerId: id, exitCode: exit.exitCode }, 'container exited');
    await this.#d.storage.unmount(this.#d.paths.containerRootfs(id)).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cannot unmount rootfs'));
    this.#d.supervisor.forget(id);
    // Until the exit is on disk (a full disk can delay it), the shim is what remembers it
    // for a daemon that restarts meanwhile: it is let go only after the record is written.
    const release = async () => {
      if (shim) await this.#d.supervisor.release(shim, connection);
      else connection?.close();
    };
    if (written) await release();
    else void persisted.then(release).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cannot let the shim go'));
    rmSync(this.#d.paths.bundle(id), { recursive: true, force: true });
    this.#notifyExit(id);
    if (record.hostConfig.AutoRemove) await this.#d.autoRemove(record);
  }

  /** The shim went away without reporting an exit: use its exit record if it wrote one, else clean up. */
  async shimLost(id: string, unreachable = false): Promise<void> {
    const record = this.#d.store.find(id);
    if (!record || !isActive(record.state.Status) || !record.shim) return;
    const shim = record.shim;
    const { supervisor } = this.#d;
    supervisor.forget(id);
    if (!unreachable && supervisor.processes.alive(shim.shimPid, shim.shimStartTime)) {
      // Still alive: the connection broke, not the shim. Reconnect.
      await this.watch(record).catch(() => setTimeout(() => void this.#d.queue.run(id, () => this.shimLost(id)), 500));
      return;
    }
    const exit = this.readExitRecord(record);
    if (exit) return this.recordExit(id, exit);
    const why = unreachable ? `shim process (pid ${shim.shimPid}) did not answer; the container was stopped` : `shim process (pid ${shim.shimPid}) died unexpectedly; the container was stopped`;
    await this.cleanupLost(record, why);
  }

  /** The exit the shim wrote to disk for the current run, if any. */
  readExitRecord(record: ContainerRecord): ExitRecord | undefined {
    try {
      const exit = readJsonIfExists<ExitRecord>(this.#d.paths.containerExit(record.id));
      return exit && exit.finishedAt >= record.state.StartedAt ? exit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kill whatever is left of a container whose shim is gone, and record it as exited 255 with why. */
  async cleanupLost(record: ContainerRecord, why: string): Promise<void> {
    if (record.shim) await this.#d.supervisor.killOrphanedContainer(record.id, record.shim, record.state.Pid);
    this.#d.log.warn({ containerId: record.id }, why);
    await this.recordExit(record.id, { exitCode: 255, finishedAt: new Date().toISOString(), oomKilled: false, error: why });
  }

  #notifyExit(id: string): void {
    const waiters = this.#exitWaiters.get(id);
    this.#exitWaiters.delete(id);
    for (const w of waiters ?? []) w();
  }

  /** Resolves at the container's next exit (after it has been recorded). */
  nextExit(id: string): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#exitWaiters.get(id);
      if (!set) this.#exitWaiters.set(id, (set = new Set()));
      set.add(resolve);
    });
  }

  #emit(action: string, record: ContainerRecord, extra: Record<string, string> = {}, at?: string): void {
    publishContainerEvent(this.#d.events, action, record, extra, at);
  }
}
