import { containerInspect, type ContainerPaths } from '../../api/views.ts';
import type { ContainerStore } from './container-store.ts';
import type { DaemonPaths } from '../host/paths.ts';

export type InspectPaths = Pick<DaemonPaths, 'containerLog' | 'containerEtc' | 'containerRootfs'>;

/** GET /containers/{id}/json. */
export function inspectContainer(service: { readonly store: Pick<ContainerStore, 'resolve'> }, paths: InspectPaths, ref: string): Record<string, unknown> {
  const record = service.store.resolve(ref);
  return containerInspect(record, containerFilePaths(paths, record.id), record.config.Image);
}

/** The host paths inspect shows for a container. */
export function containerFilePaths(paths: InspectPaths, id: string): ContainerPaths {
  return {
    logPath: paths.containerLog(id),
    hostsPath: paths.containerEtc(id, 'hosts'),
    hostnamePath: paths.containerEtc(id, 'hostname'),
    resolvConfPath: paths.containerEtc(id, 'resolv.conf'),
    rootfs: paths.containerRootfs(id),
  };
}
