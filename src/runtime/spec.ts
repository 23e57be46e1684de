/** Builds the OCI runtime spec (config.json) for a container, with Docker's defaults. */
import { DEFAULT_CAPABILITIES } from './capabilities.ts';
import type { DeviceRule, LinuxDevice } from './devices.ts';
import { specSeccomp, type SeccompChoice } from './seccomp/spec-seccomp.ts';

export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  network: 'none' | 'host';
  binds: BindMount[];
  /** Files the engine generates and bind-mounts over /etc/{hosts,hostname,resolv.conf}. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  /** cgroup path (cgroupfs style); omitted where the runtime cannot manage cgroups on this host. */
  cgroupsPath?: string;
  nofileLimit: number;
  /** Capabilities the process gets (bounding, effective, permitted); Docker's defaults when omitted. */
  capabilities?: readonly string[];
  /**
   * --privileged: no masked or read-only /proc paths, /sys read-write, every device allowed.
   * (The caller passes all capabilities and the host's devices.) A privileged container runs
   * without seccomp: the seccomp profile must be left out when this is true.
   */
  privileged?: boolean;
  /** --read-only: the root filesystem and every mount but /proc and /dev* read-only. */
  readonlyRootfs?: boolean;
  /** Device nodes created in the container (--device, or the host's for --privileged). */
  devices?: readonly LinuxDevice[];
  /** Device cgroup rules after Docker's defaults (--device); ignored for a privileged container. */
  deviceRules?: readonly DeviceRule[];
  /** Namespaced kernel parameters (--sysctl), already validated. */
  sysctls?: Readonly<Record<string, string>>;
  /** Docker's default profile unless asked otherwise (`--security-opt seccomp=...`). */
  seccomp?: SeccompChoice;
  noNewPrivileges?: boolean;
}

const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function buildSpec(input: SpecInput): Record<string, unknown> {
  return withSecurityOptions(baseSpec(input), input);
}

/**
 * seccomp is resolved against the bounding set the spec ended up with, so a capability added to
 * the spec also allows the syscalls Docker's profile gates on it.
 */
function withSecurityOptions(spec: BaseSpec, input: SpecInput): BaseSpec {
  spec.process.noNewPrivileges = input.noNewPrivileges ?? false;
  const seccomp = specSeccomp(input.seccomp ?? { kind: 'builtin' }, spec.process.capabilities.bounding);
  if (seccomp) spec.linux.seccomp = seccomp;
  return spec;
}

type BaseSpec = ReturnType<typeof baseSpec> & { linux: { seccomp?: unknown } };

function baseSpec(input: SpecInput) {
  const privileged = input.privileged ?? false;
  const readonlyRootfs = input.readonlyRootfs ?? false;
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (input.network === 'none') namespaces.push({ type: 'network' });
  const etcMounts = [
    { destination: '/etc/resolv.conf', source: input.etcFiles.resolvConf },
    { destination: '/etc/hostname', source: input.etcFiles.hostname },
    { destination: '/etc/hosts', source: input.etcFiles.hosts },
  ].map((m) => ({ ...m, type: 'bind', options: ['rbind', 'rprivate', ...(readonlyRootfs ? ['ro'] : [])] }));
  const capabilities = input.capabilities ?? DEFAULT_CAPABILITIES;
  const sysfsOptions = ['nosuid', 'noexec', 'nodev', ...(privileged ? [] : ['ro'])];
  const deviceRules = privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES, ...(input.deviceRules ?? [])];

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: input.uid, gid: input.gid, ...(input.additionalGids.length ? { additionalGids: input.additionalGids } : {}) },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: input.nofileLimit, soft: input.nofileLimit }],
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: readonlyRootfs },
    hostname: input.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // A new network namespace may mount sysfs; with the host's, bind it read-only instead.
      input.network === 'none'
        ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysfsOptions }
        : { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', ...sysfsOptions] },
      ...etcMounts,
      ...input.binds.map((b) => ({
        destination: b.destination,
        type: 'bind',
        source: b.source,
        options: ['rbind', 'rprivate', ...(b.readOnly ? ['ro'] : [])],
      })),
    ],
    linux: {
      namespaces,
      ...(input.devices?.length ? { devices: input.devices } : {}),
      ...(input.cgroupsPath ? { cgroupsPath: input.cgroupsPath, resources: { devices: deviceRules } } : {}),
      ...(input.sysctls && Object.keys(input.sysctls).length ? { sysctl: input.sysctls } : {}),
      maskedPaths: privileged ? [] : MASKED_PATHS,
      readonlyPaths: privileged ? [] : READONLY_PATHS,
    },
  };
}

const DEFAULT_DEVICE_RULES = [
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts
];
