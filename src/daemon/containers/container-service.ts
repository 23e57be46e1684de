import { rmSync } from 'node:fs';
import { EngineError, conflict, invalidArgument, notFound } from '../../protocol/errors.ts';
import type { ContainerRecord } from './types.ts';
import { isActive } from '../../protocol/records.ts';
import { normalizeSignal, signalNumber } from '../../protocol/signals.ts';
import type { EventBus } from '../events/events.ts';
import { KeyedQueue } from '../../lib/keyed-queue.ts';
import { NAME_PATTERN, newContainerId, randomName } from '../../lib/ids.ts';
import type { Logger } from '../../lib/logger.ts';
import type { RuntimeInfo } from '../../runtime/oci-runtime.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { ContainerStore } from './container-store.ts';
import type { ImageStore } from '../../images/image-store.ts';
import type { RootfsStorage } from '../storage/storage.ts';
import type { ShimBinary } from '../shims/shim-launcher.ts';
import { hostProcesses, shimConnector, type HostProcesses, type ShimConnector } from '../shims/connector.ts';
import { ShimSupervisor } from '../shims/supervisor.ts';
import { assertTransition, createdState, transition } from './lifecycle.ts';
import { parseCreateRequest } from './create-request.ts';
import { resolveCommand } from './process-setup.ts';
import { withImageDefaults } from './image-defaults.ts';
import { launchContainer, storageFor } from './launch.ts';
import { ContainerMonitor } from './monitor.ts';
import { publishContainerEvent } from './container-events.ts';
import { restoreContainers, type RestoreCounts } from '../restore/restore.ts';
import { Orphans, type Orphan } from '../restore/orphans.ts';

export const DEFAULT_STOP_TIMEOUT_S = 10;

export interface ContainerServiceDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  images: ImageStore;
  storage: RootfsStorage;
  runtime: RuntimeInfo;
  shimBinary: ShimBinary;
  /** How shims are launched and reached; by default the real shim binary over its socket. */
  connector?: ShimConnector;
  processes?: HostProcesses;
  /** cgroup parent for containers, or undefined where the runtime cannot use cgroups on this host. */
  cgroupParent: string | undefined;
  log: Logger;
  daemonLogOpts: () => Record<string, string>;
  events: EventBus;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Container lifecycle: create, start, stop, kill, pause, rename, remove, wait; restore and shutdown. */
export class ContainerService {
  readonly #d: ContainerServiceDeps;
  readonly #queue = new KeyedQueue();
  readonly #supervisor: ShimSupervisor;
  readonly #monitor: ContainerMonitor;
  readonly #orphans: Orphans;
  readonly #removeWaiters = new Map<string, Set<() => void>>();

  constructor(deps: ContainerServiceDeps) {
    this.#d = deps;
    this.#supervisor = new ShimSupervisor(deps.connector ?? shimConnector(deps.shimBinary), deps.processes ?? hostProcesses, deps.log);
    this.#monitor = new ContainerMonitor({ ...deps, queue: this.#queue, supervisor: this.#supervisor, autoRemove: (record) => this.#removeRecord(record) });
    this.#orphans = new Orphans({ ...deps, supervisor: this.#supervisor });
  }

  get store(): ContainerStore {
    return this.#d.store;
  }

  create(body: unknown, name: string | undefined): { Id: string; Warnings: string[] } {
    const request = parseCreateRequest(body, this.#d.daemonLogOpts());
    if (name !== undefined && name !== '' && !NAME_PATTERN.test(name)) {
      throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const image = this.#d.images.find(request.config.Image);
    if (!image) throw notFound(`No such image: ${request.config.Image}`);
    const id = newContainerId();
    const finalName = name ? name.replace(/^\//, '') : this.#uniqueRandomName();
    const holder = this.#d.store.nameInUse(finalName);
    if (holder) {
      throw conflict(`Conflict. The container name "/${finalName}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const config = withImageDefaults({ ...request.config, Hostname: request.config.Hostname || id.slice(0, 12) }, image.config);
    const command = resolveCommand({ config }, image);
    const record: ContainerRecord = {
      schemaVersion: 1,
      id,
      name: finalName,
      created: new Date().toISOString(),
      imageId: image.id,
      path: command.path,
      args: command.args,
      config,
      hostConfig: request.hostConfig,
      state: createdState(),
      restartCount: 0,
      stoppedByUser: false,
      storageDriver: this.#d.storage.driver,
    };
    try {
      this.#d.store.save(record);
    } catch (err) {
      throw new EngineError('Internal', `cannot create container: ${EngineError.from(err).message}`, { cause: err });
    }
    this.#emit('create', record);
    this.#d.log.info({ containerId: id, name: finalName }, 'container created');
    return { Id: id, Warnings: [] };
  }

  #uniqueRandomName(): string {
    for (;;) {
      const name = randomName();
      if (!this.#d.store.nameInUse(name)) return name;
    }
  }

  async start(ref: string): Promise<void> {
    const id = this.#d.store.resolve(ref).id;
    await this.#queue.run(id, async () => {
      const record = this.#d.store.resolve(id);
      // Running, paused or restarting under its policy: it has a shim already.
      if (isActive(record.state.Status)) throw new EngineError('NotModified', 'container already started');
      assertTransition(id, record.state.Status, 'running');
      await this.#startProcess(record);
    });
  }

  async #startProcess(record: ContainerRecord): Promise<void> {
    try {
      await launchContainer({ ...this.#d, supervisor: this.#supervisor }, record);
    } catch (err) {
      // As dockerd: an --rm container that cannot start is removed, so `docker run --rm` waiting for the removal returns.
      if (record.hostConfig.AutoRemove) await this.#removeRecord(record).catch((e: unknown) => this.#d.log.warn({ containerId: record.id, err: e }, 'cannot remove a container that failed to start'));
      throw err;
    }
    await this.#monitor.watch(record);
  }

  async kill(ref: string, signalInput = 'SIGKILL'): Promise<void> {
    const signal = normalizeSignal(signalInput);
    const record = this.#d.store.resolve(ref);
    if (!isActive(record.state.Status)) throw conflict(`Cannot kill container: ${ref}: Container ${record.id} is not running`);
    // Only a signal meant to end the container counts as a manual stop; SIGHUP or SIGUSR1 do not.
    const ending = signal === 'SIGKILL' || signal === normalizeSignal(record.config.StopSignal ?? 'SIGTERM');
    if (ending) record.stoppedByUser = true;
    await this.#signal(record, signal, ending);
    this.#emit('kill', record, { signal: String(signalNumber(signal)) });
  }

  /** `stop`: the container is meant to end, so its shim must not restart it. */
  async #signal(record: ContainerRecord, signal: string, stop = true): Promise<void> {
    if (!this.#supervisor.isConnected(record.id)) {
      // Not connected (a shim too slow to answer, say): reconnect, or treat it as lost so
      // that a stop or rm -f ends instead of waiting for an exit nobody will report.
      await this.#monitor.watch(record).catch(() => this.#queue.run(record.id, () => this.#monitor.shimLost(record.id, true)));
      if (!this.#supervisor.isConnected(record.id)) return;
    }
    await this.#supervisor.connection(record.id).kill(signal, stop);
    // A frozen process only acts on a signal once thawed.
    if (record.state.Status === 'paused') await this.#setPaused(record, false);
  }

  #emit(action: string, record: ContainerRecord, extra: Record<string, string> = {}, at?: string): void {
    publishContainerEvent(this.#d.events, action, record, extra, at);
  }

  async pause(ref: string): Promise<void> {
    const id = this.#d.store.resolve(ref).id;
    await this.#queue.run(id, async () => {
      const record = this.#d.store.resolve(id);
      if (record.state.Status === 'paused') throw conflict(`Container ${id} is already paused`);
      if (record.state.Status !== 'running') throw conflict(`Container ${id} is not running`);
      await this.#setPaused(record, true);
    });
  }

  async unpause(ref: string): Promise<void> {
    const id = this.#d.store.resolve(ref).id;
    await this.#queue.run(id, async () => {
      const record = this.#d.store.resolve(id);
      if (record.state.Status !== 'paused') throw conflict(`Container ${id} is not paused`);
      await this.#setPaused(record, false);
    });
  }

  async #setPaused(record: ContainerRecord, paused: boolean): Promise<void> {
    const connection = this.#supervisor.connection(record.id);
    if (paused) await connection.pause();
    else await connection.resume();
    transition(record, paused ? 'paused' : 'running');
    void this.#d.store.saveEventually(record);
    this.#emit(paused ? 'pause' : 'unpause', record);
  }

  rename(ref: string, newName: string): void {
    const record = this.#d.store.resolve(ref);
    const name = newName.replace(/^\//, '');
    if (!name) throw invalidArgument('Neither old nor new names may be empty');
    if (!NAME_PATTERN.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === record.name) throw invalidArgument(`Renaming a container with the same name as its current name`);
    const holder = this.#d.store.nameInUse(name);
    if (holder) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    const oldName = record.name;
    this.#d.store.save({ ...record, name });
    this.#emit('rename', this.#d.store.resolve(record.id), { oldName: `/${oldName}` });
  }

  emitAttach(id: string): void {
    this.#emit('attach', this.#d.store.resolve(id));
  }

  /**
   * Run `fn` with the container's root filesystem mounted (temporarily, for a stopped
   * container), in the container's queue so a start or removal cannot interleave.
   */
  async withRootfs<T>(ref: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const id = this.#d.store.resolve(ref).id;
    return this.#queue.run(id, async () => {
      const record = this.#d.store.resolve(id);
      const rootfs = this.#d.paths.containerRootfs(id);
      const mountedHere = !isActive(record.state.Status);
      if (mountedHere) {
        const image = this.#d.images.find(record.imageId);
        if (!image) throw notFound(`No such image: ${record.config.Image}`);
        await storageFor(record, this.#d.storage).mount(await this.#d.images.intactLowerDirs(image), this.#d.paths.containerUpper(id), this.#d.paths.containerWork(id), rootfs);
      }
      try {
        return await fn(rootfs);
      } finally {
        if (mountedHere) await this.#d.storage.unmount(rootfs).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cannot unmount rootfs'));
      }
    });
  }

  /** Resolves at the container's next exit (after it has been recorded). */
  nextExit(id: string): Promise<void> {
    return this.#monitor.nextExit(id);
  }

  /** The shim socket of an active container, for execs. */
  shimSocket(ref: string): { record: ContainerRecord; socketPath: string } {
    const record = this.#d.store.resolve(ref);
    if (!isActive(record.state.Status) || !record.shim) throw conflict(`Container ${record.id} is not running`);
    if (record.state.Status === 'paused') throw conflict(`Container ${record.id} is paused, unpause the container before exec`);
    return { record, socketPath: record.shim.socketPath };
  }

  /** SIGTERM (or the stop signal), wait the stop timeout, then SIGKILL. */
  async stop(ref: string, timeoutSeconds?: number, signalInput?: string): Promise<void> {
    const record = this.#d.store.resolve(ref);
    if (!isActive(record.state.Status)) throw new EngineError('NotModified', 'container already stopped');
    record.stoppedByUser = true;
    await this.#stopRunning(record, timeoutSeconds, signalInput);
    this.#emit('stop', record);
  }

  async #stopRunning(record: ContainerRecord, timeoutSeconds?: number, signalInput?: string): Promise<void> {
    const timeout = timeoutSeconds ?? record.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const signal = normalizeSignal(signalInput ?? record.config.StopSignal ?? 'SIGTERM');
    const exited = this.#monitor.nextExit(record.id);
    if (!isActive(record.state.Status)) return;
    if (timeout !== 0) {
      await this.#signal(record, signal).catch((err: unknown) => this.#d.log.warn({ containerId: record.id, err }, 'stop signal failed'));
      if (timeout < 0) return exited;
      const inTime = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
      if (inTime) return;
    }
    await this.#signal(record, 'SIGKILL').catch((err: unknown) => this.#d.log.warn({ containerId: record.id, err }, 'SIGKILL failed'));
    await exited;
  }

  async restart(ref: string, timeoutSeconds?: number): Promise<void> {
    const record = this.#d.store.resolve(ref);
    if (isActive(record.state.Status)) await this.#stopRunning(record, timeoutSeconds);
    await this.start(record.id);
    this.#emit('restart', this.#d.store.resolve(record.id));
  }

  async remove(ref: string, options: { force?: boolean } = {}): Promise<void> {
    const record = this.#d.store.resolve(ref);
    if (isActive(record.state.Status)) {
      if (!options.force) {
        throw conflict(`cannot remove container "/${record.name}": container is running: stop the container before removing or force remove`);
      }
      await this.#stopRunning(record, 0);
    }
    await this.#queue.run(record.id, async () => {
      const current = this.#d.store.find(record.id);
      if (!current) return;
      if (isActive(current.state.Status)) throw conflict(`cannot remove container "/${current.name}": container is running`);
      await this.#removeRecord(current);
    });
  }

  /** Enters `removing`; a removal that fails leaves the container `dead`, as dockerd does, to be removed again. */
  async #removeRecord(record: ContainerRecord): Promise<void> {
    if (!this.#d.store.find(record.id)) return;
    transition(record, 'removing');
    try {
      await this.#d.storage.unmount(this.#d.paths.containerRootfs(record.id));
      rmSync(this.#d.paths.bundle(record.id), { recursive: true, force: true });
      this.#d.store.remove(record.id);
    } catch (err) {
      transition(record, 'dead', { Error: `removal failed: ${EngineError.from(err).message}` });
      void this.#d.store.saveEventually(record);
      throw err;
    }
    this.#emit('destroy', record);
    this.#d.log.info({ containerId: record.id }, 'container removed');
    const waiters = this.#removeWaiters.get(record.id);
    this.#removeWaiters.delete(record.id);
    for (const w of waiters ?? []) w();
  }

  /** Docker's wait: resolves with the exit code once the condition holds. */
  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const record = this.#d.store.resolve(ref);
    const id = record.id;
    const conditionMet = condition === 'removed'
      ? new Promise<void>((resolve) => {
        let set = this.#removeWaiters.get(id);
        if (!set) this.#removeWaiters.set(id, (set = new Set()));
        set.add(resolve);
      })
      : condition === 'next-exit' || isActive(record.state.Status) ? this.#monitor.nextExit(id) : undefined;
    if (conditionMet) await abortable(conditionMet, signal);
    const latest = this.#d.store.find(id) ?? record;
    return { StatusCode: latest.state.ExitCode, Error: latest.state.Error ? { Message: latest.state.Error } : null };
  }

  // ---- restore and shutdown -------------------------------------------------------------

  /** Reattach to every container the store says is running; record what happened while we were away. */
  restore(): Promise<RestoreCounts> {
    return restoreContainers({ ...this.#d, queue: this.#queue, monitor: this.#monitor, supervisor: this.#supervisor, orphans: this.#orphans });
  }

  /** Containers found running under another data root. */
  orphans(): readonly Orphan[] {
    return this.#orphans.list();
  }

  /** The administrator's way out for an orphan that should not be adopted: stop it and let its shim go. */
  stopOrphan(ref: string): Promise<void> {
    return this.#orphans.stop(ref);
  }

  /**
   * At daemon start, as Docker does: containers with restart policy `always`, or
   * `unless-stopped` and not stopped by the user, that are not running (a reboot, a daemon
   * stop without live restore) are started again.
   */
  async startByRestartPolicy(): Promise<number> {
    const due = this.#d.store.all().filter((r) => {
      const policy = r.hostConfig.RestartPolicy.Name;
      const hasRun = !r.state.StartedAt.startsWith('0001');
      return r.state.Status === 'exited' && hasRun && (policy === 'always' || (policy === 'unless-stopped' && !r.stoppedByUser));
    });
    await Promise.all(due.map((r) => this.start(r.id).then(
      () => this.#queue.run(r.id, async () => {
        const current = this.#d.store.resolve(r.id);
        current.restartCount++;
        if (current.shim) current.shim.restartCountAtLaunch = current.restartCount;
        this.#d.store.save(current);
      }),
      (err: unknown) => this.#d.log.error({ containerId: r.id, err }, 'restart at daemon start failed'),
    )));
    return due.length;
  }

  /** Live restore on: let go of every shim and leave the containers running. */
  detachAll(): void {
    this.#supervisor.detachAll();
  }

  /** Live restore off: stop every running container in parallel (stop signal, its timeout, SIGKILL). */
  async stopAll(): Promise<void> {
    const running = this.#d.store.all().filter((r) => isActive(r.state.Status));
    await Promise.all(running.map((r) => this.#stopRunning(r).catch((err: unknown) => this.#d.log.error({ containerId: r.id, err }, 'stop failed'))));
  }
}

/** Settles with `promise`, or rejects with Canceled when `signal` aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new EngineError('Canceled', 'canceled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new EngineError('Canceled', 'canceled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
