import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError, conflict, invalidArgument, notFound } from '../../protocol/errors.ts';
import type { ContainerRecord, ExitRecordLike } from './types.ts';
import { isActive } from '../../protocol/records.ts';
import type { ShimConfig } from '../../protocol/shim.ts';
import { normalizeSignal, signalNumber } from '../../protocol/signals.ts';
import type { EventBus } from '../events/events.ts';
import { KeyedQueue } from '../../lib/keyed-queue.ts';
import { NAME_PATTERN, newContainerId, randomName } from '../../lib/ids.ts';
import { bootId, readProcStat } from '../../lib/proc.ts';
import type { Logger } from '../../lib/logger.ts';
import type { RuntimeInfo } from '../../runtime/oci-runtime.ts';
import { parseLogOpts } from '../../protocol/json-file-log.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { ContainerStore } from './container-store.ts';
import type { ImageStore } from '../../images/image-store.ts';
import type { ImageRecord } from '../../protocol/records.ts';
import { RootfsStorage } from '../storage/storage.ts';
import { launchShim, deleteWithShim, type ShimBinary } from '../shims/shim-launcher.ts';
import { ShimClient } from '../shims/shim-client.ts';
import { assertTransition } from './state-machine.ts';
import { parseCreateRequest } from './create-request.ts';
import { resolveCommand, writeBundleSpec, writeEtcFiles } from './process-setup.ts';
import { isProcessAlive, waitForProcessExit } from '../../lib/proc.ts';
import { readJsonIfExists } from '../../lib/atomic-file.ts';
import { Throttle } from '../../lib/throttle.ts';
import type { ExitRecord, HealthcheckSpec, ShimState } from '../../protocol/shim.ts';
import { PRIVATE_DIR_MODE } from '../../lib/private-paths.ts';

export const DEFAULT_STOP_TIMEOUT_S = 10;

export interface ContainerServiceDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  images: ImageStore;
  storage: RootfsStorage;
  runtime: RuntimeInfo;
  shimBinary: ShimBinary;
  /** cgroup parent for containers, or undefined where the runtime cannot use cgroups on this host. */
  cgroupParent: string | undefined;
  log: Logger;
  daemonLogOpts: () => Record<string, string>;
  events: EventBus;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Container lifecycle: create, start, stop, kill, remove, wait, and watching shims for exits. */
export class ContainerService {
  readonly #d: ContainerServiceDeps;
  readonly #queue = new KeyedQueue();
  readonly #shims = new Map<string, ShimClient>();
  readonly #exitWaiters = new Map<string, Set<() => void>>();
  readonly #removeWaiters = new Map<string, Set<() => void>>();
  readonly #dropWarnings = new Throttle(DROP_WARN_INTERVAL_MS);
  #closing = false;
  readonly #orphans: Array<{ id: string; dataRoot: string; message: string; socketPath: string; bundle: string }> = [];

  constructor(deps: ContainerServiceDeps) {
    this.#d = deps;
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
      state: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, OOMKilled: false },
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
    const { paths, storage, images, runtime } = this.#d;
    const image = images.find(record.imageId);
    if (!image) throw notFound(`No such image: ${record.config.Image}`);
    // A container keeps the storage driver it was created with, whatever the daemon's default is now.
    await storageFor(record, storage).mount(await images.intactLowerDirs(image), paths.containerUpper(record.id), paths.containerWork(record.id), paths.containerRootfs(record.id));
    try {
      writeEtcFiles(paths, record);
      await writeBundleSpec(paths, record, image, this.#d.cgroupParent ? `${this.#d.cgroupParent}/${record.id}` : undefined);
      rmSync(paths.containerExit(record.id), { force: true });
      mkdirSync(paths.shimSocketsDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      mkdirSync(runtime.root, { recursive: true, mode: PRIVATE_DIR_MODE });
      const logOpts = parseLogOpts(record.hostConfig.LogConfig.Config);
      const shimConfig: ShimConfig = {
        schemaVersion: 1,
        id: record.id,
        bundle: paths.bundle(record.id),
        runtime,
        socketPath: paths.shimSocket(record.id),
        logPath: paths.containerLog(record.id),
        logMaxSize: logOpts.maxSize,
        logMaxFiles: logOpts.maxFiles,
        exitPath: paths.containerExit(record.id),
        restartPolicy: { name: record.hostConfig.RestartPolicy.Name, maximumRetryCount: record.hostConfig.RestartPolicy.MaximumRetryCount },
        ...healthcheckSpec(mergeHealthcheck(record.config.Healthcheck, image.config.Healthcheck)),
      };
      const { shimPid, ready } = await launchShim(this.#d.shimBinary, shimConfig);
      record.shim = {
        shimPid,
        shimStartTime: readProcStat(shimPid)?.startTime ?? 0,
        socketPath: shimConfig.socketPath,
        bundle: shimConfig.bundle,
        pidStartTime: ready.state.pidStartTime,
        bootId: bootId(),
        runtime,
        protocolVersion: ready.version,
        restartCountAtLaunch: record.restartCount,
        seenGeneration: ready.state.generation ?? 0,
      };
      record.state = { ...record.state, Status: 'running', Pid: ready.state.pid, ExitCode: 0, Error: '', StartedAt: ready.state.startedAt, FinishedAt: ZERO_TIME, OOMKilled: false };
      if (ready.state.health) record.state.Health = ready.state.health;
      else delete record.state.Health;
      if (ready.state.logDroppedLines) record.state.LogDroppedLines = ready.state.logDroppedLines;
      else delete record.state.LogDroppedLines;
      record.stoppedByUser = false;
      // The container runs now, whether or not its record can be written at once.
      void this.#d.store.saveEventually(record);
      this.#emit('start', record, {}, ready.state.startedAt);
      this.#d.log.info({ containerId: record.id, pid: ready.state.pid, shimPid }, 'container started');
    } catch (err) {
      const message = EngineError.from(err).message;
      record.state = { ...record.state, Error: message, ExitCode: exitCodeForStartError(message) };
      void this.#d.store.saveEventually(record);
      rmSync(paths.bundle(record.id), { recursive: true, force: true });
      await storage.unmount(paths.containerRootfs(record.id)).catch(() => undefined);
      // As dockerd: an --rm container that cannot start is removed, so `docker run --rm` waiting for the removal returns.
      if (record.hostConfig.AutoRemove) await this.#removeRecord(record).catch((e: unknown) => this.#d.log.warn({ containerId: record.id, err: e }, 'cannot remove a container that failed to start'));
      throw err;
    }
    await this.#watch(record);
  }

  /** Connect to the container's shim and follow it in the background until the container's final exit. */
  async #watch(record: ContainerRecord): Promise<void> {
    const shim = record.shim!;
    const client = await ShimClient.connect(shim.socketPath);
    this.#shims.set(record.id, client);
    const follow = supportsWatch(shim.protocolVersion) ? this.#followChanges(record.id, client) : client.wait();
    follow.then(
      (exit) => this.#queue.run(record.id, () => this.#onExit(record.id, exit, client)),
      () => {
        if (this.#closing) return;
        void this.#queue.run(record.id, () => this.#onShimLost(record.id));
      },
    ).catch((err: unknown) => this.#d.log.error({ containerId: record.id, err }, 'handling container exit failed'));
  }

  /** Protocol 1.2: take in every restart the shim does, until it reports the final exit. */
  async #followChanges(id: string, client: ShimClient): Promise<ExitRecord> {
    for (;;) {
      const seen = this.#d.store.find(id)?.shim?.seenGeneration ?? 0;
      const state = await client.watch(seen);
      await this.#queue.run(id, async () => this.#applyShimState(id, state));
      if (state.exit) return state.exit;
    }
  }

  /**
   * Bring the record up to date with what the shim did on its own (restarts under the
   * restart policy, maybe while the daemon was down): events dated when things happened,
   * the current PID and StartedAt, RestartCount.
   */
  #applyShimState(id: string, state: ShimState): void {
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
      record.state = { ...record.state, Status: 'running', Pid: state.pid, StartedAt: state.startedAt, Error: '' };
      record.shim.pidStartTime = state.pidStartTime;
    } else if (state.status === 'restarting' && last) {
      record.state = { ...record.state, Status: 'restarting', Pid: 0, ExitCode: last.exitCode, FinishedAt: last.finishedAt };
    }
    if (state.health) {
      if (state.health.Status !== record.state.Health?.Status) this.#emit(`health_status: ${state.health.Status}`, record, {}, state.health.Log.at(-1)?.End);
      record.state = { ...record.state, Health: state.health };
    }
    if ((state.logDroppedLines ?? 0) > (record.state.LogDroppedLines ?? 0)) {
      record.state = { ...record.state, LogDroppedLines: state.logDroppedLines };
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
  async #onExit(id: string, exit: ExitRecordLike, client?: ShimClient): Promise<void> {
    const record = this.#d.store.find(id);
    if (!record || !isActive(record.state.Status)) return;
    record.state = {
      ...record.state,
      Status: 'exited',
      Pid: 0,
      ExitCode: exit.exitCode,
      FinishedAt: exit.finishedAt,
      OOMKilled: exit.oomKilled ?? false,
      Error: exit.error ?? '',
    };
    const shim = record.shim;
    delete record.shim;
    this.#dropWarnings.reset(id);
    const { written, persisted } = this.#d.store.saveEventually(record);
    this.#emit('die', record, { exitCode: String(exit.exitCode) }, exit.finishedAt);
    this.#d.log.info({ containerId: id, exitCode: exit.exitCode }, 'container exited');
    await this.#d.storage.unmount(this.#d.paths.containerRootfs(id)).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cannot unmount rootfs'));
    this.#shims.delete(id);
    // Until the exit is on disk (a full disk can delay it), the shim is what remembers it
    // for a daemon that restarts meanwhile: it is let go only after the record is written.
    const release = async () => {
      if (client) {
        await client.shutdown().catch(() => undefined);
        client.close();
      }
      // A shim that did not take the acknowledgement (broken, or never reached) must not linger.
      if (shim && shim.bootId === bootId() && !(await waitForProcessExit(shim.shimPid, shim.shimStartTime, client ? 1000 : 0))) {
        try { process.kill(shim.shimPid, 'SIGKILL'); } catch { /* gone */ }
      }
      if (shim) rmSync(shim.socketPath, { force: true });
    };
    if (written) await release();
    else void persisted.then(release).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cannot let the shim go'));
    rmSync(this.#d.paths.bundle(id), { recursive: true, force: true });
    this.#notifyExit(id);
    if (record.hostConfig.AutoRemove) await this.#removeRecord(record);
  }

  /** The shim went away without reporting an exit: use its exit record if it wrote one, else clean up. */
  async #onShimLost(id: string, unreachable = false): Promise<void> {
    const record = this.#d.store.find(id);
    if (!record || !isActive(record.state.Status) || !record.shim) return;
    const shim = record.shim;
    this.#shims.delete(id);
    if (!unreachable && isProcessAlive(shim.shimPid, shim.shimStartTime)) {
      // Still alive: the connection broke, not the shim. Reconnect.
      await this.#watch(record).catch(() => setTimeout(() => void this.#queue.run(id, () => this.#onShimLost(id)), 500));
      return;
    }
    const exit = this.#readExitRecord(record);
    if (exit) return this.#onExit(id, exit);
    const why = unreachable ? `shim process (pid ${shim.shimPid}) did not answer; the container was stopped` : `shim process (pid ${shim.shimPid}) died unexpectedly; the container was stopped`;
    await this.#cleanupLost(record, why);
  }

  #readExitRecord(record: ContainerRecord): ExitRecord | undefined {
    try {
      const exit = readJsonIfExists<ExitRecord>(this.#d.paths.containerExit(record.id));
      return exit && exit.finishedAt >= record.state.StartedAt ? exit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kill whatever is left of a container whose shim is gone, and record it as exited 255 with why. */
  async #cleanupLost(record: ContainerRecord, why: string): Promise<void> {
    const shim = record.shim;
    if (shim && shim.bootId === bootId()) {
      await deleteWithShim(this.#d.shimBinary, join(shim.bundle, 'shim.json')).catch((err: unknown) => this.#d.log.warn({ containerId: record.id, err }, 'cleanup through berth-shim delete failed'));
      if (isProcessAlive(record.state.Pid, shim.pidStartTime)) {
        try { process.kill(record.state.Pid, 'SIGKILL'); } catch { /* already gone */ }
        await waitForProcessExit(record.state.Pid, shim.pidStartTime, 5000);
      }
    }
    this.#d.log.warn({ containerId: record.id }, why);
    await this.#onExit(record.id, { exitCode: 255, finishedAt: new Date().toISOString(), oomKilled: false, error: why });
  }

  #notifyExit(id: string): void {
    const waiters = this.#exitWaiters.get(id);
    this.#exitWaiters.delete(id);
    for (const w of waiters ?? []) w();
  }

  #nextExit(id: string): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#exitWaiters.get(id);
      if (!set) this.#exitWaiters.set(id, (set = new Set()));
      set.add(resolve);
    });
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
    if (!this.#shims.has(record.id)) {
      // Not connected (a shim too slow to answer, say): reconnect, or treat it as lost so
      // that a stop or rm -f ends instead of waiting for an exit nobody will report.
      await this.#watch(record).catch(() => this.#queue.run(record.id, () => this.#onShimLost(record.id, true)));
      if (!this.#shims.has(record.id)) return;
    }
    const client = this.#client(record);
    await client.kill(signal, stop);
    // A frozen process only acts on a signal once thawed.
    if (record.state.Status === 'paused') await this.#setPaused(record, false);
  }

  #client(record: ContainerRecord): ShimClient {
    const client = this.#shims.get(record.id);
    if (!client) throw new EngineError('Unavailable', `container ${record.id.slice(0, 12)}: its shim is not connected`);
    return client;
  }

  #emit(action: string, record: ContainerRecord, extra: Record<string, string> = {}, at?: string): void {
    this.#d.events.publish('container', action, record.id, { ...record.config.Labels, image: record.config.Image, name: record.name, ...extra }, at);
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
    const client = this.#client(record);
    if (paused) await client.pause();
    else await client.resume();
    assertTransition(record.id, record.state.Status, paused ? 'paused' : 'running');
    record.state = { ...record.state, Status: paused ? 'paused' : 'running' };
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
    return this.#nextExit(id);
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
    const exited = this.#nextExit(record.id);
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

  async #removeRecord(record: ContainerRecord): Promise<void> {
    if (!this.#d.store.find(record.id)) return;
    await this.#d.storage.unmount(this.#d.paths.containerRootfs(record.id));
    rmSync(this.#d.paths.bundle(record.id), { recursive: true, force: true });
    this.#d.store.remove(record.id);
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
      : condition === 'next-exit' || isActive(record.state.Status) ? this.#nextExit(id) : undefined;
    if (conditionMet) await abortable(conditionMet, signal);
    const latest = this.#d.store.find(id) ?? record;
    return { StatusCode: latest.state.ExitCode, Error: latest.state.Error ? { Message: latest.state.Error } : null };
  }

  // ---- restore and shutdown -------------------------------------------------------------

  /** Reattach to every container the store says is running; record what happened while we were away. */
  async restore(): Promise<{ alive: number; exited: number; lost: number; stray: number }> {
    const counts = { alive: 0, exited: 0, lost: 0, stray: 0 };
    counts.stray = await this.#reapStrayBundles();
    await this.#unmountInactive();
    const pending = this.#d.store.all().filter((r) => isActive(r.state.Status));
    // A bounded number at a time, so the event loop stays free for /_ping while hundreds are restored.
    const worker = async () => {
      for (let record = pending.shift(); record; record = pending.shift()) {
        const current = record;
        await this.#queue.run(current.id, async () => {
          const outcome = await this.#restoreOne(current).catch(async (err: unknown) => {
            this.#d.log.error({ containerId: current.id, err }, 'restore failed');
            return 'lost' as const;
          });
          counts[outcome]++;
        });
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: RESTORE_CONCURRENCY }, worker));
    return counts;
  }

  /**
   * A bundle whose container the store does not call running belongs to a start that the
   * daemon did not live to record (or to a removed container): stop what it runs and let
   * its shim go, so no process is left that no record points to. A bundle of another
   * data root (the daemon was started with a different --data-root) is never touched: it
   * is reported as an orphan instead.
   */
  async #reapStrayBundles(): Promise<number> {
    const { paths } = this.#d;
    if (!existsSync(paths.bundlesDir)) return 0;
    let reaped = 0;
    for (const id of readdirSync(paths.bundlesDir)) {
      const owner = this.#d.store.find(id);
      if (id.startsWith('.') || (owner && isActive(owner.state.Status))) continue;
      const configPath = join(paths.bundle(id), 'shim.json');
      const config = readJsonIfExists<ShimConfig>(configPath);
      if (config && !config.logPath.startsWith(paths.containersDir + '/')) {
        this.#reportOrphan(id, config);
        continue;
      }
      if (config) {
        await this.#endUnrecorded(id, config.socketPath, configPath);
        this.#d.log.warn({ containerId: id }, 'stopped a container whose start the daemon never recorded');
        reaped++;
      }
      rmSync(paths.bundle(id), { recursive: true, force: true });
    }
    return reaped;
  }

  /**
   * End a container that no record of this daemon tracks (a stray bundle, an orphan): through
   * its shim when it answers (SIGKILL, wait for the exit, acknowledge), else through
   * `berth-shim delete`. Bounded, so a stuck shim never stalls the daemon's start.
   */
  async #endUnrecorded(id: string, socketPath: string, configPath: string): Promise<void> {
    try {
      const client = await ShimClient.connect(socketPath, 2000);
      try {
        const hello = await client.hello();
        if (!hello.state.exit) await client.kill('SIGKILL', true).catch(() => undefined);
        await Promise.race([client.wait(), sleep(15_000).then(() => { throw new EngineError('DeadlineExceeded', 'the shim did not report the exit'); })]);
        await client.shutdown().catch(() => undefined);
      } finally {
        client.close();
      }
    } catch {
      await deleteWithShim(this.#d.shimBinary, configPath).catch((err: unknown) => this.#d.log.warn({ containerId: id, err }, 'cleanup through berth-shim delete failed'));
      killShimOfBundle(dirname(configPath));
    }
  }

  /** A rootfs can stay mounted when the daemon died between mounting it and recording the start. */
  async #unmountInactive(): Promise<void> {
    const mounted = new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]));
    for (const record of this.#d.store.all()) {
      const rootfs = this.#d.paths.containerRootfs(record.id);
      if (isActive(record.state.Status) || !mounted.has(rootfs)) continue;
      await this.#d.storage.unmount(rootfs).catch((err: unknown) => this.#d.log.warn({ containerId: record.id, err }, 'cannot unmount rootfs'));
    }
  }

  #reportOrphan(id: string, config: ShimConfig): void {
    const otherRoot = config.logPath.replace(/\/containers\/[^/]+\/[^/]+$/, '');
    const message = `container ${id.slice(0, 12)} is run by a shim of data root ${otherRoot}, not ${this.#d.paths.dataRoot}: it was left running and is not managed here; start berthd with --data-root ${otherRoot} to manage it again`;
    this.#orphans.push({ id, dataRoot: otherRoot, message, socketPath: config.socketPath, bundle: this.#d.paths.bundle(id) });
    this.#d.log.warn({ containerId: id, dataRoot: otherRoot }, message);
    this.#d.events.publish('daemon', 'orphan', id, { dataRoot: otherRoot });
  }

  /** Containers found running under another data root (see #reportOrphan). */
  orphans(): ReadonlyArray<{ id: string; dataRoot: string; message: string }> {
    return this.#orphans.map(({ id, dataRoot, message }) => ({ id, dataRoot, message }));
  }

  /** The administrator's way out for an orphan that should not be adopted: stop it and let its shim go. */
  async stopOrphan(ref: string): Promise<void> {
    const orphan = this.#orphans.find((o) => o.id === ref || o.id.startsWith(ref));
    if (!orphan) throw notFound(`No such orphan: ${ref}`);
    await this.#endUnrecorded(orphan.id, orphan.socketPath, join(orphan.bundle, 'shim.json'));
    rmSync(orphan.bundle, { recursive: true, force: true });
    this.#orphans.splice(this.#orphans.indexOf(orphan), 1);
    this.#d.log.info({ containerId: orphan.id, dataRoot: orphan.dataRoot }, 'orphan stopped by the administrator');
    this.#d.events.publish('daemon', 'orphan-stop', orphan.id, { dataRoot: orphan.dataRoot });
  }

  async #restoreOne(record: ContainerRecord): Promise<'alive' | 'exited' | 'lost'> {
    const shim = record.shim;
    if (!shim) {
      await this.#onExit(record.id, { exitCode: 255, finishedAt: new Date().toISOString(), oomKilled: false, error: 'no shim was recorded for this container' });
      return 'lost';
    }
    if (shim.bootId !== bootId()) {
      await this.#onExit(record.id, { exitCode: 255, finishedAt: record.state.StartedAt, oomKilled: false, error: 'the host rebooted while the container was running' });
      return 'lost';
    }
    if (isProcessAlive(shim.shimPid, shim.shimStartTime)) {
      try {
        const client = await connectWithRetries(shim.socketPath);
        const hello = await client.hello(5000);
        if (supportsWatch(hello.version)) this.#applyShimState(record.id, hello.state);
        if (hello.state.exit) {
          await this.#onExit(record.id, hello.state.exit, client);
          return 'exited';
        }
        if (hello.state.pid !== record.state.Pid) {
          this.#d.log.warn({ containerId: record.id, recorded: record.state.Pid, shim: hello.state.pid }, 'shim reports another PID than recorded');
        }
        client.close();
        await this.#watch(record);
        return 'alive';
      } catch (err) {
        this.#d.log.warn({ containerId: record.id, err }, 'shim is alive but does not answer; treating it as lost');
      }
    }
    const exit = this.#readExitRecord(record);
    if (exit) {
      await this.#onExit(record.id, exit);
      return 'exited';
    }
    await this.#cleanupLost(record, `shim process (pid ${shim.shimPid}) was gone when the daemon started; the container was stopped`);
    return 'lost';
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
    this.#closing = true;
    for (const client of this.#shims.values()) client.close();
    this.#shims.clear();
  }

  /** Live restore off: stop every running container in parallel (stop signal, its timeout, SIGKILL). */
  async stopAll(): Promise<void> {
    const running = this.#d.store.all().filter((r) => isActive(r.state.Status));
    await Promise.all(running.map((r) => this.#stopRunning(r).catch((err: unknown) => this.#d.log.error({ containerId: r.id, err }, 'stop failed'))));
  }
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

const DROP_WARN_INTERVAL_MS = 60_000;

/** Containers reattached at once during restore. */
const RESTORE_CONCURRENCY = 16;

const NS_PER_MS = 1_000_000;

function storageFor(record: ContainerRecord, current: RootfsStorage): RootfsStorage {
  return record.storageDriver === current.driver ? current : new RootfsStorage(record.storageDriver);
}

type HealthConfig = ContainerRecord['config']['Healthcheck'];

/**
 * What Docker copies from the image into the container's config at create time: labels
 * (the container's win), the stop signal, exposed ports and volumes. Env, Cmd, Entrypoint,
 * WorkingDir, User and Healthcheck are resolved when the process is set up.
 */
function withImageDefaults(config: ContainerRecord['config'], image: ImageRecord['config']): ContainerRecord['config'] {
  return {
    ...config,
    Labels: { ...image.Labels, ...config.Labels },
    ...(config.StopSignal || image.StopSignal ? { StopSignal: config.StopSignal || image.StopSignal } : {}),
    ...(config.ExposedPorts || image.ExposedPorts ? { ExposedPorts: { ...image.ExposedPorts, ...config.ExposedPorts } } : {}),
    ...(config.Volumes || image.Volumes ? { Volumes: { ...image.Volumes, ...config.Volumes } } : {}),
  };
}

/** The container's --health-* settings over the image's HEALTHCHECK: an empty test inherits the image's. */
function mergeHealthcheck(container: HealthConfig, image: HealthConfig): HealthConfig {
  if (!container) return image;
  if (!image || container.Test.length > 0 && container.Test[0] === 'NONE') return container;
  return {
    ...image,
    ...Object.fromEntries(Object.entries(container).filter(([, v]) => v !== undefined && v !== 0 && !(Array.isArray(v) && v.length === 0))),
  } as HealthConfig;
}

/** Docker's HEALTHCHECK with its defaults (30 s interval and timeout, 3 retries); NONE or no test → none. */
function healthcheckSpec(config: ContainerRecord['config']['Healthcheck']): { healthcheck?: HealthcheckSpec } {
  if (!config || config.Test.length === 0 || config.Test[0] === 'NONE') return {};
  const ms = (ns: number | undefined, fallback: number) => (ns ? Math.round(ns / NS_PER_MS) : fallback);
  return {
    healthcheck: {
      test: config.Test,
      intervalMs: ms(config.Interval, 30_000),
      timeoutMs: ms(config.Timeout, 30_000),
      startPeriodMs: ms(config.StartPeriod, 0),
      retries: config.Retries || 3,
    },
  };
}

/** A shim that does not answer must not linger: its pid file names it, its command line proves it. */
function killShimOfBundle(bundle: string): void {
  const pid = Number.parseInt(readTextIfExists(join(bundle, 'shim.pid')) ?? '', 10);
  if (!pid || !isProcessAlive(pid)) return;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(bundle)) process.kill(pid, 'SIGKILL');
  } catch { /* gone */ }
}

function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A busy host can make a live shim slow to accept: try a few times before calling it lost. */
async function connectWithRetries(socketPath: string, attempts = 3): Promise<ShimClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ShimClient.connect(socketPath, 2000);
    } catch (err) {
      if (attempt >= attempts || (EngineError.is(err) && /ENOENT/.test(err.message))) throw err;
      await sleep(200 * attempt);
    }
  }
}

/** `watch` (and shim-applied restart policies) came with protocol 1.2. */
function supportsWatch(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 2);
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

/** What the docker CLI expects: 127 for a missing command, 126 for one that cannot be run. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}
