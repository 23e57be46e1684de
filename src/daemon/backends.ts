import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, invalidArgument } from '../protocol/errors.ts';
import { parseFilters, validateFilterKeys, type Filters } from '../protocol/filters.ts';
import { containerTop } from './containers/top.ts';
import { archiveFromRootfs, encodePathStat, extractIntoRootfs, statInRootfs } from './archive/archive.ts';
import { CONTAINER_FILTERS, matchContainer, validateContainerFilters } from './containers/container-filters.ts';
import { dirSize } from '../lib/dir-size.ts';
import { readCgroupSample, dockerStatsJson, type CgroupSample } from './stats/cgroup-stats.ts';
import { containerInspect, containerSummary } from '../api/views.ts';
import type { ContainersBackend, LogLine, LogsOptions } from '../api/routes/containers.ts';
import { isActive, type ContainerRecord } from '../protocol/records.ts';
import { parseLogOpts } from '../shim/json-log-writer.ts';
import { readLogs, parseDockerTimestamp } from './logs/json-log-reader.ts';
import type { ContainerService } from './containers/container-service.ts';
import type { ImageStore } from '../images/image-store.ts';
import type { DaemonPaths } from './host/paths.ts';

/** Adapts the daemon's services to the narrow interfaces the API routes declare. */
export function containersBackend(service: ContainerService, images: ImageStore, paths: DaemonPaths): ContainersBackend {
  const store = service.store;
  const imageRef = (r: ContainerRecord) => r.config.Image;
  return {
    create: (body, name) => service.create(body, name),
    start: (ref) => service.start(ref),
    stop: (ref, t, s) => service.stop(ref, t, s),
    kill: (ref, s) => service.kill(ref, s),
    restart: (ref, t) => service.restart(ref, t),
    remove: (ref, o) => service.remove(ref, o),
    wait: (ref, c, s) => service.wait(ref, c, s),
    inspect: (ref) => {
      const r = store.resolve(ref);
      return containerInspect(r, {
        logPath: paths.containerLog(r.id),
        hostsPath: paths.containerEtc(r.id, 'hosts'),
        hostnamePath: paths.containerEtc(r.id, 'hostname'),
        resolvConfPath: paths.containerEtc(r.id, 'resolv.conf'),
        rootfs: paths.containerRootfs(r.id),
      }, imageRef(r));
    },
    list: ({ all, limit, size, filters: rawFilters }) => {
      const filters = parseFilters(rawFilters);
      validateFilterKeys(filters, CONTAINER_FILTERS);
      validateContainerFilters(filters);
      const byAge = store.all().sort((a, b) => a.created.localeCompare(b.created));
      const order = new Map(byAge.map((r, i) => [r.id, i]));
      const ctx = {
        imageIdsForRef: (ref: string) => {
          const image = images.find(ref);
          return image ? [image.id] : [];
        },
        createdOrder: (ref: string) => {
          const r = store.find(ref);
          return r ? order.get(r.id) : undefined;
        },
      };
      let records = byAge.reverse().filter((r) => matchContainer(r, filters, ctx));
      const limited = limit !== undefined && limit > 0;
      // A status filter shows stopped containers without --all, as in dockerd.
      if (!all && !limited && !filters.has('status')) records = records.filter((r) => isActive(r.state.Status));
      if (limited) records = records.slice(0, limit);
      if (!size) return records.map((r) => containerSummary(r, imageRef(r)));
      return Promise.all(records.map(async (r) => {
        const sizeRw = await dirSize(r.storageDriver === 'copy' ? paths.containerRootfs(r.id) : paths.containerUpper(r.id));
        return { ...containerSummary(r, imageRef(r)), SizeRw: sizeRw, SizeRootFs: sizeRw + (images.find(r.imageId)?.size ?? 0) };
      }));
    },
    logs: (ref, options) => containerLogs(service, paths, store.resolve(ref).id, options),
    attach: (ref, { logs, signal }) => {
      const record = store.resolve(ref);
      // A stopped container may be attached to: `start -a` attaches first, then starts it (as with dockerd).
      if (record.state.Status === 'removing' || record.state.Status === 'dead') throw conflict(`You cannot attach to a container that is ${record.state.Status === 'dead' ? 'dead' : 'being removed'}`);
      let exited = false;
      void service.nextExit(record.id).then(() => (exited = true));
      service.emitAttach(record.id);
      return followOutput(paths, record, logs, () => !exited, signal);
    },
    pause: (ref) => service.pause(ref),
    unpause: (ref) => service.unpause(ref),
    rename: (ref, name) => service.rename(ref, name),
    top: async (ref, psArgs) => {
      const record = store.resolve(ref);
      if (!isActive(record.state.Status)) throw conflict(`Container ${record.id} is not running`);
      return containerTop(record.state.Pid, psArgs);
    },
    stats: (ref, options) => containerStats(service, store.resolve(ref).id, options),
    archive: (ref, path, needStat, body) =>
      service.withRootfs(ref, (rootfs) => body(needStat ? encodePathStat(statInRootfs(rootfs, path)) : undefined, rootfs)),
    getArchive: (rootfs, path) => archiveFromRootfs(rootfs, path),
    putArchive: (rootfs, path, tar, noOverwriteDirNonDir) => extractIntoRootfs(rootfs, path, tar, { noOverwriteDirNonDir }),
    prune: async (rawFilters) => {
      const filters = parseFilters(rawFilters);
      validateFilterKeys(filters, ['until', 'label', 'label!']);
      const deleted: string[] = [];
      for (const record of store.all()) {
        if (isActive(record.state.Status) || record.state.Status === 'removing') continue;
        if (!matchesPruneFilters(record, filters)) continue;
        await service.remove(record.id).then(() => deleted.push(record.id), () => undefined);
      }
      return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
    },
  };
}

function matchesPruneFilters(record: ContainerRecord, filters: Filters): boolean {
  const until = filters.get('until');
  if (until?.length && !until.some((u) => Date.parse(record.created) < Number(parseDockerTimestamp(u) / 1_000_000n))) return false;
  const hasLabel = (spec: string) => {
    const eq = spec.indexOf('=');
    return eq < 0 ? spec in record.config.Labels : record.config.Labels[spec.slice(0, eq)] === spec.slice(eq + 1);
  };
  if (filters.get('label')?.some((l) => !hasLabel(l))) return false;
  if (filters.get('label!')?.some(hasLabel)) return false;
  return true;
}

/** The container's output as it is written (from the start of its log with `fromStart`). */
async function* followOutput(paths: DaemonPaths, record: ContainerRecord, fromStart: boolean, isRunning: () => boolean, signal: AbortSignal): AsyncGenerator<LogLine> {
  const { maxFiles } = parseLogOpts(record.hostConfig.LogConfig.Config);
  for await (const entry of readLogs({ path: paths.containerLog(record.id), maxFiles, follow: true, isRunning, signal, pollMs: 50, ...(fromStart ? {} : { tail: 0 }) })) {
    yield { stream: entry.stream, time: entry.time, log: entry.log };
  }
}

/** One sample (stream=0) or one per second until the client goes away or the container stops. */
async function* containerStats(service: ContainerService, id: string, options: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncGenerator<Record<string, unknown>> {
  let previous: { sample: CgroupSample; at: Date } | undefined;
  const sample = () => {
    const record = service.store.resolve(id);
    const meta = { id: record.id, name: `/${record.name}`, readAt: new Date(), ...(previous ? { prereadAt: previous.at } : {}) };
    if (!isActive(record.state.Status)) return { sample: undefined, json: emptyStats(meta) };
    const current = readCgroupSample({ containerId: record.id });
    const json = dockerStatsJson(current, previous?.sample, meta);
    previous = { sample: current, at: meta.readAt };
    return { sample: current, json };
  };
  let first = sample();
  if (!options.stream && !options.oneShot && first.sample) {
    // Like dockerd, a single sample carries a previous one taken a moment earlier, so CPU % means something.
    await sleep(500, undefined, { signal: options.signal }).catch(() => undefined);
    first = sample();
  }
  yield first.json;
  while (options.stream && !options.signal.aborted) {
    try {
      await sleep(1000, undefined, { signal: options.signal });
    } catch {
      return;
    }
    const next = sample();
    yield next.json;
    if (!next.sample) return;
  }
}

function emptyStats(meta: { id: string; name: string; readAt: Date }): Record<string, unknown> {
  return { read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', id: meta.id, name: meta.name, pids_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, memory_stats: {}, blkio_stats: {}, networks: {}, num_procs: 0, storage_stats: {} };
}

async function* containerLogs(service: ContainerService, paths: DaemonPaths, id: string, options: LogsOptions): AsyncGenerator<LogLine> {
  const record = service.store.resolve(id);
  const { maxFiles } = parseLogOpts(record.hostConfig.LogConfig.Config);
  const toNanos = (value: string | undefined) => {
    if (value === undefined || value === '0') return undefined;
    try {
      return parseDockerTimestamp(value);
    } catch {
      throw invalidArgument(`invalid value for since/until: ${value}`);
    }
  };
  const sinceNanos = toNanos(options.since);
  const untilNanos = toNanos(options.until);
  for await (const entry of readLogs({
    path: paths.containerLog(id),
    maxFiles,
    ...(options.tail !== undefined ? { tail: options.tail } : {}),
    ...(sinceNanos !== undefined ? { sinceNanos } : {}),
    ...(untilNanos !== undefined ? { untilNanos } : {}),
    follow: options.follow && untilNanos === undefined,
    isRunning: () => { const r = service.store.find(id); return r !== undefined && isActive(r.state.Status); },
    signal: options.signal,
  })) {
    yield { stream: entry.stream, time: entry.time, log: entry.log };
  }
}
