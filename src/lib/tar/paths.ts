import { lstatSync, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../../protocol/errors.ts';

/**
 * An archive path as a clean path relative to the directory it is extracted into ('' is that
 * directory itself). A leading '/' is contained (taken as relative, as Docker does); '..' may
 * not climb above the directory, which `within` names in the error.
 */
export function cleanPath(raw: string, within = 'the layer directory'): string {
  if (raw.includes('\0')) throw invalidArgument('path contains a NUL byte');
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) throw invalidArgument(`"${raw}" escapes ${within}`);
  }
  return parts.join('/');
}

/** The relative target of a hard link, which must name something inside the layer (or other root). */
export function hardlinkTarget(linkpath: string): string {
  if (linkpath.startsWith('/')) throw invalidArgument(`hard link target "${linkpath}" is absolute (outside the layer)`);
  const target = cleanPath(linkpath);
  if (target === '') throw invalidArgument('hard link to the layer root');
  return target;
}

export const parentOf = (rel: string) => {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
};

/** lstat, or undefined when nothing is there (or a component on the way is not a directory). */
export function lstatIfExists(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

interface Times {
  atime: Date;
  mtime: Date;
}

/**
 * The directory an archive fills (an image layer, the CLI's `cp` target). Nothing is ever
 * resolved through a symlink: every path component above an entry is lstat-ed (and
 * remembered) as a real directory before use, so a symlink from the archive can never
 * redirect a later write outside the root.
 */
export class ExtractionRoot {
  readonly dir: string;
  /** Relative paths known to be real directories, with the times to restore once all writes are done. */
  #dirs = new Map<string, Times | undefined>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  abs(rel: string): string {
    return rel === '' ? this.dir : path.join(this.dir, rel);
  }

  /** Check that every component of `rel` is a real directory, creating missing ones (0755) if `create`. */
  async ensureDir(rel: string, create: boolean): Promise<void> {
    let cur = '';
    for (const part of rel === '' ? [] : rel.split('/')) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (this.#dirs.has(cur)) continue;
      const st = lstatIfExists(this.abs(cur));
      if (st?.isSymbolicLink()) throw invalidArgument(`"${cur}" is a symlink; the archive may not write through it`);
      if (st && !st.isDirectory()) throw invalidArgument(`"${cur}" is not a directory`);
      if (!st) {
        if (!create) throw invalidArgument(`"${cur}" does not exist`);
        await fsp.mkdir(this.abs(cur));
        await fsp.chmod(this.abs(cur), 0o755);
      }
      this.#dirs.set(cur, undefined);
    }
  }

  /** Record `rel` as a directory from the archive, whose times are set last (creating children changes them). */
  setDirTimes(rel: string, times: Times | undefined): void {
    this.#dirs.set(rel, times);
  }

  /** Remove whatever is at `rel` (a directory with its contents) and forget what was known below it. */
  async remove(rel: string): Promise<void> {
    await fsp.rm(this.abs(rel), { recursive: true, force: true });
    for (const known of this.#dirs.keys()) if (known === rel || known.startsWith(`${rel}/`)) this.#dirs.delete(known);
  }

  async restoreDirTimes(): Promise<void> {
    for (const [rel, times] of this.#dirs) if (times) await fsp.lutimes(this.abs(rel), times.atime, times.mtime);
  }
}
