/**
 * Paths of a container resolved on its rootfs directory as seen from the host.
 *
 * Every lookup is done as if rootfs were '/': symlinks are expanded component by component
 * and '..' stops at rootfs, like chroot. The walk holds an open fd per directory and looks
 * each name up through `/proc/self/fd/<fd>/<name>` (an openat() in disguise; Node has no
 * openat), and directories are opened with O_NOFOLLOW. So a running container that swaps a
 * directory for a symlink while we work cannot redirect our reads and writes to the host; at
 * worst the operation fails. (resolveInRootfs's string answer cannot give that guarantee.)
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync } from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { EngineError, invalidArgument } from '../../protocol/errors.ts';
import { at, O_DIR } from '../../lib/tar/pack.ts';

const MAX_SYMLINKS = 255;

export const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

export const notFound = (containerPath: string) => new EngineError('NotFound', `Could not find the file ${containerPath} in container`);

export interface ContainerPath {
  /** Lexically cleaned ('..' clamped at '/'), like Go's filepath.Join("/", path). */
  components: string[];
  /** Ends in '/' or '/.': the path must be a directory, and a final symlink is followed. */
  dirOnly: boolean;
  /** Ends in '/.': Docker copies the directory's contents rather than the directory. */
  contentsOnly: boolean;
}

export function parseContainerPath(path: string): ContainerPath {
  const contentsOnly = path === '.' || path.endsWith('/.');
  return {
    components: posix.normalize('/' + path).split('/').filter((c) => c !== ''),
    dirOnly: contentsOnly || path.endsWith('/'),
    contentsOnly,
  };
}

export interface Walk {
  /** Open directories from rootfs down: fds[0] is rootfs, fds[i] is names[i - 1]. */
  fds: number[];
  /** Real directories (never symlinks) under rootfs. */
  names: string[];
  /** Once something did not exist (or was not a directory): the rest of the path, taken lexically. */
  missing: string[];
  /** The last component, looked up in fds.at(-1) but not opened. Undefined when the path ends
   * at fds.at(-1) itself ('/', or a followed symlink to '/' or to '..'). */
  final: string | undefined;
}

export interface WalkOptions {
  followFinal: boolean;
  /** Treat the last component as a directory to open too (final stays undefined). */
  openFinal?: boolean;
  /** Create missing directories (0755) on the way instead of recording them as missing. */
  create?: boolean;
}

export function walk(rootFd: number, components: string[], opts: WalkOptions): Walk {
  const w: Walk = { fds: [rootFd], names: [], missing: [], final: undefined };
  const queue = [...components];
  let symlinks = 0;
  try {
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (w.missing.length > 0) w.missing.pop();
        else if (w.fds.length > 1) {
          closeSync(w.fds.pop()!);
          w.names.pop();
        }
        continue;
      }
      if (w.missing.length > 0) {
        w.missing.push(name);
        continue;
      }
      const isLast = queue.length === 0 && !opts.openFinal;
      const dirFd = w.fds.at(-1)!;
      let st: Stats | undefined;
      try {
        st = lstatSync(at(dirFd, name));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      if (st?.isSymbolicLink() && (!isLast || opts.followFinal)) {
        if (++symlinks > MAX_SYMLINKS) throw invalidArgument(`too many levels of symbolic links in ${components.join('/')}`);
        const target = readlinkSync(at(dirFd, name));
        if (target.startsWith('/')) {
          while (w.fds.length > 1) closeSync(w.fds.pop()!);
          w.names.length = 0;
        }
        queue.unshift(...target.split('/'));
        continue;
      }
      if (isLast) {
        w.final = name;
        break;
      }
      if (st === undefined && opts.create) {
        mkdirSync(at(dirFd, name), 0o755);
      } else if (st === undefined || !st.isDirectory()) {
        if (opts.create) throw invalidArgument(`cannot create /${[...w.names, name].join('/')}/…: not a directory`);
        w.missing.push(name);
        continue;
      }
      w.fds.push(openSync(at(dirFd, name), O_DIR));
      w.names.push(name);
    }
  } catch (err) {
    release(w);
    throw err;
  }
  return w;
}

export function release(w: Walk): void {
  while (w.fds.length > 1) closeSync(w.fds.pop()!);
}

export const resolvedComponents = (w: Walk) => [...w.names, ...w.missing, ...(w.final === undefined ? [] : [w.final])];

/** lstat of what the walk ended at; undefined when it does not exist. */
export function lstatEnd(w: Walk): BigIntStats | undefined {
  if (w.missing.length > 0) return undefined;
  if (w.final === undefined) return fstatSync(w.fds.at(-1)!, { bigint: true });
  try {
    return lstatSync(at(w.fds.at(-1)!, w.final), { bigint: true });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export function withRoot<T>(rootfs: string, fn: (rootFd: number) => T): T {
  const rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return fn(rootFd);
  } finally {
    closeSync(rootFd);
  }
}

export function withWalk<T>(rootFd: number, components: string[], opts: WalkOptions, fn: (w: Walk) => T): T {
  const w = walk(rootFd, components, opts);
  try {
    return fn(w);
  } finally {
    release(w);
  }
}

/**
 * The host path of `containerPath` with symlinks resolved inside rootfs. The final component
 * is followed unless `followFinalSymlink` is false (a path ending in '/' or '/.' is always
 * followed). Parts that do not exist are kept as written. The answer is only as good as the
 * moment it was computed: code in this module works on fds instead.
 */
export function resolveInRootfs(rootfs: string, containerPath: string, opts?: { followFinalSymlink?: boolean }): string {
  const path = parseContainerPath(containerPath);
  const followFinal = (opts?.followFinalSymlink ?? true) || path.dirOnly;
  return withRoot(rootfs, (rootFd) =>
    withWalk(rootFd, path.components, { followFinal }, (w) => join(rootfs, ...resolvedComponents(w))));
}

/**
 * The content of a small regular file of the container (its /etc/passwd, say), resolved inside
 * rootfs like every path here: no symlink reaches the host, a FIFO or device is refused without
 * blocking (opened O_NONBLOCK, checked on the open fd), and more than `maxBytes` is refused
 * rather than read. Undefined when the file does not exist.
 */
export async function readSmallFileInRootfs(rootfs: string, containerPath: string, maxBytes: number): Promise<Buffer | undefined> {
  const path = parseContainerPath(containerPath);
  const hostPath = withRoot(rootfs, (rootFd) =>
    withWalk(rootFd, path.components, { followFinal: true }, (w) => {
      if (w.missing.length > 0 || w.final === undefined) return undefined;
      // The walk's fds close with it: keep our own handle on the directory that holds the file.
      return { name: w.final, dirFd: openSync(at(w.fds.at(-1)!), constants.O_RDONLY | constants.O_DIRECTORY) };
    }));
  if (!hostPath) return undefined;
  let handle;
  try {
    handle = await open(at(hostPath.dirFd, hostPath.name), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  } catch (err) {
    if (isMissing(err)) return undefined;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw invalidArgument(`${containerPath} in the container is a symbolic link that could not be resolved inside it`);
    throw err;
  } finally {
    closeSync(hostPath.dirFd);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw invalidArgument(`${containerPath} in the container is not a regular file`);
    if (st.size > maxBytes) throw invalidArgument(`${containerPath} in the container is larger than ${maxBytes} bytes`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw invalidArgument(`${containerPath} in the container is larger than ${maxBytes} bytes`);
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
