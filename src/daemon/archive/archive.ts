/**
 * The filesystem side of `docker cp` (GET/HEAD/PUT /containers/{id}/archive), on a
 * container's rootfs directory as seen from the host, resolved as if rootfs were '/'
 * (rootfs-walk.ts). This file holds GET and is the folder's front door.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { TreePacker } from '../../lib/tar/pack.ts';
import { END_OF_ARCHIVE } from '../../lib/tar/writer.ts';
import { notFound, parseContainerPath, release, walk, type ContainerPath } from './rootfs-walk.ts';
import { statInRootfs } from './path-stat.ts';

export { readSmallFileInRootfs, resolveInRootfs } from './rootfs-walk.ts';
export { encodePathStat, statInRootfs, type PathStat } from './path-stat.ts';
export { extractIntoRootfs } from './extract.ts';

/**
 * A tar of `containerPath` whose top entry is its base name ('foo/', 'foo/a', …). A path
 * ending in '/.' (and '/') gives the directory's contents as './', './a', …. A final symlink
 * is archived as a symlink unless the path ends in '/'; symlinks below are never followed.
 * Modes, mtimes, uid/gid, hard links, devices and FIFOs are kept; sockets are skipped.
 * A missing path throws NotFound at once; later errors end the stream with 'error'.
 */
export function archiveFromRootfs(rootfs: string, containerPath: string): NodeJS.ReadableStream {
  statInRootfs(rootfs, containerPath);
  const path = parseContainerPath(containerPath);
  const topName = path.contentsOnly || path.components.length === 0 ? '.' : path.components.at(-1)!;
  return Readable.from(packTop(rootfs, path, topName), { objectMode: false });
}

async function* packTop(rootfs: string, path: ContainerPath, topName: string): AsyncGenerator<Buffer> {
  const rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const w = walk(rootFd, path.components, { followFinal: path.dirOnly });
    try {
      if (w.missing.length > 0) throw notFound(posix.join('/', ...path.components));
      const packer = new TreePacker();
      if (w.final === undefined) {
        const dirFd = w.fds.at(-1)!;
        yield* packer.directory(dirFd, fstatSync(dirFd), topName);
      } else {
        yield* packer.entry(w.fds.at(-1)!, w.final, topName);
      }
      yield END_OF_ARCHIVE;
    } finally {
      release(w);
    }
  } finally {
    closeSync(rootFd);
  }
}
