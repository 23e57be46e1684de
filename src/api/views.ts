import type { ContainerRecord, ImageRecord } from '../protocol/records.ts';
import { humanDuration } from '../lib/go/units.ts';

/** Docker's JSON shapes for berth's records. */

/** What the views read of an image's config blob (the OCI image config with Docker's fields). */
export interface ImageConfigFields {
  author?: unknown;
  comment?: unknown;
  docker_version?: unknown;
  config?: Record<string, unknown>;
}

export interface ContainerPaths {
  logPath: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
  rootfs: string;
}

export function containerInspect(r: ContainerRecord, paths: ContainerPaths, imageRef: string): Record<string, unknown> {
  return {
    Id: r.id,
    Created: r.created,
    Path: r.path,
    Args: r.args,
    State: {
      Status: r.state.Status,
      Running: r.state.Status === 'running' || r.state.Status === 'paused',
      Paused: r.state.Status === 'paused',
      Restarting: r.state.Status === 'restarting',
      OOMKilled: r.state.OOMKilled,
      Dead: r.state.Status === 'dead',
      Pid: r.state.Pid,
      ExitCode: r.state.ExitCode,
      Error: r.state.Error,
      StartedAt: r.state.StartedAt,
      FinishedAt: r.state.FinishedAt,
      ...(r.state.Health ? { Health: r.state.Health } : {}),
      // berth's own: lines of the json-file log dropped since the last start because they could not be written.
      LogDroppedLines: r.state.LogDroppedLines ?? 0,
    },
    Image: r.imageId,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: paths.logPath,
    Name: `/${r.name}`,
    RestartCount: r.restartCount,
    Driver: r.storageDriver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfigView(r.hostConfig),
    GraphDriver: { Name: r.storageDriver, Data: { MergedDir: paths.rootfs } },
    Mounts: (r.hostConfig.Binds ?? []).map((bind) => {
      const [source, destination, mode = ''] = bind.split(':');
      return { Type: 'bind', Source: source, Destination: destination, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate' };
    }),
    Config: { ...r.config, Image: imageRef, Cmd: r.config.Cmd, Entrypoint: r.config.Entrypoint },
    NetworkSettings: { Networks: {}, Ports: {}, SandboxKey: '' },
  };
}

/** HostConfig as dockerd shows it: the confinement fields always present (Sysctls only when set, as Go's omitempty). */
function hostConfigView(h: ContainerRecord['hostConfig']): Record<string, unknown> {
  const { Sysctls, ...rest } = h;
  return {
    ...rest,
    ContainerIDFile: h.ContainerIDFile ?? '',
    PortBindings: {},
    CapAdd: h.CapAdd ?? null,
    CapDrop: h.CapDrop ?? null,
    GroupAdd: h.GroupAdd ?? null,
    Privileged: h.Privileged ?? false,
    ReadonlyRootfs: h.ReadonlyRootfs ?? false,
    Devices: h.Devices ?? [],
    SecurityOpt: h.SecurityOpt ?? null,
    ...(Sysctls && Object.keys(Sysctls).length ? { Sysctls } : {}),
  };
}

export function containerSummary(r: ContainerRecord, imageRef: string, now = Date.now()): Record<string, unknown> {
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: imageRef,
    ImageID: r.imageId,
    Command: [r.path, ...r.args].map(quoteIfNeeded).join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    Ports: [],
    Labels: r.config.Labels,
    State: r.state.Status,
    Status: humanStatus(r, now),
    HostConfig: { NetworkMode: r.hostConfig.NetworkMode },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

function quoteIfNeeded(arg: string): string {
  return /\s/.test(arg) ? `'${arg.replaceAll("'", `'\\''`)}'` : arg;
}

/** "Up 3 seconds", "Exited (7) 2 minutes ago", "Created": what `docker ps` shows. */
export function humanStatus(r: ContainerRecord, now = Date.now()): string {
  switch (r.state.Status) {
    case 'running': {
      const health = r.state.Health?.Status;
      const suffix = health === undefined ? '' : health === 'starting' ? ' (health: starting)' : ` (${health})`;
      return `Up ${humanDuration(now - Date.parse(r.state.StartedAt))}${suffix}`;
    }
    case 'restarting':
      return `Restarting (${r.state.ExitCode}) ${humanDuration(now - Date.parse(r.state.FinishedAt))} ago`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(r.state.StartedAt))} (Paused)`;
    case 'exited':
      return r.state.FinishedAt.startsWith('0001') ? 'Created' : `Exited (${r.state.ExitCode}) ${humanDuration(now - Date.parse(r.state.FinishedAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

export function imageSummary(image: ImageRecord, containers: number): Record<string, unknown> {
  return {
    Id: image.id,
    ParentId: '',
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Created: Math.floor(Date.parse(image.created) / 1000),
    Size: image.size,
    SharedSize: -1,
    VirtualSize: image.size,
    Labels: image.config.Labels ?? {},
    Containers: containers,
  };
}

/** Docker's image inspect document; `config` is the image's config blob, `lowerDirs` its layers top first. */
export function imageInspect(image: ImageRecord, config: ImageConfigFields, driver: { name: string; lowerDirs: string[] }): Record<string, unknown> {
  const [upper, ...lower] = driver.lowerDirs;
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: '',
    Comment: typeof config.comment === 'string' ? config.comment : '',
    Created: image.created,
    DockerVersion: typeof config.docker_version === 'string' ? config.docker_version : '',
    Author: typeof config.author === 'string' ? config.author : '',
    Config: inspectConfig(config),
    Architecture: image.architecture,
    ...(image.variant ? { Variant: image.variant } : {}),
    Os: image.os,
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: { Name: driver.name === 'copy' ? 'vfs' : 'overlay2', Data: upper ? { UpperDir: upper, ...(lower.length ? { LowerDir: lower.join(':') } : {}) } : null },
    RootFS: { Type: 'layers', Layers: image.diffIds },
    Metadata: { LastTagTime: image.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

/** Docker's Config object for inspect: every field present, as Docker prints it. */
function inspectConfig(blob: ImageConfigFields): Record<string, unknown> {
  const c = blob.config ?? {};
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
  };
}
