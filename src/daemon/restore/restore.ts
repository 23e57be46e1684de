import { isActive, type ContainerRecord } from '../../protocol/records.ts';
import type { KeyedQueue } from '../../lib/keyed-queue.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { ContainerStore } from '../containers/container-store.ts';
import type { ContainerMonitor } from '../containers/monitor.ts';
import { mountPoints, type RootfsStorage } from '../storage/storage.ts';
import { connectWithRetries, supportsWatch, type ShimConnection } from '../shims/connector.ts';
import type { ShimSupervisor } from '../shims/supervisor.ts';
import { classify, type RestoreFacts } from './classify.ts';
import type { Orphans } from './orphans.ts';

export interface RestoreDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  storage: Pick<RootfsStorage, 'unmount'>;
  log: Logger;
  queue: KeyedQueue;
  monitor: ContainerMonitor;
  supervisor: ShimSupervisor;
  orphans: Orphans;
}

export interface RestoreCounts { alive: number; exited: number; lost: number; stray: number }

/** Containers reattached at once during restore. */
const RESTORE_CONCURRENCY = 16;

/** Reattach to every container the store says is running; record what happened while the daemon was away. */
export async function restoreContainers(d: RestoreDeps): Promise<RestoreCounts> {
  const counts = { alive: 0, exited: 0, lost: 0, stray: 0 };
  counts.stray = await d.orphans.reapStrayBundles();
  await unmountInactive(d);
  const pending = d.store.all().filter((r) => isActive(r.state.Status));
  // A bounded number at a time, so the event loop stays free for /_ping while hundreds are restored.
  const worker = async () => {
    for (let record = pending.shift(); record; record = pending.shift()) {
      const current = record;
      await d.queue.run(current.id, async () => {
        const outcome = await restoreOne(d, current).catch(async (err: unknown) => {
          d.log.error({ containerId: current.id, err }, 'restore failed');
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

/** Ask the shim (when it runs on this boot and lives), else read its exit record. */
async function observe(d: RestoreDeps, record: ContainerRecord): Promise<{ facts: RestoreFacts; connection?: ShimConnection }> {
  const processes = d.supervisor.processes;
  const facts: RestoreFacts = { bootId: processes.bootId(), now: new Date().toISOString() };
  const shim = record.shim;
  if (!shim || shim.bootId !== facts.bootId) return { facts };
  if (processes.alive(shim.shimPid, shim.shimStartTime)) {
    let connection: ShimConnection | undefined;
    try {
      connection = await connectWithRetries(d.supervisor.connector, shim.socketPath);
      return { facts: { ...facts, hello: await connection.hello(5000) }, connection };
    } catch (err) {
      connection?.close();
      d.log.warn({ containerId: record.id, err }, 'shim is alive but does not answer; treating it as lost');
    }
  }
  const exitOnDisk = d.monitor.readExitRecord(record);
  return { facts: exitOnDisk ? { ...facts, exitOnDisk } : facts };
}

async function restoreOne(d: RestoreDeps, record: ContainerRecord): Promise<'alive' | 'exited' | 'lost'> {
  const { facts, connection } = await observe(d, record);
  // What the shim did on its own while the daemon was away (restarts, health) is taken in first.
  if (facts.hello && supportsWatch(facts.hello.version)) d.monitor.applyShimState(record.id, facts.hello.state);
  const decision = classify(record, facts);
  switch (decision.kind) {
    case 'reattach':
      if (facts.hello!.state.pid !== record.state.Pid) {
        d.log.warn({ containerId: record.id, recorded: record.state.Pid, shim: facts.hello!.state.pid }, 'shim reports another PID than recorded');
      }
      connection?.close();
      await d.monitor.watch(record);
      return 'alive';
    case 'exited':
      await d.monitor.recordExit(record.id, decision.exit, connection);
      return 'exited';
    case 'rebooted':
      await d.monitor.recordExit(record.id, decision.exit);
      return 'lost';
    case 'lost':
      if (decision.shimRecorded) await d.monitor.cleanupLost(record, decision.why);
      else await d.monitor.recordExit(record.id, { exitCode: 255, finishedAt: facts.now, oomKilled: false, error: decision.why });
      return 'lost';
  }
}

/** A rootfs can stay mounted when the daemon died between mounting it and recording the start. */
async function unmountInactive(d: RestoreDeps): Promise<void> {
  const mounted = mountPoints();
  for (const record of d.store.all()) {
    const rootfs = d.paths.containerRootfs(record.id);
    if (isActive(record.state.Status) || !mounted.has(rootfs)) continue;
    await d.storage.unmount(rootfs).catch((err: unknown) => d.log.warn({ containerId: record.id, err }, 'cannot unmount rootfs'));
  }
}
