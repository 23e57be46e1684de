/** Host device nodes for a container spec, found as Docker finds them (moby oci/devices_linux.go, containerd HostDevices). */
import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

/** An OCI `linux.devices` entry: the node the runtime creates in the container. */
export interface LinuxDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** An OCI `linux.resources.devices` entry (device cgroup rule). */
export interface DeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

const S_IFMT = 0o170000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;

/** The device at `path` (not following a final symlink), or undefined when it is not a block or character device. */
function deviceAt(path: string): Omit<LinuxDevice, 'path'> | undefined {
  const st: BigIntStats = lstatSync(path, { bigint: true });
  const format = st.mode & S_IFMT;
  if (format !== S_IFCHR && format !== S_IFBLK) return undefined;
  const rdev = st.rdev;
  // glibc's gnu_dev_major/minor: the 64-bit dev_t splits each number in two parts.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn & 0xffffffffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn & 0xffffffffn));
  return { type: format === S_IFCHR ? 'c' : 'b', major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/**
 * `--device host[:ctr[:perms]]`: the device (or every device below a directory) with its
 * cgroup rules. Throws dockerd's error when the host path is neither.
 */
export function devicesFromPath(pathOnHost: string, pathInContainer: string, permissions: string): { devices: LinuxDevice[]; rules: DeviceRule[] } {
  let resolved = pathOnHost;
  try {
    if (lstatSync(pathOnHost).isSymbolicLink()) resolved = realpathSync(pathOnHost);
  } catch {
    // Reported below with the lstat error.
  }
  const devices: LinuxDevice[] = [];
  let reason: string;
  try {
    const device = deviceAt(resolved);
    if (device) devices.push({ ...device, path: pathInContainer });
    reason = 'not a device node';
  } catch (err) {
    reason = errnoText(err);
  }
  if (devices.length === 0 && reason === 'not a device node' && isDirectory(resolved)) {
    for (const [hostPath, device] of walkDevices(resolved)) devices.push({ ...device, path: pathInContainer + hostPath.slice(resolved.length) });
  }
  if (devices.length === 0) throw new Error(`error gathering device information while adding custom device "${pathOnHost}": ${reason}`);
  return { devices, rules: devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: permissions })) };
}

/** Every device under /dev, as a privileged container gets them (pts, shm, mqueue, fd and console left out). */
export function hostDevices(): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(entry.name)) visit(path);
        continue;
      }
      if (entry.name === 'console') continue;
      try {
        const device = deviceAt(path);
        if (device) out.push({ ...device, path });
      } catch {
        // Gone while we looked.
      }
    }
  };
  visit('/dev');
  return out;
}

function* walkDevices(dir: string): Generator<[string, Omit<LinuxDevice, 'path'>]> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkDevices(path);
    else {
      try {
        const device = deviceAt(path);
        if (device) yield [path, device];
      } catch {
        // Skipped, as Docker's walk skips what it cannot stat.
      }
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Go's text for an errno ("no such file or directory"), which dockerd's message carries. */
function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const texts: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links' };
  return (code && texts[code]) ?? (err as Error).message;
}
