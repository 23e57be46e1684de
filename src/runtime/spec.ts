/** Builds the OCI runtime spec (config.json) for a container, with Docker's defaults. */
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
  /** Docker's default profile unless asked otherwise (`--security-opt seccomp=...`). */
  seccomp?: SeccompChoice;
  noNewPrivileges?: boolean;
}

const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

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
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (input.network === 'none') namespaces.push({ type: 'network' });
  const etcMounts = [
    { destination: '/etc/resolv.conf', source: input.etcFiles.resolvConf },
    { destination: '/etc/hostname', source: input.etcFiles.hostname },
    { destination: '/etc/hosts', source: input.etcFiles.hosts },
  ].map((m) => ({ ...m, type: 'bind', options: ['rbind', 'rprivate'] }));

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: input.uid, gid: input.gid, ...(input.additionalGids.length ? { additionalGids: input.additionalGids } : {}) },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: {
        bounding: DEFAULT_CAPABILITIES,
        effective: DEFAULT_CAPABILITIES,
        permitted: DEFAULT_CAPABILITIES,
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: input.nofileLimit, soft: input.nofileLimit }],
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // A new network namespace may mount sysfs; with the host's, bind it read-only instead.
      input.network === 'none'
        ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
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
      ...(input.cgroupsPath
        ? {
            cgroupsPath: input.cgroupsPath,
            resources: { devices: [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES] },
          }
        : {}),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
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
