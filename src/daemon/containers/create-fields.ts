/**
 * Every field of the Engine API 1.47 create body (ContainerConfig, HostConfig with its
 * Resources, NetworkingConfig) and what berth does with it: `honoured` fields are parsed and
 * applied by create-request.ts; `default-only` fields are accepted only at the value dockerd
 * treats as "not set" (the docker CLI and dockerode send those zero values on every create)
 * and refused otherwise, naming the field. Keys outside the API schema are ignored, as
 * dockerd's JSON decoding ignores them. create-fields.test.ts checks this table covers
 * test/fixtures/engine-api-1.47-create-fields.json, so a field cannot slip through unlisted.
 */
import { EngineError, type ErrorKind } from '../../protocol/errors.ts';

export type CreateSection = 'Config' | 'HostConfig' | 'NetworkingConfig';

export type FieldTreatment =
  | { status: 'honoured' }
  | {
      status: 'default-only';
      /** NotImplemented: berth lacks the feature; InvalidArgument: dockerd on Linux refuses it too. */
      kind: Extract<ErrorKind, 'NotImplemented' | 'InvalidArgument'>;
      why: string;
      /** The values that mean "not set"; `isUnset` when omitted. */
      isDefault?: (value: unknown) => boolean;
    };

const HONOURED: FieldTreatment = { status: 'honoured' };
const notYet = (why: string, isDefault?: (value: unknown) => boolean): FieldTreatment => ({ status: 'default-only', kind: 'NotImplemented', why: `${why} not supported by berth yet`, ...(isDefault ? { isDefault } : {}) });
const notOnLinux = (why: string, isDefault?: (value: unknown) => boolean): FieldTreatment => ({ status: 'default-only', kind: 'InvalidArgument', why, ...(isDefault ? { isDefault } : {}) });

/** Not set: JSON null, false, 0, "", [] or {} (a map with entries is set, whatever they hold). */
export function isUnset(value: unknown): boolean {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.keys(value).length === 0;
  return isZero(value);
}

/** Go's zero value of a struct as JSON: null, false, 0, "", [], or an object of zero values. */
export function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isZero);
  return false;
}

const oneOf = (...values: unknown[]) => (value: unknown) => value === undefined || value === null || values.includes(value);
/** MaskedPaths/ReadonlyPaths: null keeps Docker's lists; [] would clear them (`systempaths=unconfined`). */
const nullOnly = (value: unknown) => value === undefined || value === null;
/** The docker CLI names the container's network mode with empty endpoint settings. */
const BERTH_NETWORKS = ['default', 'bridge', 'none', 'host'];
const plainEndpoints = (value: unknown) =>
  isUnset(value) || (typeof value === 'object' && !Array.isArray(value) && Object.entries(value as object).every(([network, settings]) => BERTH_NETWORKS.includes(network) && isZero(settings)));

export const CREATE_FIELDS: Record<CreateSection, Record<string, FieldTreatment>> = {
  Config: {
    Hostname: HONOURED,
    Domainname: HONOURED,
    User: HONOURED,
    AttachStdin: HONOURED,
    AttachStdout: HONOURED,
    AttachStderr: HONOURED,
    ExposedPorts: HONOURED,
    Tty: notYet('TTY containers (-t) are'),
    OpenStdin: notYet('interactive containers (-i) are'),
    StdinOnce: notYet('closing stdin after the first attach (-i) is'),
    Env: HONOURED,
    Cmd: HONOURED,
    Healthcheck: HONOURED,
    ArgsEscaped: notOnLinux('ArgsEscaped is only for Windows containers'),
    Image: HONOURED,
    Volumes: notYet('anonymous volumes (-v /path) are'),
    WorkingDir: HONOURED,
    Entrypoint: HONOURED,
    NetworkDisabled: notYet('disabling the network this way (use --network none) is'),
    MacAddress: notYet('setting a MAC address is'),
    OnBuild: notYet('ONBUILD triggers are'),
    Labels: HONOURED,
    StopSignal: HONOURED,
    StopTimeout: HONOURED,
    Shell: notYet('a container Shell is'),
  },
  HostConfig: {
    // Resources
    CpuShares: notYet('CPU shares (--cpu-shares) are'),
    Memory: notYet('memory limits (--memory) are'),
    CgroupParent: notYet('a per-container cgroup parent is'),
    BlkioWeight: notYet('block IO weights are'),
    BlkioWeightDevice: notYet('block IO weights are'),
    BlkioDeviceReadBps: notYet('block IO limits are'),
    BlkioDeviceWriteBps: notYet('block IO limits are'),
    BlkioDeviceReadIOps: notYet('block IO limits are'),
    BlkioDeviceWriteIOps: notYet('block IO limits are'),
    CpuPeriod: notYet('CPU CFS limits are'),
    CpuQuota: notYet('CPU CFS limits are'),
    CpuRealtimePeriod: notYet('CPU realtime limits are'),
    CpuRealtimeRuntime: notYet('CPU realtime limits are'),
    CpusetCpus: notYet('cpusets (--cpuset-cpus) are'),
    CpusetMems: notYet('cpusets (--cpuset-mems) are'),
    Devices: HONOURED,
    DeviceCgroupRules: notYet('device cgroup rules (--device-cgroup-rule) are'),
    DeviceRequests: notYet('device requests (--gpus) are'),
    KernelMemoryTCP: notYet('kernel TCP memory limits are'),
    MemoryReservation: notYet('memory reservations are'),
    // -1 with no memory limit is "unlimited swap", what a container has anyway.
    MemorySwap: notYet('swap limits (--memory-swap) are', oneOf(0, -1)),
    // The docker CLI sends -1 for "not set"; 0 is a real swappiness.
    MemorySwappiness: notYet('memory swappiness is', oneOf(-1)),
    NanoCpus: notYet('CPU limits (--cpus) are'),
    OomKillDisable: notYet('disabling the OOM killer is'),
    Init: notYet('an init process (--init) is'),
    // 0 and -1 both mean unlimited.
    PidsLimit: notYet('PID limits (--pids-limit) are', oneOf(0, -1)),
    Ulimits: notYet('ulimits (--ulimit) are'),
    CpuCount: notOnLinux('CpuCount is only for Windows containers'),
    CpuPercent: notOnLinux('CpuPercent is only for Windows containers'),
    IOMaximumIOps: notOnLinux('IOMaximumIOps is only for Windows containers'),
    IOMaximumBandwidth: notOnLinux('IOMaximumBandwidth is only for Windows containers'),
    // HostConfig proper
    Binds: HONOURED,
    // The docker CLI writes the file itself; dockerd only keeps the name.
    ContainerIDFile: HONOURED,
    LogConfig: HONOURED,
    NetworkMode: HONOURED,
    PortBindings: notYet('publishing ports (-p) is'),
    RestartPolicy: HONOURED,
    AutoRemove: HONOURED,
    VolumeDriver: notYet('volume drivers are'),
    VolumesFrom: notYet('--volumes-from is'),
    Mounts: notYet('--mount (use -v HOST:CTR) is'),
    ConsoleSize: notYet('a console size (it needs a TTY) is', (v) => isUnset(v) || (Array.isArray(v) && v.every((n) => n === 0))),
    Annotations: notYet('OCI annotations are'),
    CapAdd: HONOURED,
    CapDrop: HONOURED,
    // berth makes no cgroup namespace: the container sees the host's, as dockerd's "host" mode.
    CgroupnsMode: notYet('a private cgroup namespace (--cgroupns private) is', oneOf('', 'host')),
    Dns: notYet('--dns is'),
    DnsOptions: notYet('--dns-option is'),
    DnsSearch: notYet('--dns-search is'),
    ExtraHosts: notYet('--add-host is'),
    GroupAdd: HONOURED,
    // Every container has its own IPC namespace: dockerd's "private".
    IpcMode: notYet('IPC modes other than private are', oneOf('', 'private')),
    Cgroup: notYet('joining another cgroup (--cgroup) is'),
    Links: notYet('links (--link) are'),
    OomScoreAdj: notYet('--oom-score-adj is'),
    PidMode: notYet('PID modes (--pid) are'),
    Privileged: HONOURED,
    PublishAllPorts: notYet('publishing ports (-P) is'),
    ReadonlyRootfs: HONOURED,
    // Parsed on branch sec/seccomp (no-new-privileges, seccomp=…), which makes it honoured.
    SecurityOpt: HONOURED,
    StorageOpt: notYet('storage options (--storage-opt) are'),
    Tmpfs: notYet('--tmpfs is'),
    UTSMode: notYet('UTS modes (--uts) are'),
    UsernsMode: notYet('user namespace modes (--userns) are'),
    ShmSize: notYet('a /dev/shm size (--shm-size) is'),
    Sysctls: HONOURED,
    Runtime: notYet('choosing a runtime per container (--runtime) is'),
    Isolation: notOnLinux('isolation technologies other than default are only for Windows', oneOf('', 'default')),
    MaskedPaths: notYet('changing the masked paths is', nullOnly),
    ReadonlyPaths: notYet('changing the read-only paths is', nullOnly),
  },
  NetworkingConfig: {
    EndpointsConfig: notYet('per-network endpoint settings (aliases, IP addresses, links, MAC addresses) are', plainEndpoints),
  },
};

function refuse(section: CreateSection, body: Record<string, unknown>): void {
  for (const [name, treatment] of Object.entries(CREATE_FIELDS[section])) {
    if (treatment.status === 'honoured' || !(name in body)) continue;
    const value = body[name];
    if ((treatment.isDefault ?? isUnset)(value)) continue;
    const prefix = section === 'Config' ? '' : `${section}.`;
    throw new EngineError(treatment.kind, `${prefix}${name}: ${treatment.why} (got ${describe(value)})`);
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Refuses any known field berth does not implement that is set to a non-default value. */
export function refuseUnsupportedFields(body: Record<string, unknown>): void {
  refuse('Config', body);
  for (const section of ['HostConfig', 'NetworkingConfig'] as const) {
    const value = body[section];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) refuse(section, value as Record<string, unknown>);
  }
}
