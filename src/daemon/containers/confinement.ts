/**
 * Create-time checks for the HostConfig fields that confine a container: CapAdd/CapDrop,
 * Devices, GroupAdd and Sysctls (Privileged and ReadonlyRootfs are plain booleans). What they
 * become in the OCI spec is decided at start (process-setup.ts).
 */
import { isAbsolute } from 'node:path';
import { invalidArgument } from '../../protocol/errors.ts';
import type { DeviceMapping } from '../../protocol/records.ts';
import { normalizeCapabilities } from '../../runtime/capabilities.ts';
import { devicesFromPath } from '../../runtime/devices.ts';

export function validateCapabilities(capAdd: readonly string[], capDrop: readonly string[]): void {
  normalizeCapabilities(capAdd, 'CapAdd');
  normalizeCapabilities(capDrop, 'CapDrop');
}

/** "r", "rw", "rwm", "mw"…: each of r, w, m at most once. */
export function isDeviceMode(mode: string): boolean {
  return mode !== '' && /^[rwm]+$/.test(mode) && new Set(mode).size === mode.length;
}

/**
 * HostConfig.Devices → Docker's DeviceMapping list with the docker CLI's defaults filled in
 * (container path = host path, permissions rwm), each host device checked to exist now.
 */
export function parseDevices(raw: unknown): DeviceMapping[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidArgument('json: cannot unmarshal HostConfig.Devices: must be a list of DeviceMapping objects');
  return raw.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalidArgument('json: cannot unmarshal HostConfig.Devices: must be a list of DeviceMapping objects');
    const item = entry as Record<string, unknown>;
    for (const key of ['PathOnHost', 'PathInContainer', 'CgroupPermissions']) {
      if (item[key] !== undefined && item[key] !== null && typeof item[key] !== 'string') throw invalidArgument(`json: cannot unmarshal HostConfig.Devices.${key}: must be a string`);
    }
    const pathOnHost = (item.PathOnHost as string | undefined) ?? '';
    const mapping: DeviceMapping = {
      PathOnHost: pathOnHost,
      PathInContainer: (item.PathInContainer as string | undefined) || pathOnHost,
      CgroupPermissions: (item.CgroupPermissions as string | undefined) || 'rwm',
    };
    if (!isAbsolute(mapping.PathOnHost)) throw invalidArgument(`invalid HostConfig.Devices: the host path "${mapping.PathOnHost}" must be absolute`);
    if (!isAbsolute(mapping.PathInContainer)) throw invalidArgument(`invalid HostConfig.Devices: bad format for path: ${mapping.PathInContainer}`);
    if (!isDeviceMode(mapping.CgroupPermissions)) throw invalidArgument(`invalid HostConfig.Devices: invalid device mode: ${mapping.CgroupPermissions}`);
    try {
      devicesFromPath(mapping.PathOnHost, mapping.PathInContainer, mapping.CgroupPermissions);
    } catch (err) {
      throw invalidArgument((err as Error).message);
    }
    return mapping;
  });
}

const MAX_GID = 2 ** 31 - 1;

/** Names are resolved at start in the container's /etc/group; numbers must be valid gids. */
export function validateGroupAdd(groups: readonly string[]): void {
  for (const group of groups) {
    if (/^\d+$/.test(group)) {
      if (Number(group) > MAX_GID) throw invalidArgument(`invalid HostConfig.GroupAdd: group ID ${group} is out of range`);
    } else if (group === '' || /[:\n]/.test(group)) {
      throw invalidArgument(`invalid HostConfig.GroupAdd: invalid group name ${JSON.stringify(group)}`);
    }
  }
}

/** The IPC sysctls that are namespaced (the docker CLI's ValidateSysctl list). */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/**
 * Only sysctls the container's own namespaces scope: the IPC ones, fs.mqueue.*, and net.*
 * when the container has its own network namespace (not --network host).
 */
export function validateSysctls(sysctls: Readonly<Record<string, string>>, networkMode: string): void {
  for (const key of Object.keys(sysctls)) {
    // runc writes /proc/sys/<key with dots as slashes>: a slash or empty part could walk elsewhere.
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(key)) throw invalidArgument(`invalid HostConfig.Sysctls: sysctl '${key}' is not a valid name`);
    if (key.startsWith('net.')) {
      if (networkMode === 'host') throw invalidArgument(`invalid HostConfig.Sysctls: sysctl '${key}' is not allowed in host network mode: the container shares the host's network namespace`);
      continue;
    }
    if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) continue;
    throw invalidArgument(`invalid HostConfig.Sysctls: sysctl '${key}' is not allowed: only namespaced sysctls can be set (${IPC_SYSCTLS.join(', ')}, fs.mqueue.*, net.*)`);
  }
}
