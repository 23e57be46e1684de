import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ExecError, run } from '../lib/exec.ts';
import { EngineError, internal, invalidArgument } from '../protocol/errors.ts';
import { readTar, type TarEntry } from '../lib/tar/reader.ts';
import { decompress } from './decompress.ts';
import { cleanPath, ExtractionRoot, hardlinkTarget, lstatIfExists, parentOf } from '../lib/tar/paths.ts';

export interface UnpackResult {
  /** "sha256:<hex>" of the uncompressed tar stream. */
  diffId: string;
  /** Bytes of regular files written (sum of entry sizes). */
  size: number;
}

const MKNOD = '/usr/bin/mknod';
const SETFATTR = '/usr/bin/setfattr';
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
// Errors of the host rather than of the archive.
const SYSTEM_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'ENOMEM', 'EMFILE', 'ENFILE']);

/**
 * Unpack one image layer (tar; gzip or zstd compressed or not) into `dir` (exists, empty), in
 * overlayfs's on-disk format, so layer dirs can be stacked as overlay lowerdirs: whiteouts become
 * 0/0 character devices, opaque directories get trusted.overlay.opaque=y.
 */
export async function unpackLayer(source: Readable, dir: string): Promise<UnpackResult> {
  const hash = createHash('sha256');
  const root = new ExtractionRoot(dir);
  const whiteouts: string[] = [];
  const opaques: string[] = [];
  let size = 0;
  try {
    for await (const entry of readTar(hashed(decompress(source), hash))) {
      try {
        const rel = cleanPath(entry.path);
        const name = rel.slice(rel.lastIndexOf('/') + 1);
        if (name === OPAQUE) opaques.push(parentOf(rel));
        else if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) continue; // AUFS metadata, skipped as Docker does
        else if (name.startsWith(WHITEOUT)) whiteouts.push(whiteoutTarget(rel, name));
        else {
          await extract(root, rel, entry);
          if (entry.kind === 'file') size += entry.size;
        }
      } catch (err) {
        throw entryError(entry.path, err);
      }
    }
    // Whiteouts last: they may precede their directory in the archive.
    for (const rel of opaques) {
      await root.ensureDir(rel, true);
      await run(SETFATTR, ['-n', 'trusted.overlay.opaque', '-v', 'y', root.abs(rel)]);
    }
    for (const rel of whiteouts) {
      await root.ensureDir(parentOf(rel), true);
      // An entry of this same layer wins: whiteouts only hide lower layers (OCI image spec).
      if (!lstatIfExists(root.abs(rel))) await run(MKNOD, [root.abs(rel), 'c', '0', '0']);
    }
    await root.restoreDirTimes();
  } catch (err) {
    source.destroy();
    throw err;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

function whiteoutTarget(rel: string, name: string): string {
  const hidden = name.slice(WHITEOUT.length);
  if (hidden === '' || hidden === '.' || hidden === '..') throw invalidArgument('invalid whiteout name');
  const parent = parentOf(rel);
  return parent === '' ? hidden : `${parent}/${hidden}`;
}

async function extract(root: ExtractionRoot, rel: string, entry: TarEntry): Promise<void> {
  const abs = root.abs(rel);
  let isDir = rel === '';
  if (rel === '') {
    if (entry.kind !== 'dir') throw invalidArgument('only a directory may stand for the layer root');
  } else {
    await root.ensureDir(parentOf(rel), true);
    const existing = lstatIfExists(abs);
    isDir = existing?.isDirectory() ?? false;
    // A later entry replaces an earlier one, except that a directory stays a directory.
    if (existing && !(isDir && entry.kind === 'dir')) {
      await root.remove(rel);
      isDir = false;
    }
  }
  const { uid, gid, mode } = entry;
  switch (entry.kind) {
    case 'dir':
      if (!isDir) await fsp.mkdir(abs, 0o700);
      await fsp.lchown(abs, uid, gid);
      await fsp.chmod(abs, mode);
      root.setDirTimes(rel, { atime: entry.atime ?? entry.mtime, mtime: entry.mtime });
      break;
    case 'file':
      await writeFile(abs, entry);
      break;
    case 'symlink':
      // Kept as-is, wherever it points: it is resolved inside the container at run time.
      if (entry.linkpath === '') throw invalidArgument('symlink without a target');
      await fsp.symlink(entry.linkpath, abs);
      await fsp.lchown(abs, uid, gid);
      break;
    case 'hardlink': {
      // Same inode as its target, which its own entry already gave owner, mode and xattrs.
      const target = hardlinkTarget(entry.linkpath);
      await root.ensureDir(parentOf(target), false);
      const st = lstatIfExists(root.abs(target));
      if (!st || st.isDirectory()) throw invalidArgument(`hard link target "${entry.linkpath}" is ${st ? 'a directory' : 'missing'}`);
      await fsp.link(root.abs(target), abs);
      return;
    }
    case 'char':
    case 'block':
    case 'fifo':
      await run(MKNOD, entry.kind === 'fifo' ? [abs, 'p'] : [abs, entry.kind[0]!, String(entry.devmajor), String(entry.devminor)]);
      await fsp.lchown(abs, uid, gid);
      await fsp.chmod(abs, mode); // after chown, which clears setuid/setgid
      break;
  }
  await setXattrs(abs, entry.xattrs);
  if (entry.kind !== 'dir') await fsp.lutimes(abs, entry.atime ?? entry.mtime, entry.mtime);
}

async function writeFile(abs: string, entry: TarEntry): Promise<void> {
  const file = await fsp.open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of entry.body) {
      for (let offset = 0; offset < chunk.length; ) offset += (await file.write(chunk, offset)).bytesWritten;
    }
    await file.chown(entry.uid, entry.gid);
    await file.chmod(entry.mode); // after chown, which clears setuid/setgid; explicit, so no umask
  } finally {
    await file.close();
  }
}

async function setXattrs(abs: string, xattrs: Map<string, Buffer>): Promise<void> {
  for (const [name, value] of xattrs) {
    // overlayfs metadata from an archive would forge whiteouts, redirects or metacopy files.
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
    const valueArgs = value.length > 0 ? ['-v', `0s${value.toString('base64')}`] : [];
    try {
      await run(SETFATTR, ['-h', '-n', name, ...valueArgs, abs]);
    } catch (err) {
      // As Docker: EPERM (e.g. user.* on a symlink or device) is not fatal.
      if (err instanceof ExecError && err.stderr.includes('Operation not permitted')) continue;
      throw err;
    }
  }
}

function entryError(entryPath: string, err: unknown): EngineError {
  const what = `layer entry "${entryPath}"`;
  if (EngineError.is(err)) return err.kind === 'InvalidArgument' ? invalidArgument(`${what}: ${err.message}`) : err;
  const { code, syscall, message } = err as NodeJS.ErrnoException;
  // Failures of the host (disk full, a helper program missing, a bug) are not the archive's fault.
  const hostFault = !(err instanceof ExecError) && (code === undefined || SYSTEM_ERRNOS.has(code) || Boolean(syscall?.startsWith('spawn')));
  return hostFault ? internal(`unpacking ${what}: ${message}`, err) : invalidArgument(`${what}: ${message}`);
}

async function* hashed(chunks: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}
