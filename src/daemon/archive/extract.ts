/** PUT /containers/{id}/archive: a tar extracted into a container, never outside its rootfs. */
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, rmSync,
  symlinkSync, unlinkSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { invalidArgument } from '../../protocol/errors.ts';
import { at, O_DIR } from '../../lib/tar/pack.ts';
import { cleanPath, lstatIfExists } from '../../lib/tar/paths.ts';
import { readTar, type TarEntry } from '../../lib/tar/reader.ts';
import { decompress } from '../../images/decompress.ts';
import {
  isMissing, lstatEnd, notFound, parseContainerPath, release, resolvedComponents, walk, withWalk,
} from './rootfs-walk.ts';

/**
 * Extracts a tar (plain, gzip or zstd) under the directory `containerPath`, which must exist
 * (followed like chroot would). Entry names are taken relative to it: a leading '/' is
 * dropped, and a '..' that climbs out of it rejects the archive with InvalidArgument, as
 * does a hard link whose target does. Symlinks on the way are followed inside rootfs only;
 * an existing entry of the same name is replaced (never written through), except that
 * directory onto directory merges. Device nodes and FIFOs are skipped. Ownership, modes and
 * mtimes come from the archive. The archive is read by lib/tar's reader, with its rules for
 * damaged and hostile archives; an empty body is an empty archive, as in Docker.
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
    const source = tarStream instanceof Readable ? tarStream : Readable.from(tarStream);
    try {
      for await (const entry of readTar(decompress(source), { subject: 'tar', allowEmpty: true })) await extractEntry(ctx, entry);
    } catch (err) {
      source.resume(); // the rest is dropped, so that the client finishes sending and reads the error
      throw err;
    }
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

/** Components of an entry name (or hard link target) under the destination; throws when '..' climbs out of it. */
const entryComponents = (name: string): string[] => {
  const rel = cleanPath(name, 'the extraction point');
  return rel === '' ? [] : rel.split('/');
};

async function extractEntry(ctx: ExtractContext, entry: TarEntry): Promise<void> {
  const { kind } = entry;
  const isDir = kind === 'dir';
  if (kind !== 'dir' && kind !== 'file' && kind !== 'symlink' && kind !== 'hardlink') return; // devices, FIFOs
  const components = entryComponents(entry.path);
  const name = components.pop();
  if (name === undefined) return; // '.': the extraction point itself, left as it is (like Docker)

  const parent = walk(ctx.rootFd, [...ctx.dest, ...components], { followFinal: true, openFinal: true, create: true });
  try {
    const dirFd = parent.fds.at(-1)!;
    const target = at(dirFd, name);
    const existing = lstatIfExists(target);
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
    const { uid, gid, mtime } = entry;
    const atime = entry.atime ?? mtime;
    const mode = entry.mode & 0o7777;

    if (kind === 'dir') {
      if (existing === undefined || !existing.isDirectory()) mkdirSync(target, 0o700);
      const fd = openSync(target, O_DIR);
      try {
        if (canChown) fchownSync(fd, uid, gid);
        fchmodSync(fd, mode);
      } finally {
        closeSync(fd);
      }
      ctx.dirTimes.push({ components: [...parent.names, name], atime, mtime });
    } else if (kind === 'file') {
      const file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of entry.body) {
          for (let offset = 0; offset < chunk.length;) offset += (await file.write(chunk, offset)).bytesWritten;
        }
        if (canChown) await file.chown(uid, gid);
        await file.chmod(mode); // after chown, which clears setuid/setgid
        await file.utimes(atime, mtime);
      } finally {
        await file.close();
      }
    } else if (kind === 'symlink') {
      symlinkSync(entry.linkpath, target);
      if (canChown) lchownSync(target, uid, gid);
      lutimesSync(target, atime, mtime);
    } else {
      withWalk(ctx.rootFd, [...ctx.dest, ...entryComponents(entry.linkpath)], { followFinal: false }, (source) => {
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
