/** Stat of a path in a container (HEAD /containers/{id}/archive, and the header of GET). */
import { constants } from 'node:fs';
import { lstatEnd, notFound, parseContainerPath, resolvedComponents, withRoot, withWalk } from './rootfs-walk.ts';

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
