import { archiveFromRootfs, encodePathStat, extractIntoRootfs, statInRootfs } from './archive.ts';

export interface ArchiveTarget {
  withRootfs<T>(ref: string, fn: (rootfs: string) => Promise<T>): Promise<T>;
}

/**
 * The /containers/{id}/archive routes (docker cp): `body` runs with the container's root
 * mounted, given the base64 stat of `path` (X-Docker-Container-Path-Stat) when asked for.
 */
export function withContainerPath<T>(service: ArchiveTarget, ref: string, path: string, needStat: boolean, body: (pathStat: string | undefined, rootfs: string) => Promise<T>): Promise<T> {
  return service.withRootfs(ref, (rootfs) => body(needStat ? encodePathStat(statInRootfs(rootfs, path)) : undefined, rootfs));
}

/** GET: a tar of `path` inside the mounted root. */
export function getArchive(rootfs: string, path: string): NodeJS.ReadableStream {
  return archiveFromRootfs(rootfs, path);
}

/** PUT: unpacks `tar` at `path` inside the mounted root. */
export function putArchive(rootfs: string, path: string, tar: NodeJS.ReadableStream, noOverwriteDirNonDir: boolean): Promise<void> {
  return extractIntoRootfs(rootfs, path, tar, { noOverwriteDirNonDir });
}
