/**
 * Who may reach berth's state on the host: root, and nobody else. A user who can traverse the
 * data root can run the setuid binaries of image layers and of containers' writable layers as
 * root and read every container's environment (Docker's CVE-2021-41091); the exec root holds
 * the shim sockets, each of which controls a container. Both are made so here at every start,
 * whatever an older berth or an operator left, before anything is served.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDirMode, PRIVATE_DIR_MODE, tightenMode } from '../../lib/private-paths.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DaemonPaths } from './paths.ts';

/** The data root itself: 0700, this process's user and group. Before the lock, which lives in it. */
export function secureDataRootDir(paths: DaemonPaths): boolean {
  return ensureDirMode(paths.dataRoot);
}

/**
 * The stores below the data root, 0700 each, and — for the records an older berth wrote 0644
 * (the data root's own mode already hides them; this is depth) — each container's and image's
 * directory and records, 0700 and 0600. Layer and blob contents are left as they are: only
 * digests, and below 0700 directories.
 */
export function secureDataRootContents(paths: DaemonPaths, log: Logger): void {
  let fixed = 0;
  for (const dir of [paths.containersDir, paths.images.imagesDir, paths.images.layersDir, paths.images.contentDir, paths.tmpDir]) {
    if (ensureDirMode(dir)) fixed++;
  }
  for (const file of [paths.settingsFile, paths.eventsJournal]) {
    if (tightenMode(file)) fixed++;
  }
  for (const id of subdirectories(paths.containersDir)) {
    if (tightenMode(paths.containerDir(id), PRIVATE_DIR_MODE)) fixed++;
    for (const file of [paths.containerRecord(id), paths.containerExit(id), join(paths.containerDir(id), 'execs.json')]) {
      if (tightenMode(file)) fixed++;
    }
  }
  for (const id of subdirectories(paths.images.imagesDir)) {
    if (tightenMode(paths.images.imageDir(id), PRIVATE_DIR_MODE)) fixed++;
    if (tightenMode(paths.images.imageRecord(id))) fixed++;
  }
  if (fixed) log.info({ fixed }, 'tightened modes under the data root (left by an older berth or by hand)');
}

/**
 * The exec root: 0700, or 0710 with the API socket's group (`socketGid`) so that group can
 * reach a socket inside it (the default one is); what is inside stays 0700, shim sockets 0600.
 */
export function secureExecRoot(paths: DaemonPaths, socketGid: number | undefined, log: Logger): void {
  let fixed = 0;
  if (ensureDirMode(paths.execRoot, socketGid === undefined ? PRIVATE_DIR_MODE : 0o710, socketGid)) fixed++;
  for (const dir of [paths.bundlesDir, paths.shimSocketsDir, paths.runtimesDir]) {
    if (ensureDirMode(dir)) fixed++;
  }
  // Sockets of shims an older berth started; a new shim makes its own 0600.
  for (const name of readdirSync(paths.shimSocketsDir)) {
    if (tightenMode(join(paths.shimSocketsDir, name))) fixed++;
  }
  if (fixed) log.info({ fixed }, 'set owners and modes under the exec root');
}

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}
