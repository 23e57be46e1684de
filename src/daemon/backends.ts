import { hostname as osHostname, cpus, totalmem, release } from 'node:os';
import { parseFilters } from '../protocol/filters.ts';
import { topContainer } from './containers/top.ts';
import { getArchive, putArchive, withContainerPath } from './archive/container-archive.ts';
import { inspectContainer } from './containers/container-inspect.ts';
import { listContainers } from './containers/container-list.ts';
import { attachContainer } from './containers/container-attach.ts';
import { pruneContainers } from './containers/container-prune.ts';
import { containerStats } from './stats/stats-service.ts';
import { containerLogs } from './logs/logs-service.ts';
import { dirSize } from '../lib/dir-size.ts';
import type { ExecBackend } from '../api/routes/exec.ts';
import type { EventsBackend } from '../api/routes/events.ts';
import type { ExecService } from './containers/exec-service.ts';
import type { EventBus } from './events/events.ts';
import { eventMatcher } from './events/event-filters.ts';
import { containerSummary, imageSummary } from '../api/views.ts';
import type { ContainersBackend } from '../api/routes/containers.ts';
import type { SystemBackend } from '../api/routes/system.ts';
import type { ContainerService } from './containers/container-service.ts';
import type { ImageStore } from '../images/image-store.ts';
import type { DaemonPaths } from './host/paths.ts';
import type { DaemonConfig } from './config.ts';
import type { RuntimeChoice } from './host/host-runtime.ts';

export const BERTH_VERSION = '0.1.0';

/** Adapts the daemon's services to the narrow interfaces the API routes declare. */
export function containersBackend(service: ContainerService, images: ImageStore, paths: DaemonPaths): ContainersBackend {
  return {
    create: (body, name) => service.create(body, name),
    start: (ref) => service.start(ref),
    stop: (ref, t, s) => service.stop(ref, t, s),
    kill: (ref, s) => service.kill(ref, s),
    restart: (ref, t) => service.restart(ref, t),
    remove: (ref, o) => service.remove(ref, o),
    wait: (ref, c, s) => service.wait(ref, c, s),
    inspect: (ref) => inspectContainer(service, paths, ref),
    list: (options) => listContainers({ store: service.store, images, paths }, options),
    logs: (ref, options) => containerLogs(service, paths, ref, options),
    attach: (ref, options) => attachContainer(service, paths, ref, options),
    pause: (ref) => service.pause(ref),
    unpause: (ref) => service.unpause(ref),
    rename: (ref, name) => service.rename(ref, name),
    top: (ref, psArgs) => topContainer(service, ref, psArgs),
    stats: (ref, options) => containerStats(service, ref, options),
    archive: (ref, path, needStat, body) => withContainerPath(service, ref, path, needStat, body),
    getArchive: (rootfs, path) => getArchive(rootfs, path),
    putArchive: (rootfs, path, tar, noOverwriteDirNonDir) => putArchive(rootfs, path, tar, noOverwriteDirNonDir),
    prune: (filters) => pruneContainers(service, filters),
  };
}

export interface InfoSources {
  paths: DaemonPaths;
  config: () => DaemonConfig;
  service: ContainerService;
  images: ImageStore;
  runtime: RuntimeChoice;
  storageDriver: string;
  cgroupMode: string;
  warnings: () => string[];
}

export function systemBackend(s: InfoSources): SystemBackend {
  return {
    orphans: () => s.service.orphans(),
    stopOrphan: (id) => s.service.stopOrphan(id),
    diskUsage: async () => {
      const records = s.service.store.all();
      const images = s.images.list();
      const imageSize = new Map(images.map((i) => [i.id, i.size]));
      return {
        LayersSize: images.reduce((sum, i) => sum + i.size, 0),
        Images: images.map((i) => ({ ...imageSummary(i, records.filter((r) => r.imageId === i.id).length), SharedSize: 0 })),
        Containers: await Promise.all(records.map(async (r) => {
          const sizeRw = await dirSize(r.storageDriver === 'copy' ? s.paths.containerRootfs(r.id) : s.paths.containerUpper(r.id));
          return { ...containerSummary(r, r.config.Image), SizeRw: sizeRw, SizeRootFs: sizeRw + (imageSize.get(r.imageId) ?? 0) };
        })),
        Volumes: [],
        BuildCache: [],
      };
    },
    version: () => ({ version: BERTH_VERSION, gitCommit: process.env.BERTH_GIT_COMMIT ?? 'unknown', nodeVersion: process.versions.node }),
    info: () => {
      const records = s.service.store.all();
      const count = (status: string) => records.filter((r) => r.state.Status === status).length;
      const config = s.config();
      return {
        ID: 'berth',
        Containers: records.length,
        ContainersRunning: count('running'),
        ContainersPaused: count('paused'),
        ContainersStopped: records.length - count('running') - count('paused'),
        Images: s.images.list().length,
        Driver: s.storageDriver,
        DriverStatus: [],
        LoggingDriver: 'json-file',
        CgroupDriver: 'cgroupfs',
        CgroupVersion: s.cgroupMode === 'v2' ? '2' : '1',
        KernelVersion: release(),
        OperatingSystem: 'Linux',
        OSType: 'linux',
        Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        NCPU: cpus().length,
        MemTotal: totalmem(),
        Name: osHostname(),
        DockerRootDir: config.dataRoot,
        ServerVersion: BERTH_VERSION,
        Runtimes: { crun: { path: 'crun' }, runc: { path: 'runc' } },
        DefaultRuntime: s.runtime.name,
        DefaultRuntimeReason: s.runtime.reason,
        LiveRestoreEnabled: config.liveRestore,
        Labels: [],
        ExperimentalBuild: false,
        Debug: config.logLevel === 'debug',
        Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
        SecurityOptions: ['name=seccomp,profile=builtin'],
        RegistryConfig: registryConfig(config.insecureRegistries),
        Warnings: s.warnings(),
      };
    },
  };
}

export function execBackend(execs: ExecService): ExecBackend {
  return {
    create: (ref, body) => execs.create(ref, body),
    start: (id, onOutput, onStarted) => execs.start(id, onOutput, onStarted),
    checkStartable: (id) => execs.checkStartable(id),
    inspect: (id) => execs.inspect(id),
  };
}

export function eventsBackend(bus: EventBus): EventsBackend {
  return {
    subscribe: (rawFilters, sinceNs, onEvent) => {
      const matches = eventMatcher(parseFilters(rawFilters));
      if (sinceNs !== undefined) for (const e of bus.replay(sinceNs)) if (matches(e)) onEvent(e);
      return bus.subscribe((e) => {
        if (matches(e)) onEvent(e);
      });
    },
  };
}

/** Docker's RegistryConfig: loopback is always insecure (plain HTTP), plus the configured ones. */
function registryConfig(insecure: readonly string[]): Record<string, unknown> {
  const cidrs = ['127.0.0.0/8', '::1/128', ...insecure.filter((r) => r.includes('/'))];
  const hosts = insecure.filter((r) => !r.includes('/'));
  return {
    AllowNondistributableArtifactsCIDRs: null,
    AllowNondistributableArtifactsHostnames: null,
    InsecureRegistryCIDRs: cidrs,
    IndexConfigs: Object.fromEntries([
      ['docker.io', { Name: 'docker.io', Mirrors: [], Secure: true, Official: true }],
      ...hosts.map((h) => [h, { Name: h, Mirrors: [], Secure: false, Official: false }]),
    ]),
    Mirrors: null,
  };
}
