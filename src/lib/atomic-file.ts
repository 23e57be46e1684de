import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Write a file so that a crash at any instruction leaves either the old or the new content:
 * temp file in the same directory, write, fsync, rename, fsync the directory. Owner-only
 * unless `mode` says otherwise: records carry secrets (a container's environment).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Like readJson, but a missing file is `undefined`. */
export function readJsonIfExists<T>(path: string): T | undefined {
  try {
    return readJson<T>(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Delete a directory by renaming it to a dot-name first, so scanners never see it half-deleted. */
export function removeDirAtomic(path: string): void {
  const hidden = join(dirname(path), `.${basename(path)}.deleting`);
  try {
    renameSync(path, hidden);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  fsyncDir(dirname(path));
  rmSync(hidden, { recursive: true, force: true });
}

/**
 * Remove what a crash can leave of writeFileAtomic and removeDirAtomic in `dir`: temporary
 * files and half-deleted directories (both dot-names). Returns how many were removed.
 */
export function sweepLeftovers(dir: string): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (name.startsWith('.') && (name.endsWith('.tmp') || name.endsWith('.deleting'))) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
