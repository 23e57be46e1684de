/**
 * On-disk schemas. Every document carries schemaVersion; readers go through migrate*() so an
 * older daemon's files keep loading.
 */

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'removing' | 'dead';

/** Running, paused or restarting: the container has a shim that owns it. */
export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused' || status === 'restarting';
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  Labels: Record<string, string>;
  Image: string;
  StopSignal?: string;
  StopTimeout?: number;
  /** Docker's HealthConfig; durations in nanoseconds. */
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  /** From the image (and the request), kept for the issues that publish ports and mount volumes. */
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

/** `--device host[:ctr[:rwm]]`, as Docker stores it. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface HostConfig {
  Binds: string[] | null;
  NetworkMode: string;
  RestartPolicy: RestartPolicy;
  LogConfig: { Type: string; Config: Record<string, string> };
  AutoRemove: boolean;
  /**
   * Confinement, as the client sent it (Docker keeps CapAdd/CapDrop unnormalized). Optional:
   * records written before these fields existed read as Docker's defaults.
   */
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  Devices?: DeviceMapping[];
  GroupAdd?: string[] | null;
  Sysctls?: Record<string, string>;
  /** Written by the docker CLI itself (--cidfile); dockerd only keeps the name. */
  ContainerIDFile?: string;
  /** As given at create (seccomp=<JSON content> included); absent in records from before it existed. */
  SecurityOpt?: string[] | null;
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  OOMKilled: boolean;
  Health?: { Status: string; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
  /** berth: json-file log lines the shim had to drop since the last start (a full disk). */
  LogDroppedLines?: number;
}

/** Where a running container's shim lives; kept so a changed exec-root or runtime cannot orphan it. */
export interface ShimLocation {
  shimPid: number;
  shimStartTime: number;
  socketPath: string;
  bundle: string;
  pidStartTime: number;
  bootId: string;
  runtime: { name: string; path: string; root: string };
  protocolVersion: string;
  /** RestartCount when this shim was launched; the shim counts its own restarts on top. */
  restartCountAtLaunch?: number;
  /** The shim state generation the daemon has taken in (protocol 1.2). */
  seenGeneration?: number;
}

export interface ContainerRecord {
  schemaVersion: 1;
  id: string;
  name: string;
  created: string;
  imageId: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  shim?: ShimLocation;
  restartCount: number;
  /** Set by an explicit stop/kill so restart policies know the user asked for it. */
  stoppedByUser: boolean;
  storageDriver: 'overlay' | 'copy';
}

export function migrateContainerRecord(raw: unknown): ContainerRecord {
  const doc = raw as { schemaVersion?: number };
  if (doc.schemaVersion === 1) return raw as ContainerRecord;
  throw new Error(`unsupported container record schemaVersion ${String(doc.schemaVersion)}`);
}

/** The parts of an image's config that `create` applies to a container. */
export type ImageContainerConfig = Partial<Pick<ContainerConfig, 'Env' | 'Cmd' | 'Entrypoint' | 'WorkingDir' | 'User' | 'Labels' | 'StopSignal' | 'Healthcheck'>> & {
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
};

/** A compressed (or plain) layer blob kept in the content store, as a manifest lists it. */
export interface LayerBlob {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageRecord {
  schemaVersion: 2;
  /** The digest of the image's config blob. */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  /** Bytes of all unpacked layers. */
  size: number;
  architecture: string;
  os: string;
  variant?: string;
  config: ImageContainerConfig;
  diffIds: string[];
  lastTagTime?: string;
}

interface ImageRecordV1 {
  schemaVersion: 1;
  id: string;
  repoTags: string[];
  created: string;
  size: number;
  architecture: string;
  os: string;
  config: ImageContainerConfig;
  diffIds: string[];
}

/** berth 0.1 kept one unpacked rootfs per image, beside its record: `legacyRootfs` says so. */
export function migrateImageRecord(raw: unknown): ImageRecord & { legacyRootfs?: true } {
  const doc = raw as { schemaVersion?: number };
  if (doc.schemaVersion === 2) return raw as ImageRecord;
  if (doc.schemaVersion === 1) {
    const v1 = raw as ImageRecordV1;
    return { ...v1, schemaVersion: 2, repoDigests: [], legacyRootfs: true };
  }
  throw new Error(`unsupported image record schemaVersion ${String(doc.schemaVersion)}`);
}

/** The daemon settings that decide whether running containers can be reattached. */
export interface RestoreSettings {
  schemaVersion: 1;
  dataRoot: string;
  execRoot: string;
  storageDriver: string;
  defaultRuntime: string;
  cgroupVersion: string;
}
