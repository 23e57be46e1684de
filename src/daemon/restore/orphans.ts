import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../../protocol/errors.ts';
import { isActive } from '../../protocol/records.ts';
import type { ShimConfig } from '../../protocol/shim.ts';
import { readJsonIfExists } from '../../lib/atomic-file.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EventBus } from '../events/events.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { ContainerStore } from '../containers/container-store.ts';
import type { ShimSupervisor } from '../shims/supervisor.ts';

export interface Orphan {
  id: string;
  dataRoot: string;
  message: string;
}

/**
 * Shims at start that no running record accounts for: bundles of starts the daemon did not
 * live to record (stopped), and containers of another data root (left running, reported).
 */
export interface OrphansDeps {
  paths: DaemonPaths;
  store: ContainerStore;
  supervisor: ShimSupervisor;
  events: EventBus;
  log: Logger;
}

export class Orphans {
  readonly #d: OrphansDeps;
  readonly #found: Array<Orphan & { socketPath: string; bundle: string }> = [];

  constructor(deps: OrphansDeps) {
    this.#d = deps;
  }

  /**
   * A bundle whose container the store does not call running belongs to a start that the
   * daemon did not live to record (or to a removed container): stop what it runs and let
   * its shim go, so no process is left that no record points to. A bundle of another
   * data root (the daemon was started with a different --data-root) is never touched: it
   * is reported as an orphan instead. Returns how many were stopped.
   */
  async reapStrayBundles(): Promise<number> {
    const { paths, store, supervisor, log } = this.#d;
    if (!existsSync(paths.bundlesDir)) return 0;
    let reaped = 0;
    for (const id of readdirSync(paths.bundlesDir)) {
      const owner = store.find(id);
      if (id.startsWith('.') || (owner && isActive(owner.state.Status))) continue;
      const config = readJsonIfExists<ShimConfig>(join(paths.bundle(id), 'shim.json'));
      if (config && !config.logPath.startsWith(paths.containersDir + '/')) {
        this.#report(id, config);
        continue;
      }
      if (config) {
        await supervisor.endUnrecorded(id, config.socketPath, paths.bundle(id));
        log.warn({ containerId: id }, 'stopped a container whose start the daemon never recorded');
        reaped++;
      }
      rmSync(paths.bundle(id), { recursive: true, force: true });
    }
    return reaped;
  }

  #report(id: string, config: ShimConfig): void {
    const otherRoot = config.logPath.replace(/\/containers\/[^/]+\/[^/]+$/, '');
    const message = `container ${id.slice(0, 12)} is run by a shim of data root ${otherRoot}, not ${this.#d.paths.dataRoot}: it was left running and is not managed here; start berthd with --data-root ${otherRoot} to manage it again`;
    this.#found.push({ id, dataRoot: otherRoot, message, socketPath: config.socketPath, bundle: this.#d.paths.bundle(id) });
    this.#d.log.warn({ containerId: id, dataRoot: otherRoot }, message);
    this.#d.events.publish('daemon', 'orphan', id, { dataRoot: otherRoot });
  }

  /** Containers found running under another data root. */
  list(): readonly Orphan[] {
    return this.#found.map(({ id, dataRoot, message }) => ({ id, dataRoot, message }));
  }

  /** The administrator's way out for an orphan that should not be adopted: stop it and let its shim go. */
  async stop(ref: string): Promise<void> {
    const orphan = this.#found.find((o) => o.id === ref || o.id.startsWith(ref));
    if (!orphan) throw notFound(`No such orphan: ${ref}`);
    await this.#d.supervisor.endUnrecorded(orphan.id, orphan.socketPath, orphan.bundle);
    rmSync(orphan.bundle, { recursive: true, force: true });
    this.#found.splice(this.#found.indexOf(orphan), 1);
    this.#d.log.info({ containerId: orphan.id, dataRoot: orphan.dataRoot }, 'orphan stopped by the administrator');
    this.#d.events.publish('daemon', 'orphan-stop', orphan.id, { dataRoot: orphan.dataRoot });
  }
}
