import { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import { invalidArgument } from '../../protocol/errors.ts';
import { cleanPath, ExtractionRoot, hardlinkTarget, lstatIfExists, parentOf } from './paths.ts';
import type { TarEntry } from './reader.ts';

export interface ExtractOptions {
  /** The name to give each entry (docker cp's rebase of the first element); hard link targets too. */
  rename?: (name: string) => string;
  /** Refuse to replace a directory with a non-directory or the other way round (moby's NoOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
}

/**
 * Unpacks entries into the existing directory `dir` as moby's Untar does with NoLchown: files,
 * directories, symlinks and hard links with their modes and mtimes, owned by whoever runs
 * this; devices and FIFOs are skipped. Names stay inside `dir` and nothing is written through
 * a symlink (see ExtractionRoot); an existing entry is replaced, a directory merged into.
 */
export async function extractToDirectory(dir: string, entries: AsyncIterable<TarEntry>, options: ExtractOptions = {}): Promise<void> {
  const root = new ExtractionRoot(dir);
  const rename = options.rename ?? ((name: string) => name);
  for await (const entry of entries) {
    if (entry.kind !== 'file' && entry.kind !== 'dir' && entry.kind !== 'symlink' && entry.kind !== 'hardlink') continue;
    const name = rename(entry.path);
    const rel = cleanPath(name, 'the destination directory');
    if (rel === '') continue; // '.': the destination itself, left as it is
    await root.ensureDir(parentOf(rel), true);
    const abs = root.abs(rel);
    const existing = lstatIfExists(abs);
    const isDir = entry.kind === 'dir';
    if (existing) {
      if (options.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
        throw invalidArgument(isDir
          ? `cannot overwrite non-directory "${abs}" with directory "${name}"`
          : `cannot overwrite directory "${abs}" with non-directory "${name}"`);
      }
      if (!(isDir && existing.isDirectory())) await root.remove(rel);
    }
    const atime = entry.atime ?? entry.mtime;
    switch (entry.kind) {
      case 'dir':
        if (!existing?.isDirectory()) await fsp.mkdir(abs, 0o700);
        await fsp.chmod(abs, entry.mode);
        root.setDirTimes(rel, { atime, mtime: entry.mtime });
        break;
      case 'file': {
        const file = await fsp.open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry.body) {
            for (let offset = 0; offset < chunk.length;) offset += (await file.write(chunk, offset)).bytesWritten;
          }
          await file.chmod(entry.mode);
          await file.utimes(atime, entry.mtime);
        } finally {
          await file.close();
        }
        break;
      }
      case 'symlink':
        await fsp.symlink(entry.linkpath, abs);
        await fsp.lutimes(abs, atime, entry.mtime);
        break;
      case 'hardlink': {
        const target = hardlinkTarget(rename(entry.linkpath));
        await root.ensureDir(parentOf(target), false);
        const st = lstatIfExists(root.abs(target));
        if (!st || st.isDirectory()) throw invalidArgument(`hard link target "${entry.linkpath}" is ${st ? 'a directory' : 'missing'}`);
        await fsp.link(root.abs(target), abs);
        break;
      }
    }
  }
  await root.restoreDirTimes();
}
