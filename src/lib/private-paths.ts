import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';

/** Only the daemon's user (root) may enter, list or write. */
export const PRIVATE_DIR_MODE = 0o700;
/** Only the daemon's user (root) may read or write. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes `dir` (and any missing parent) and leaves it owned by this process's user and `gid`
 * with exactly `mode`, whatever an earlier run or an operator left there. Returns true when an
 * existing directory had to be changed.
 */
export function ensureDirMode(dir: string, mode: number = PRIVATE_DIR_MODE, gid: number | undefined = undefined): boolean {
  gid ??= process.getgid!();
  mkdirSync(dir, { recursive: true, mode });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const uid = process.getuid!();
  let changed = false;
  if (st.uid !== uid || st.gid !== gid) {
    chownSync(dir, uid, gid);
    changed = true;
  }
  // After chown, which may clear setgid.
  if (changed || (st.mode & 0o7777) !== mode) {
    chmodSync(dir, mode);
    changed = true;
  }
  return changed;
}

/** Sets `path`'s mode to `mode` if it has another; a missing path is fine. Returns true when it changed one. */
export function tightenMode(path: string, mode: number = PRIVATE_FILE_MODE): boolean {
  let current: number;
  try {
    current = statSync(path).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (current === mode) return false;
  chmodSync(path, mode);
  return true;
}
