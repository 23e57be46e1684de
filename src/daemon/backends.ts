import { topContainer } from './containers/top.ts';
import { getArchive, putArchive, withContainerPath } from './archive/container-archive.ts';
import { inspectContainer } from './containers/container-inspect.ts';
import { listContainers } from './containers/container-list.ts';
import { attachContainer } from './containers/container-attach.ts';
import { pruneContainers } from './containers/container-prune.ts';
import { containerStats } from './stats/stats-service.ts';
import { containerLogs } from './logs/logs-service.ts';
import type { ContainersBackend } from '../api/routes/containers.ts';
import type { ContainerService } from './containers/container-service.ts';
import type { ImageStore } from '../images/image-store.ts';
import type { DaemonPaths } from './host/paths.ts';

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
