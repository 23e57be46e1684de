import { hostname as osHostname, cpus, totalmem, release } from 'node:os';
import { BERTH_VERSION } from '../../protocol/version.ts';
import type { SystemBackend } from '../../api/routes/system.ts';
import { containerSummary, imageSummary } from '../../api/views.ts';
import { containerSizes } from '../storage/container-size.ts';
import type { ContainerService } from '../containers/container-service.ts';
import type { ImageStore } from '../../images/image-store.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { DaemonConfig } from '../config/config.ts';
import type { RuntimeChoice } from '../host/host-runtime.ts';

export interface SystemServiceDeps {
  paths: DaemonPaths;
  config: () => DaemonConfig;
  containers: ContainerService;
  images: ImageStore;
  runtime: RuntimeChoice;
  storageDriver: string;
  cgroupMode: string;
  /** The restore-settings changes found at start, and the orphans of another data root. */
  warnings: () => string[];
}

/** The engine as a whole: info, version, disk usage, and the orphans of another data root. */
export class SystemService implements SystemBackend {
  readonly #d: SystemServiceDeps;

  constructor(deps: SystemServiceDeps) {
    this.#d = deps;
  }

  orphans(): ReturnType<SystemBackend['orphans']> {
    return this.#d.containers.orphans();
  }

  stopOrphan(id: string): Promise<void> {
    return this.#d.containers.stopOrphan(id);
  }

  async diskUsage(): Promise<Record<string, unknown>> {
    const { paths } = this.#d;
    const records = this.#d.containers.store.all();
    const images = this.#d.images.list();
    const imageSize = new Map(images.map((i) => [i.id, i.size]));
    return {
      LayersSize: images.reduce((sum, i) => sum + i.size, 0),
      Images: images.map((i) => ({ ...imageSummary(i, records.filter((r) => r.imageId === i.id).length), SharedSize: 0 })),
      Containers: await Promise.all(records.map(async (r) => ({ ...containerSummary(r, r.config.Image), ...(await containerSizes(r, paths, imageSize.get(r.imageId) ?? 0)) }))),
      Volumes: [],
      BuildCache: [],
    };
  }

  version(): { version: string; gitCommit: string; nodeVersion: string } {
    return { version: BERTH_VERSION, gitCommit: process.env.BERTH_GIT_COMMIT ?? 'unknown', nodeVersion: process.versions.node };
  }

  info(): Record<string, unknown> {
    const records = this.#d.containers.store.all();
    const count = (status: string) => records.filter((r) => r.state.Status === status).length;
    const config = this.#d.config();
    return {
      ID: 'berth',
      Containers: records.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: records.length - count('running') - count('paused'),
      Images: this.#d.images.list().length,
      Driver: this.#d.storageDriver,
      DriverStatus: [],
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: this.#d.cgroupMode === 'v2' ? '2' : '1',
      KernelVersion: release(),
      OperatingSystem: 'Linux',
      OSType: 'linux',
      Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      NCPU: cpus().length,
      MemTotal: totalmem(),
      Name: osHostname(),
      DockerRootDir: config.dataRoot,
      ServerVersion: BERTH_VERSION,
      Runtimes: { crun: { path: 'crun' }, runc: { path: 'runc' } },
      DefaultRuntime: this.#d.runtime.name,
      DefaultRuntimeReason: this.#d.runtime.reason,
      LiveRestoreEnabled: config.liveRestore,
      Labels: [],
      ExperimentalBuild: false,
      Debug: config.logLevel === 'debug',
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      RegistryConfig: registryConfig(config.insecureRegistries),
      Warnings: this.#d.warnings(),
    };
  }
}

/** Docker's RegistryConfig: loopback is always insecure (plain HTTP), plus the configured ones. */
function registryConfig(insecure: readonly string[]): Record<string, unknown> {
  const cidrs = ['127.0.0.0/8', '::1/128', ...insecure.filter((r) => r.includes('/'))];
  const hosts = insecure.filter((r) => !r.includes('/'));
  return {
    AllowNondistributableArtifactsCIDRs: null,
    AllowNondistributableArtifactsHostnames: null,
    InsecureRegistryCIDRs: cidrs,
    IndexConfigs: Object.fromEntries([
      ['docker.io', { Name: 'docker.io', Mirrors: [], Secure: true, Official: true }],
      ...hosts.map((h) => [h, { Name: h, Mirrors: [], Secure: false, Official: false }]),
    ]),
    Mirrors: null,
  };
}
