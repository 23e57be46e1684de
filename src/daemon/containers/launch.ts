import { mkdirSync, rmSync } from 'node:fs';
import { EngineError, notFound } from '../../protocol/errors.ts';
import type { ContainerRecord } from './types.ts';
import type { Logger } from '../../lib/logger.ts';
import { PRIVATE_DIR_MODE } from '../../lib/private-paths.ts';
import type { RuntimeInfo } from '../../runtime/oci-runtime.ts';
import type { ImageStore } from '../../images/image-store.ts';
import type { EventBus } from '../events/events.ts';
import type { DaemonPaths } from '../host/paths.ts';
import { RootfsStorage } from '../storage/storage.ts';
import type { ShimSupervisor } from '../shims/supervisor.ts';
import type { ContainerStore } from './container-store.ts';
import { publishContainerEvent } from './container-events.ts';
import { transition, ZERO_TIME } from './lifecycle.ts';
import { writeBundleSpec, writeEtcFiles } from './process-setup.ts';
import { shimConfigFor } from './shim-config.ts';

export interface LaunchDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  images: Pick<ImageStore, 'find' | 'intactLowerDirs'>;
  storage: RootfsStorage;
  runtime: RuntimeInfo;
  cgroupParent: string | undefined;
  supervisor: ShimSupervisor;
  events: EventBus;
  log: Logger;
}

/**
 * Mount the container's root, write its bundle, and have a new shim start it: the record is
 * `running` once the shim says the runtime runs it. A failure is recorded in the record
 * (Error, and the exit code the docker CLI expects) and leaves no mount or bundle behind.
 */
export async function launchContainer(d: LaunchDeps, record: ContainerRecord): Promise<void> {
  const { paths, storage, images, runtime } = d;
  const processes = d.supervisor.processes;
  const image = images.find(record.imageId);
  if (!image) throw notFound(`No such image: ${record.config.Image}`);
  await storageFor(record, storage).mount(await images.intactLowerDirs(image), paths.containerUpper(record.id), paths.containerWork(record.id), paths.containerRootfs(record.id));
  try {
    writeEtcFiles(paths, record);
    await writeBundleSpec(paths, record, image, d.cgroupParent ? `${d.cgroupParent}/${record.id}` : undefined);
    rmSync(paths.containerExit(record.id), { force: true });
    mkdirSync(paths.shimSocketsDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    mkdirSync(runtime.root, { recursive: true, mode: PRIVATE_DIR_MODE });
    const shimConfig = shimConfigFor(paths, record, image, runtime);
    const { shimPid, ready } = await d.supervisor.connector.launch(shimConfig);
    record.shim = {
      shimPid,
      shimStartTime: processes.startTime(shimPid) ?? 0,
      socketPath: shimConfig.socketPath,
      bundle: shimConfig.bundle,
      pidStartTime: ready.state.pidStartTime,
      bootId: processes.bootId(),
      runtime,
      protocolVersion: ready.version,
      restartCountAtLaunch: record.restartCount,
      seenGeneration: ready.state.generation ?? 0,
    };
    transition(record, 'running', {
      Pid: ready.state.pid, ExitCode: 0, Error: '', StartedAt: ready.state.startedAt, FinishedAt: ZERO_TIME, OOMKilled: false,
      Health: ready.state.health, LogDroppedLines: ready.state.logDroppedLines || undefined,
    });
    record.stoppedByUser = false;
    // The container runs now, whether or not its record can be written at once.
    void d.store.saveEventually(record);
    publishContainerEvent(d.events, 'start', record, {}, ready.state.startedAt);
    d.log.info({ containerId: record.id, pid: ready.state.pid, shimPid }, 'container started');
  } catch (err) {
    const message = EngineError.from(err).message;
    transition(record, record.state.Status, { Error: message, ExitCode: exitCodeForStartError(message) });
    void d.store.saveEventually(record);
    rmSync(paths.bundle(record.id), { recursive: true, force: true });
    await storage.unmount(paths.containerRootfs(record.id)).catch(() => undefined);
    throw err;
  }
}

/** A container keeps the storage driver it was created with, whatever the daemon's default is now. */
export function storageFor(record: ContainerRecord, current: RootfsStorage): RootfsStorage {
  return record.storageDriver === current.driver ? current : new RootfsStorage(record.storageDriver);
}

/** What the docker CLI expects: 127 for a missing command, 126 for one that cannot be run. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}
