import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../../protocol/errors.ts';
import type { ContainerRecord, ImageRecord } from '../../protocol/records.ts';
import { containerCapabilities } from '../../runtime/capabilities.ts';
import { devicesFromPath, hostDevices, type DeviceRule, type LinuxDevice } from '../../runtime/devices.ts';
import { buildSpec, type BindMount } from '../../runtime/spec.ts';
import type { DaemonPaths } from '../host/paths.ts';
import { parseBind } from './create-request.ts';
import { readSmallFileInRootfs } from '../archive/archive.ts';
import { parseColonFile } from '../../lib/colon-file.ts';
import { containerSeccomp, parseSecurityOpts } from './security-opts.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../lib/private-paths.ts';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Image config + create request → the process the container runs (Docker's merge rules). */
export function resolveCommand(record: Pick<ContainerRecord, 'config'>, image: ImageRecord): { path: string; args: string[] } {
  const entrypoint = record.config.Entrypoint ?? image.config.Entrypoint ?? [];
  // An entrypoint given at create time drops the image's CMD, as in Docker.
  const cmd = record.config.Cmd ?? (record.config.Entrypoint ? [] : (image.config.Cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0 || argv[0] === '') throw invalidArgument('No command specified');
  return { path: argv[0]!, args: argv.slice(1) };
}

export function mergeEnv(imageEnv: string[] = [], containerEnv: string[]): string[] {
  const env = new Map<string, string>();
  for (const entry of [...imageEnv, ...containerEnv]) {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  return [...env.values()].filter((e) => e.includes('='));
}

/** A container's /etc/passwd and /etc/group, as colon-separated fields per line. */
export interface ContainerAccounts {
  passwd: string[][];
  group: string[][];
}

/** Account files bigger than this are refused: no real image comes near it. */
const MAX_ACCOUNT_FILE_BYTES = 1 << 20;

/**
 * Reads the container's /etc/passwd and /etc/group inside its rootfs (never through a symlink
 * to the host), without blocking on a FIFO or reading a device, size-capped.
 */
export async function readContainerAccounts(rootfs: string): Promise<ContainerAccounts> {
  const [passwd, group] = await Promise.all(['/etc/passwd', '/etc/group'].map(async (file) => {
    const content = await readSmallFileInRootfs(rootfs, file, MAX_ACCOUNT_FILE_BYTES);
    return content === undefined ? [] : parseColonFile(content.toString('utf8'));
  }));
  return { passwd: passwd!, group: group! };
}

/** "-u name[:group]" or "uid[:gid]", resolved against the container's /etc/passwd and /etc/group. */
export function resolveUser(user: string, accounts: ContainerAccounts): { uid: number; gid: number; additionalGids: number[] } {
  if (!user) return { uid: 0, gid: 0, additionalGids: [] };
  const [userPart = '', groupPart] = user.split(':');
  const { passwd, group: groups } = accounts;
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p[2] === userPart);
    if (entry) gid = Number(entry[3]);
  } else {
    const entry = passwd.find((p) => p[0] === userPart);
    if (!entry) throw invalidArgument(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = groups.find((g) => g[0] === groupPart);
      if (!entry) throw invalidArgument(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid, additionalGids: [] };
}

/**
 * --group-add: names looked up in the container's /etc/group, numbers taken as they are
 * (libcontainer's GetAdditionalGroups). With groups added, the primary gid leads the list, as in Docker.
 */
export function resolveAdditionalGroups(groupAdd: readonly string[], primaryGid: number, accounts: ContainerAccounts): number[] {
  if (groupAdd.length === 0) return [];
  const gids = groupAdd.map((name) => {
    const entry = accounts.group.find((g) => g[0] === name || g[2] === name);
    if (entry) return Number(entry[2]);
    if (/^\d+$/.test(name)) return Number(name);
    throw invalidArgument(`unable to find group ${name}: no matching entries in group file`);
  });
  return [...new Set([primaryGid, ...gids])];
}

/** The container's user with its --group-add groups: what its process and every exec run as. */
export async function resolveContainerUser(user: string, groupAdd: readonly string[], rootfs: string): Promise<{ uid: number; gid: number; additionalGids: number[] }> {
  if (!user && groupAdd.length === 0) return { uid: 0, gid: 0, additionalGids: [] };
  const accounts = await readContainerAccounts(rootfs);
  const resolved = resolveUser(user, accounts);
  const added = resolveAdditionalGroups(groupAdd, resolved.gid, accounts);
  return { ...resolved, additionalGids: [...new Set([...resolved.additionalGids, ...added])] };
}

/** The hard RLIMIT_NOFILE of this process: a spec must never ask for more (the runtime would fail with EPERM). */
export function hardNofileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? 1048576 : Math.min(Number(hard), 1048576);
}

export function writeEtcFiles(paths: DaemonPaths, record: ContainerRecord): void {
  const hostname = record.config.Hostname;
  writeFileSync(paths.containerEtc(record.id, 'hostname'), `${hostname}\n`);
  const hosts = record.hostConfig.NetworkMode === 'host' && existsSync('/etc/hosts')
    ? readFileSync('/etc/hosts', 'utf8')
    : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`;
  writeFileSync(paths.containerEtc(record.id, 'hosts'), hosts);
  const resolv = paths.containerEtc(record.id, 'resolv.conf');
  if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', resolv);
  else writeFileSync(resolv, '');
}

export async function writeBundleSpec(paths: DaemonPaths, record: ContainerRecord, image: ImageRecord, cgroupsPath: string | undefined): Promise<void> {
  const rootfs = paths.containerRootfs(record.id);
  const binds: BindMount[] = (record.hostConfig.Binds ?? []).map((spec) => {
    const bind = parseBind(spec);
    mkdirSync(bind.source, { recursive: true });
    return bind;
  });
  const security = parseSecurityOpts(record.hostConfig.SecurityOpt);
  const spec = buildSpec({
    rootfs,
    args: [record.path, ...record.args],
    env: mergeEnv(image.config.Env, record.config.Env),
    cwd: record.config.WorkingDir || image.config.WorkingDir || '/',
    ...(await resolveContainerUser(record.config.User || image.config.User || '', record.hostConfig.GroupAdd ?? [], rootfs)),
    hostname: record.config.Hostname,
    network: record.hostConfig.NetworkMode === 'host' ? 'host' : 'none',
    binds,
    etcFiles: {
      hosts: paths.containerEtc(record.id, 'hosts'),
      hostname: paths.containerEtc(record.id, 'hostname'),
      resolvConf: paths.containerEtc(record.id, 'resolv.conf'),
    },
    ...(cgroupsPath ? { cgroupsPath } : {}),
    nofileLimit: hardNofileLimit(),
    ...confinement(record),
    seccomp: containerSeccomp(security, record.hostConfig.Privileged),
    noNewPrivileges: security.noNewPrivileges,
  });
  const bundle = paths.bundle(record.id);
  mkdirSync(bundle, { recursive: true, mode: PRIVATE_DIR_MODE });
  // The spec holds the container's environment: owner-only, as every record.
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec), { mode: PRIVATE_FILE_MODE });
}

/** CapAdd/CapDrop/Privileged/ReadonlyRootfs/Devices/Sysctls → the spec's capabilities, devices and mounts (moby daemon/oci_linux.go). */
function confinement(record: ContainerRecord) {
  const host = record.hostConfig;
  const privileged = host.Privileged ?? false;
  const devices: LinuxDevice[] = privileged ? hostDevices() : [];
  const deviceRules: DeviceRule[] = [];
  for (const mapping of host.Devices ?? []) {
    // A privileged container has the host's /dev already; only renamed devices are extra.
    if (privileged && mapping.PathOnHost === mapping.PathInContainer) continue;
    const found = devicesFromPath(mapping.PathOnHost, mapping.PathInContainer, privileged ? 'rwm' : mapping.CgroupPermissions);
    devices.push(...found.devices);
    deviceRules.push(...found.rules);
  }
  return {
    capabilities: containerCapabilities(host.CapAdd ?? [], host.CapDrop ?? [], privileged),
    privileged,
    readonlyRootfs: host.ReadonlyRootfs ?? false,
    devices,
    deviceRules,
    // As dockerd: the NIS domain name through its sysctl (runc 1.1 has no domainname support).
    sysctls: { ...(record.config.Domainname ? { 'kernel.domainname': record.config.Domainname } : {}), ...host.Sysctls },
  };
}
