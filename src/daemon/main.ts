/** berthd: the composition root. Flags + daemon.json → lock → restore → API. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../protocol/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { PRIVATE_DIR_MODE } from '../lib/private-paths.ts';
import { createApiServer, listenUnix } from '../api/server.ts';
import { Router } from '../api/router.ts';
import { containerRoutes } from '../api/routes/containers.ts';
import { imageRoutes } from '../api/routes/images.ts';
import { systemRoutes } from '../api/routes/system.ts';
import { execRoutes } from '../api/routes/exec.ts';
import { eventRoutes } from '../api/routes/events.ts';
import { loadConfig, type DaemonConfig } from './config/config.ts';
import { parseCommandLine } from './config/flags.ts';
import { reloadConfig } from './config/reload.ts';
import { checkRestoreSettings } from './config/restore-settings.ts';
import { DaemonLock } from './host/daemon-lock.ts';
import { DaemonPaths } from './host/paths.ts';
import { secureDataRootContents, secureDataRootDir, secureExecRoot } from './host/private-roots.ts';
import { resolveSocketGroup } from './host/socket-group.ts';
import { cgroupMode, chooseRuntime } from './host/host-runtime.ts';
import { SignalGate } from './host/signals.ts';
import { ContainerStore } from './containers/container-store.ts';
import { ContainerService } from './containers/container-service.ts';
import { ExecService } from './containers/exec-service.ts';
import { ImageStore } from '../images/image-store.ts';
import { ImageService } from './images/image-service.ts';
import { RootfsStorage } from './storage/storage.ts';
import { EventBus } from './events/events.ts';
import { EventsService } from './events/events-service.ts';
import { SystemService } from './system/system-service.ts';
import { containersBackend } from './backends.ts';

/** The shim bundle sits beside the daemon bundle in dist/. */
function shimEntry(): string {
  return process.env.BERTH_SHIM_ENTRY ?? join(dirname(fileURLToPath(import.meta.url)), 'berth-shim.js');
}

async function main(): Promise<void> {
  // Before anything else: Node's default for these signals is to exit on the spot.
  const signals = new SignalGate(['SIGTERM', 'SIGINT', 'SIGHUP']);
  const commandLine = parseCommandLine(process.argv.slice(2));
  let config: DaemonConfig = loadConfig(commandLine);
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
      const next = loadConfig(commandLine);
      const { config: reloaded, changed } = reloadConfig(config, next);
      config = reloaded;
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
  const execs = new ExecService({ containers: service, images, paths, events, log: log.child({ module: 'exec' }) });
  const warningsNow = () => [...warnings, ...service.orphans().map((o) => o.message)];
  systemRoutes(router, new SystemService({ paths, config: () => config, containers: service, images, runtime: runtimeChoice, storageDriver: storage.driver, cgroupMode: mode, warnings: warningsNow }));
  containerRoutes(router, containersBackend(service, images, paths));
  imageRoutes(router, new ImageService({ images, containers: service, events, paths, config: () => config, storageDriver: storage.driver }));
  execRoutes(router, execs);
  eventRoutes(router, new EventsService(events));
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

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`berthd: ${message}\n`);
  process.exit(1);
});
