/**
 * The filesystem side of `docker cp` (GET/HEAD/PUT /containers/{id}/archive), on a
 * container's rootfs directory as seen from the host.
 *
 * Every lookup is done as if rootfs were '/': symlinks are expanded component by component
 * and '..' stops at rootfs, like chroot. The walk holds an open fd per directory and looks
 * each name up through `/proc/self/fd/<fd>/<name>` (an openat() in disguise; Node has no
 * openat), and directories are opened with O_NOFOLLOW. So a running container that swaps a
 * directory for a symlink while we work cannot redirect our reads and writes to the host; at
 * worst the operation fails. (resolveInRootfs's string answer cannot give that guarantee.)
 */
import {
  closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  mkdirSync, openSync, readlinkSync, rmSync, symlinkSync, unlinkSync,
} from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { once } from 'node:events';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { EngineError, invalidArgument } from '../../protocol/errors.ts';

export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode: type bits (dir = 1<<31, symlink = 1<<27, …) | setuid/setgid/sticky bits | permissions. */
  mode: number;
  /** RFC3339 with nanoseconds, UTC. */
  mtime: string;
  /** For a symlink: where it leads, fully resolved inside the container; '' otherwise. */
  linkTarget: string;
}

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const MAX_SYMLINKS = 255;

const at = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const notFound = (containerPath: string) => new EngineError('NotFound', `Could not find the file ${containerPath} in container`);

// ---------------------------------------------------------------------------------------
// Resolution in the scope of rootfs

interface ContainerPath {
  /** Lexically cleaned ('..' clamped at '/'), like Go's filepath.Join("/", path). */
  components: string[];
  /** Ends in '/' or '/.': the path must be a directory, and a final symlink is followed. */
  dirOnly: boolean;
  /** Ends in '/.': Docker copies the directory's contents rather than the directory. */
  contentsOnly: boolean;
}

function parseContainerPath(path: string): ContainerPath {
  const contentsOnly = path === '.' || path.endsWith('/.');
  return {
    components: posix.normalize('/' + path).split('/').filter((c) => c !== ''),
    dirOnly: contentsOnly || path.endsWith('/'),
    contentsOnly,
  };
}

interface Walk {
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

interface WalkOptions {
  followFinal: boolean;
  /** Treat the last component as a directory to open too (final stays undefined). */
  openFinal?: boolean;
  /** Create missing directories (0755) on the way instead of recording them as missing. */
  create?: boolean;
}

function walk(rootFd: number, components: string[], opts: WalkOptions): Walk {
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

function release(w: Walk): void {
  while (w.fds.length > 1) closeSync(w.fds.pop()!);
}

const resolvedComponents = (w: Walk) => [...w.names, ...w.missing, ...(w.final === undefined ? [] : [w.final])];

/** lstat of what the walk ended at; undefined when it does not exist. */
function lstatEnd(w: Walk): BigIntStats | undefined {
  if (w.missing.length > 0) return undefined;
  if (w.final === undefined) return fstatSync(w.fds.at(-1)!, { bigint: true });
  try {
    return lstatSync(at(w.fds.at(-1)!, w.final), { bigint: true });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function withRoot<T>(rootfs: string, fn: (rootFd: number) => T): T {
  const rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return fn(rootFd);
  } finally {
    closeSync(rootFd);
  }
}

function withWalk<T>(rootFd: number, components: string[], opts: WalkOptions, fn: (w: Walk) => T): T {
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

// ---------------------------------------------------------------------------------------
// Stat (HEAD /containers/{id}/archive, and the header of GET)

const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

// Added rather than OR-ed: JavaScript's bitwise operators would make 1<<31 negative.
function goFileMode(mode: number): number {
  let bits = mode & 0o777;
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR: bits += GO_MODE_DIR; break;
    case constants.S_IFLNK: bits += GO_MODE_SYMLINK; break;
    case constants.S_IFBLK: bits += GO_MODE_DEVICE; break;
    case constants.S_IFCHR: bits += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE; break;
    case constants.S_IFIFO: bits += GO_MODE_NAMED_PIPE; break;
    case constants.S_IFSOCK: bits += GO_MODE_SOCKET; break;
  }
  if (mode & 0o4000) bits += GO_MODE_SETUID;
  if (mode & 0o2000) bits += GO_MODE_SETGID;
  if (mode & 0o1000) bits += GO_MODE_STICKY;
  return bits;
}

/** Go's RFC3339Nano in UTC: fraction without trailing zeros, none when whole. */
function rfc3339(ns: bigint): string {
  let seconds = ns / 1_000_000_000n;
  let fraction = ns % 1_000_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000_000n;
    seconds -= 1n;
  }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return fraction === 0n ? `${base}Z` : `${base}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Like Docker's StatPath: the final component is not followed unless the path ends in '/' or '/.'. */
export function statInRootfs(rootfs: string, containerPath: string): PathStat {
  const path = parseContainerPath(containerPath);
  return withRoot(rootfs, (rootFd) => {
    const st = withWalk(rootFd, path.components, { followFinal: path.dirOnly }, lstatEnd);
    if (st === undefined || (path.dirOnly && !st.isDirectory())) throw notFound(containerPath);
    const linkTarget = st.isSymbolicLink()
      ? withWalk(rootFd, path.components, { followFinal: true }, (w) => '/' + resolvedComponents(w).join('/'))
      : '';
    return {
      name: path.contentsOnly ? '.' : (path.components.at(-1) ?? '/'),
      size: Number(st.size),
      mode: goFileMode(Number(st.mode)),
      mtime: rfc3339(st.mtimeNs),
      linkTarget,
    };
  });
}

/** The value of the X-Docker-Container-Path-Stat header. */
export function encodePathStat(stat: PathStat): string {
  const { name, size, mode, mtime, linkTarget } = stat;
  return Buffer.from(JSON.stringify({ name, size, mode, mtime, linkTarget })).toString('base64');
}

// ---------------------------------------------------------------------------------------
// GET /containers/{id}/archive

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
      const packer = new Packer();
      if (w.final === undefined) {
        const dirFd = w.fds.at(-1)!;
        yield packer.header(`${topName}/`, fstatSync(dirFd), 'Directory');
        yield* packer.contents(dirFd, topName);
      } else {
        yield* packer.entry(w.fds.at(-1)!, w.final, topName);
      }
      yield Buffer.alloc(1024); // end-of-archive marker
    } finally {
      release(w);
    }
  } finally {
    closeSync(rootFd);
  }
}

class Packer {
  /** First archive name of each multiply-linked file, by dev:ino, to emit later ones as hard links. */
  readonly #seen = new Map<string, string>();

  header(name: string, st: Stats, type: tar.HeaderData['type'], extra: Partial<tar.HeaderData> = {}): Buffer {
    const fields: tar.HeaderData = {
      path: name,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: st.mtime,
      ...extra,
    };
    const header = new tar.Header(fields);
    if (!header.encode()) return header.block!;
    // Long names or big numbers go into a PAX extended header before the entry.
    const pax = new tar.Pax({ path: fields.path, linkpath: fields.linkpath, size: fields.size, uid: fields.uid, gid: fields.gid, mtime: fields.mtime });
    return Buffer.concat([pax.encode(), header.block!]);
  }

  async *contents(dirFd: number, prefix: string): AsyncGenerator<Buffer> {
    const names = (await readdir(at(dirFd))).sort();
    for (const name of names) yield* this.entry(dirFd, name, `${prefix}/${name}`);
  }

  async *entry(parentFd: number, name: string, archiveName: string): AsyncGenerator<Buffer> {
    const path = at(parentFd, name);
    const st = await lstat(path);
    if (st.isDirectory()) {
      const dir = await open(path, O_DIR);
      try {
        yield this.header(`${archiveName}/`, await dir.stat(), 'Directory');
        yield* this.contents(dir.fd, archiveName);
      } finally {
        await dir.close();
      }
    } else if (st.isFile()) {
      yield* this.file(path, st, archiveName);
    } else if (st.isSymbolicLink()) {
      yield this.header(archiveName, st, 'SymbolicLink', { linkpath: await readlink(path) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      yield this.header(archiveName, st, st.isCharacterDevice() ? 'CharacterDevice' : 'BlockDevice', { devmaj: major, devmin: minor });
    } else if (st.isFIFO()) {
      yield this.header(archiveName, st, 'FIFO');
    }
  }

  private async *file(path: string, st: Stats, archiveName: string): AsyncGenerator<Buffer> {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.#seen.get(key) : undefined;
    if (first !== undefined) {
      yield this.header(archiveName, st, 'Link', { linkpath: first });
      return;
    }
    // O_NONBLOCK: should the file have become a FIFO since the lstat, open must not hang.
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const now = await file.stat();
      if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) throw new Error(`${archiveName} changed while it was being archived`);
      if (st.nlink > 1) this.#seen.set(key, archiveName);
      yield this.header(archiveName, now, 'File', { size: now.size });
      // Exactly the announced size: a file that grows is cut, one that shrinks is zero-filled.
      let remaining = now.size;
      while (remaining > 0) {
        const buf = Buffer.alloc(Math.min(remaining, 256 * 1024));
        const { bytesRead } = await file.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        remaining -= bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
      const padding = remaining + ((512 - (now.size % 512)) % 512);
      if (padding > 0) yield Buffer.alloc(padding);
    } finally {
      await file.close();
    }
  }
}

/** Linux's dev_t encoding (glibc's major()/minor()). */
function splitDev(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}

// ---------------------------------------------------------------------------------------
// PUT /containers/{id}/archive

/**
 * Extracts a tar (plain, gzip or zstd) under the directory `containerPath`, which must exist
 * (followed like chroot would). Entry names are taken relative to it: a leading '/' is
 * dropped, and a '..' that climbs out of it rejects the archive with InvalidArgument, as
 * does a hard link whose target does. Symlinks on the way are followed inside rootfs only;
 * an existing entry of the same name is replaced (never written through), except that
 * directory onto directory merges. Device nodes and FIFOs are skipped. Ownership, modes and
 * mtimes come from the archive.
 */
export async function extractIntoRootfs(
  rootfs: string,
  containerPath: string,
  tarStream: NodeJS.ReadableStream,
  opts?: { noOverwriteDirNonDir?: boolean },
): Promise<void> {
  const rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const destPath = parseContainerPath(containerPath);
    const dest = withWalk(rootFd, destPath.components, { followFinal: true }, (w) => {
      const st = lstatEnd(w);
      if (st === undefined) throw notFound(containerPath);
      if (!st.isDirectory()) throw invalidArgument('extraction point is not a directory');
      return resolvedComponents(w);
    });
    const ctx: ExtractContext = { rootFd, dest, noOverwriteDirNonDir: opts?.noOverwriteDirNonDir ?? false, dirTimes: [] };
    await forEachEntry(tarStream, (entry) => extractEntry(ctx, entry));
    // Directory times last: extracting into a directory changes its mtime.
    for (const { components, atime, mtime } of ctx.dirTimes.reverse()) {
      try {
        withWalk(rootFd, components, { followFinal: false, openFinal: true }, (w) => {
          if (w.missing.length === 0) futimesSync(w.fds.at(-1)!, atime, mtime);
        });
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  } finally {
    closeSync(rootFd);
  }
}

interface ExtractContext {
  rootFd: number;
  /** The destination directory, resolved, as components under rootfs. */
  dest: string[];
  noOverwriteDirNonDir: boolean;
  dirTimes: { components: string[]; atime: Date; mtime: Date }[];
}

const canChown = process.geteuid?.() === 0;

/** Components of an entry name under the destination; throws when '..' climbs out of it. */
function entryComponents(name: string): string[] {
  const components: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..') components.push(c);
    else if (components.pop() === undefined) throw invalidArgument(`invalid archive entry ${JSON.stringify(name)}: it points outside the extraction point`);
  }
  return components;
}

async function extractEntry(ctx: ExtractContext, entry: tar.ReadEntry): Promise<void> {
  const type = entry.type;
  const isDir = type === 'Directory';
  const isFile = type === 'File' || type === 'OldFile' || type === 'ContiguousFile';
  if (!isDir && !isFile && type !== 'SymbolicLink' && type !== 'Link') return; // devices, FIFOs, vendor types
  const components = entryComponents(entry.path);
  const name = components.pop();
  if (name === undefined) return; // '.': the extraction point itself, left as it is (like Docker)

  const parent = walk(ctx.rootFd, [...ctx.dest, ...components], { followFinal: true, openFinal: true, create: true });
  try {
    const dirFd = parent.fds.at(-1)!;
    const target = at(dirFd, name);
    const existing = lstatOrUndefined(target);
    if (existing !== undefined) {
      if (ctx.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
        const where = '/' + [...parent.names, name].join('/');
        throw invalidArgument(isDir
          ? `cannot overwrite non-directory "${where}" with directory "${entry.path}"`
          : `cannot overwrite directory "${where}" with non-directory "${entry.path}"`);
      }
      // unlink for non-directories: rmSync leaves a dangling symlink in place.
      if (!existing.isDirectory()) unlinkSync(target);
      else if (!isDir) rmSync(target, { recursive: true });
    }
    const mtime = entry.mtime ?? new Date();
    const atime = entry.atime ?? mtime;
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mode = (entry.mode ?? (isDir ? 0o755 : 0o644)) & 0o7777;

    if (isDir) {
      if (existing === undefined || !existing.isDirectory()) mkdirSync(target, 0o700);
      const fd = openSync(target, O_DIR);
      try {
        if (canChown) fchownSync(fd, uid, gid);
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      ctx.dirTimes.push({ components: [...parent.names, name], atime, mtime });
    } else if (isFile) {
      const file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        let written = 0;
        for await (const chunk of entry) {
          for (let offset = 0; offset < chunk.length;) offset += (await file.write(chunk, offset)).bytesWritten;
          written += chunk.length;
        }
        if (written !== entry.size) throw invalidArgument(`unexpected end of archive in ${entry.path}`);
        if (canChown) await file.chown(uid, gid);
        await file.chmod(mode); // after chown, which clears setuid/setgid
        await file.utimes(atime, mtime);
      } finally {
        await file.close();
      }
    } else if (type === 'SymbolicLink') {
      symlinkSync(entry.linkpath ?? '', target);
      if (canChown) lchownSync(target, uid, gid);
      lutimesSync(target, atime, mtime);
    } else {
      const linkComponents = entryComponents(entry.linkpath ?? '');
      withWalk(ctx.rootFd, [...ctx.dest, ...linkComponents], { followFinal: false }, (source) => {
        if (source.missing.length > 0 || source.final === undefined || lstatEnd(source) === undefined) {
          throw invalidArgument(`hard link target ${JSON.stringify(entry.linkpath)} of ${JSON.stringify(entry.path)} does not exist`);
        }
        linkSync(at(source.fds.at(-1)!, source.final), target); // link(2) does not follow a symlink source
      });
    }
  } finally {
    release(parent);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/**
 * Feeds `input` to a tar parser and calls `handle` for each entry, one at a time, in order.
 * The first error (a handler's, the input's, or a damaged archive) stops the extraction and
 * is thrown once the handler that is running has finished.
 */
async function forEachEntry(input: NodeJS.ReadableStream, handle: (entry: tar.ReadEntry) => Promise<void>): Promise<void> {
  const parser = new tar.Parser();
  let failure: unknown;
  let current: tar.ReadEntry | undefined;
  let chain = Promise.resolve();
  parser.on('entry', (entry: tar.ReadEntry) => {
    current = entry;
    chain = chain.then(async () => {
      if (failure === undefined) {
        try {
          await handle(entry);
        } catch (err) {
          failure ??= err;
        }
      }
      entry.resume(); // whatever the handler did not read; the parser waits for it
    });
  });
  let received = 0;
  parser.on('warn', (code: string, message: unknown) => {
    if (code === 'TAR_BAD_ARCHIVE' && received === 0) return; // an empty body is an empty archive, as in Docker
    if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ENTRY_INVALID') failure ??= invalidArgument(`invalid tar archive: ${String(message)}`);
  });
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', (err: Error) => reject(invalidArgument(`invalid tar archive: ${err.message}`)));
  });
  parsed.catch(() => {}); // awaited below unless the input fails first
  try {
    for await (const chunk of input) {
      if (failure !== undefined) break;
      received += chunk.length;
      if (!parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) await Promise.race([once(parser, 'drain'), parsed]);
    }
    if (failure === undefined) {
      parser.end();
      await parsed;
    }
  } catch (err) {
    failure ??= err;
  }
  // An entry whose body will never arrive: end it so its handler sees a short read.
  if (failure !== undefined && current !== undefined && !current.emittedEnd) current.end();
  await chain;
  if (failure !== undefined) throw failure;
}
