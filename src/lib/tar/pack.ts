import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { blockPadding, encodeHeader, type HeaderFields } from './writer.ts';

/**
 * Tar entries for a directory tree, read through open directory fds: each name is looked up
 * as `/proc/self/fd/<fd>/<name>` (an openat() in disguise) and directories are opened with
 * O_NOFOLLOW, so a tree that changes while it is read (a running container's) cannot send the
 * walk elsewhere. Names are sorted; symlinks are archived as themselves; a file met again
 * through another of its links becomes a hard link; sockets are skipped.
 */

export const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The path that names `name` inside the directory open as `fd` (or the directory itself). */
export const at = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

export interface PackOptions {
  /** No owners (uid/gid 0): what the receiving side gives them is its choice (docker cp without -a). */
  portable?: boolean;
  /** One modification time for every entry (docker save's epoch). */
  mtime?: Date;
  /** Archive names as written, e.g. the first element renamed (docker cp's rebase); hard link targets too. */
  rename?: (name: string) => string;
}

const CHUNK = 256 * 1024;

export class TreePacker {
  readonly #options: PackOptions;
  /** First archive name of each multiply-linked file, by dev:ino, to emit later ones as hard links. */
  readonly #seen = new Map<string, string>();

  constructor(options: PackOptions = {}) {
    this.#options = options;
  }

  header(name: string, st: Stats, fields: Pick<HeaderFields, 'kind'> & Partial<HeaderFields>): Buffer {
    const { portable, mtime, rename = (n: string) => n } = this.#options;
    return encodeHeader({
      mode: st.mode & 0o7777,
      uid: portable ? 0 : st.uid,
      gid: portable ? 0 : st.gid,
      mtime: mtime ?? st.mtime,
      ...fields,
      path: rename(name),
      linkpath: fields.kind === 'hardlink' && fields.linkpath !== undefined ? rename(fields.linkpath) : fields.linkpath,
    });
  }

  /** The directory open as `dirFd` as `archiveName/`, then everything below it. */
  async *directory(dirFd: number, st: Stats, archiveName: string): AsyncGenerator<Buffer> {
    yield this.header(`${archiveName}/`, st, { kind: 'dir' });
    const names = (await readdir(at(dirFd))).sort();
    for (const name of names) yield* this.entry(dirFd, name, `${archiveName}/${name}`);
  }

  /** `name` in the directory open as `parentFd`, archived as `archiveName` (with all below it). */
  async *entry(parentFd: number, name: string, archiveName: string): AsyncGenerator<Buffer> {
    const path = at(parentFd, name);
    const st = await lstat(path);
    if (st.isDirectory()) {
      const dir = await open(path, O_DIR);
      try {
        yield* this.directory(dir.fd, await dir.stat(), archiveName);
      } finally {
        await dir.close();
      }
    } else if (st.isFile()) {
      yield* this.#file(path, st, archiveName);
    } else if (st.isSymbolicLink()) {
      yield this.header(archiveName, st, { kind: 'symlink', linkpath: await readlink(path) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      yield this.header(archiveName, st, { kind: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor });
    } else if (st.isFIFO()) {
      yield this.header(archiveName, st, { kind: 'fifo' });
    }
  }

  async *#file(path: string, st: Stats, archiveName: string): AsyncGenerator<Buffer> {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.#seen.get(key) : undefined;
    if (first !== undefined) {
      yield this.header(archiveName, st, { kind: 'hardlink', linkpath: first });
      return;
    }
    // O_NONBLOCK: should the file have become a FIFO since the lstat, open must not hang.
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const now = await file.stat();
      if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) throw new Error(`${archiveName} changed while it was being archived`);
      if (st.nlink > 1) this.#seen.set(key, archiveName);
      yield this.header(archiveName, now, { kind: 'file', size: now.size });
      // Exactly the announced size: a file that grows is cut, one that shrinks is zero-filled.
      let remaining = now.size;
      while (remaining > 0) {
        const buf = Buffer.alloc(Math.min(remaining, CHUNK));
        const { bytesRead } = await file.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        remaining -= bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
      const padding = remaining + blockPadding(now.size);
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
