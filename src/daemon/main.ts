/** berthd: the composition root. Flags + daemon.json → lock → restore → API. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { EngineError } from '../protocol/errors.ts';
import type { RestoreSettings } from '../protocol/records.ts';
import { readJsonIfExists, writeJsonAtomic } from '../lib/atomic-file.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { createApiServer, listenUnix } from '../api/server.ts';
import { Router } from '../api/router.ts';
import { containerRoutes } from '../api/routes/containers.ts';
import { imageRoutes } from '../api/routes/images.ts';
import { systemRoutes } from '../api/routes/system.ts';
import { DEFAULTS, mergeConfig, readConfigFile, RELOADABLE_KEYS, type DaemonConfig, type FlagValues } from './config.ts';
import { DaemonLock } from './host/daemon-lock.ts';
import { DaemonPaths } from './host/paths.ts';
import { secureDataRootContents, secureDataRootDir, secureExecRoot } from './host/private-roots.ts';
import { resolveSocketGroup } from './host/socket-group.ts';
import { PRIVATE_DIR_MODE } from '../lib/private-paths.ts';
import { ContainerStore } from './containers/container-store.ts';
import { ImageStore } from '../images/image-store.ts';
import { RootfsStorage } from './storage/storage.ts';
import { cgroupMode, chooseRuntime } from './host/host-runtime.ts';
import { ContainerService } from './containers/container-service.ts';
import { EventBus } from './events/events.ts';
import { BERTH_VERSION, containersBackend, eventsBackend, execBackend, systemBackend } from './backends.ts';
import { imagesBackend } from './images/image-service.ts';
import { ExecService } from './containers/exec-service.ts';
import { execRoutes } from '../api/routes/exec.ts';
import { eventRoutes } from '../api/routes/events.ts';
import { SignalGate } from './host/signals.ts';

function parseFlags(argv: string[]): { flags: FlagValues; configFile: string; configFileGiven: boolean } {
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const program = new Command('berthd')
    .description('berth daemon: a container engine whose containers outlive it')
    .version(BERTH_VERSION)
    .option('--data-root <dir>', `persistent state (default ${DEFAULTS.dataRoot})`)
    .option('--exec-root <dir>', `runtime state (default ${DEFAULTS.execRoot})`)
    .option('-H, --host <unix:///path>', `API socket (default ${DEFAULTS.host})`, collect)
    .option('--config-file <file>', `daemon configuration file (default ${DEFAULTS.configFile})`)
    .option('--live-restore', 'keep containers running while the daemon is down')
    .option('-p, --pidfile <file>', 'daemon pid file')
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'fatal']))
    .option('--default-runtime <name>', 'OCI runtime for containers (crun|runc)')
    .option('--log-opt <key=value>', 'default json-file log options', collect)
    .addOption(new Option('-s, --storage-driver <driver>', 'overlay or copy').choices(['overlay', 'copy']))
    .option('--insecure-registry <host>', 'a registry reached over plain HTTP (host[:port] or CIDR); repeatable', collect)
    .option('--max-concurrent-downloads <n>', 'layers downloaded at once per pull')
    .option('--max-concurrent-uploads <n>', 'layers uploaded at once per push')
    .option('-G, --group <group>', 'group (name or gid) that may use the API socket besides root; none by default')
    .allowExcessArguments(false)
    .parse(argv, { from: 'user' });
  const opts = program.opts<Record<string, string | string[] | boolean | undefined>>();
  const flags: FlagValues = {
    'data-root': opts.dataRoot as string | undefined,
    'exec-root': opts.execRoot as string | undefined,
    host: opts.host as string[] | undefined,
    'live-restore': opts.liveRestore as boolean | undefined,
    pidfile: opts.pidfile as string | undefined,
    'log-level': opts.logLevel as string | undefined,
    'default-runtime': opts.defaultRuntime as string | undefined,
    'log-opt': opts.logOpt as string[] | undefined,
    'storage-driver': opts.storageDriver as string | undefined,
    'insecure-registry': opts.insecureRegistry as string[] | undefined,
    'max-concurrent-downloads': opts.maxConcurrentDownloads as string | undefined,
    'max-concurrent-uploads': opts.maxConcurrentUploads as string | undefined,
    group: opts.group as string | undefined,
  };
  const configFile = (opts.configFile as string | undefined) ?? DEFAULTS.configFile;
  return { flags, configFile, configFileGiven: opts.configFile !== undefined };
}

/** The shim bundle sits beside the daemon bundle in dist/. */
function shimEntry(): string {
  return process.env.BERTH_SHIM_ENTRY ?? join(dirname(fileURLToPath(import.meta.url)), 'berth-shim.js');
}

async function main(): Promise<void> {
  // Before anything else: Node's default for these signals is to exit on the spot.
  const signals = new SignalGate(['SIGTERM', 'SIGINT', 'SIGHUP']);
  const { flags, configFile, configFileGiven } = parseFlags(process.argv.slice(2));
  let config: DaemonConfig = mergeConfig(flags, readConfigFile(configFile, configFileGiven), configFile);
  config = { ...config, dataRoot: resolve(config.dataRoot), execRoot: resolve(config.execRoot) };
  const log = createLogger('berthd', config.logLevel);
  // A bug in one request must never take down the daemon (and with it every API client).
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const paths = new DaemonPaths(config.dataRoot, config.execRoot);
  // An unknown group stops the daemon here, before it has changed anything.
  const socketGid = config.group === undefined ? undefined : await resolveSocketGroup(config.group);
  secureDataRootDir(paths);
  const lock = DaemonLock.acquire(paths.lockFile);
  // Only this daemon uses tmp/ (under the lock): whatever is there is a crashed import's leftover.
  rmSync(paths.tmpDir, { recursive: true, force: true });
  mkdirSync(paths.tmpDir, { mode: PRIVATE_DIR_MODE });
  secureDataRootContents(paths, log);
  secureExecRoot(paths, socketGid, log);
  const pidFile = config.pidFile ?? paths.defaultPidFile;
  writeFileSync(pidFile, `${process.pid}\n`);

  const mode = cgroupMode();
  const runtimeChoice = chooseRuntime(config.defaultRuntime, config.runtimes, mode);
  const storage = await RootfsStorage.detect(paths.tmpDir, config.storageDriver);
  const warnings = checkRestoreSettings(paths, {
    schemaVersion: 1,
    dataRoot: config.dataRoot,
    execRoot: config.execRoot,
    storageDriver: storage.driver,
    defaultRuntime: runtimeChoice.name,
    cgroupVersion: mode,
  }, log);

  const store = new ContainerStore(paths, log);
  store.load(log);
  const images = new ImageStore(paths.images);
  images.load(log);
  const events = new EventBus(paths.eventsJournal, log);
  // A reload during restore is safe: restore reads live-restore when it gets to the stop.
  signals.handle('SIGHUP', () => {
    try {
      const next = mergeConfig(flags, readConfigFile(configFile, configFileGiven), configFile);
      const fields = { 'live-restore': 'liveRestore', 'log-level': 'logLevel', 'log-opts': 'logOpts', 'insecure-registries': 'insecureRegistries', 'max-concurrent-downloads': 'maxConcurrentDownloads', 'max-concurrent-uploads': 'maxConcurrentUploads' } as const;
      const changed = RELOADABLE_KEYS.filter((key) => JSON.stringify(next[fields[key]]) !== JSON.stringify(config[fields[key]]));
      config = { ...config, ...Object.fromEntries(RELOADABLE_KEYS.map((key) => [fields[key], next[fields[key]]])) };
      log.level = config.logLevel;
      if (next.group !== config.group) log.warn({ running: config.group ?? null, configured: next.group ?? null }, 'group is not reloadable: restart berthd to give the API socket to another group');
      log.info({ liveRestore: config.liveRestore, logLevel: config.logLevel, logOpts: config.logOpts, changed }, 'configuration reloaded');
      events.publish('daemon', 'reload', 'berth', { 'live-restore': String(config.liveRestore), 'log-level': config.logLevel });
    } catch (err) {
      log.error({ err: EngineError.from(err).message }, 'configuration reload failed; keeping the running configuration');
    }
  });
  const service = new ContainerService({
    events,
    paths,
    store,
    images,
    storage,
    runtime: { name: runtimeChoice.name, path: runtimeChoice.path, root: paths.runtimeRoot(runtimeChoice.name) },
    shimBinary: { node: process.execPath, entry: shimEntry() },
    cgroupParent: runtimeChoice.useCgroups ? '/berth' : undefined,
    log: log.child({ module: 'containers' }),
    daemonLogOpts: () => config.logOpts,
  });

  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const router = new Router();
  systemRoutes(router, systemBackend({ paths, config: () => config, service, images, runtime: runtimeChoice, storageDriver: storage.driver, cgroupMode: mode, warnings: () => [...warnings, ...service.orphans().map((o) => o.message)] }));
  containerRoutes(router, containersBackend(service, images, paths));
  imageRoutes(router, imagesBackend({ images, service, events, paths, config: () => config, storageDriver: storage.driver }));
  const execs = new ExecService({ containers: service, images, paths, events, log: log.child({ module: 'exec' }) });
  execRoutes(router, execBackend(execs));
  eventRoutes(router, eventsBackend(events));
  const server = createApiServer({ router, log, ready });
  const socketPaths = config.hosts.map((h) => h.slice('unix://'.length));
  for (const socketPath of socketPaths) await listenUnix(server, socketPath, { gid: socketGid });

  let restored!: () => void;
  const restoreDone = new Promise<void>((r) => (restored = r));
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal, liveRestore: config.liveRestore }, 'shutting down');
    server.close();
    server.closeAllConnections();
    // A container half-way through restore can be neither stopped nor left behind safely.
    await restoreDone;
    if (config.liveRestore) service.detachAll();
    else {
      await service.stopAll();
      service.detachAll();
    }
    for (const socketPath of socketPaths) rmSync(socketPath, { force: true });
    rmSync(pidFile, { force: true });
    lock.release();
    log.info('daemon stopped');
    process.exit(0);
  };
  signals.handle('SIGTERM', (signal) => void shutdown(signal));
  signals.handle('SIGINT', (signal) => void shutdown(signal));

  const started = performance.now();
  await execs.restore(store.all());
  const counts = await service.restore();
  if (!config.liveRestore) await service.stopAll();
  const restarted = shuttingDown ? 0 : await service.startByRestartPolicy();
  markReady();
  restored();
  log.info({ ...counts, restarted, ms: Math.round(performance.now() - started), liveRestore: config.liveRestore, runtime: runtimeChoice.name, storageDriver: storage.driver, sockets: socketPaths }, 'daemon ready; restore done');
}

/**
 * Compares the restore-critical settings with those recorded at the last start, warns about
 * each change, and records the new ones. Containers keep their own shim and runtime
 * locations, so a change here is reported rather than silently orphaning them.
 */
function checkRestoreSettings(paths: DaemonPaths, current: RestoreSettings, log: Logger): string[] {
  const previous = readJsonIfExists<RestoreSettings>(paths.settingsFile);
  const warnings: string[] = [];
  if (previous) {
    for (const key of ['execRoot', 'storageDriver', 'defaultRuntime', 'cgroupVersion'] as const) {
      if (previous[key] !== current[key]) {
        const message = `restore-critical setting ${key} changed from ${previous[key]} to ${current[key]}: containers started before keep their recorded shim socket and runtime; new containers use the new setting`;
        warnings.push(message);
        log.warn({ setting: key, from: previous[key], to: current[key] }, message);
      }
    }
  }
  writeJsonAtomic(paths.settingsFile, current);
  return warnings;
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`berthd: ${message}\n`);
  process.exit(1);
});
