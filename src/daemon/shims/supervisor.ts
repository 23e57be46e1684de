import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../protocol/errors.ts';
import type { ExitRecord, ShimState } from '../../protocol/shim.ts';
import type { ShimLocation } from '../../protocol/records.ts';
import type { Logger } from '../../lib/logger.ts';
import { supportsWatch, type HostProcesses, type ShimConnection, type ShimConnector } from './connector.ts';

/** What the supervisor reports about a followed shim; each call is made in the container's turn by the caller. */
export interface ShimEvents {
  /** Protocol 1.2: the generation of shim state the daemon has already taken in. */
  seenGeneration(id: string): number;
  onState(id: string, state: ShimState): Promise<void>;
  onExit(id: string, exit: ExitRecord, connection: ShimConnection): Promise<void>;
  onLost(id: string): Promise<void>;
}

/** Holds one connection per running container's shim and follows it until the container's final exit. */
export class ShimSupervisor {
  readonly #connector: ShimConnector;
  readonly #processes: HostProcesses;
  readonly #log: Logger;
  readonly #connections = new Map<string, ShimConnection>();
  #closing = false;

  constructor(connector: ShimConnector, processes: HostProcesses, log: Logger) {
    this.#connector = connector;
    this.#processes = processes;
    this.#log = log;
  }

  get connector(): ShimConnector {
    return this.#connector;
  }

  get processes(): HostProcesses {
    return this.#processes;
  }

  /** Connect to the container's shim and follow it in the background until its final exit (or its loss). */
  async follow(id: string, shim: ShimLocation, events: ShimEvents): Promise<void> {
    const connection = await this.#connector.connect(shim.socketPath);
    this.#connections.set(id, connection);
    const followed = supportsWatch(shim.protocolVersion) ? this.#followChanges(id, connection, events) : connection.wait();
    followed.then(
      (exit) => events.onExit(id, exit, connection),
      () => {
        if (this.#closing) return;
        void events.onLost(id);
      },
    ).catch((err: unknown) => this.#log.error({ containerId: id, err }, 'handling container exit failed'));
  }

  /** Protocol 1.2: take in every restart the shim does, until it reports the final exit. */
  async #followChanges(id: string, connection: ShimConnection, events: ShimEvents): Promise<ExitRecord> {
    for (;;) {
      const state = await connection.watch(events.seenGeneration(id));
      await events.onState(id, state);
      if (state.exit) return state.exit;
    }
  }

  isConnected(id: string): boolean {
    return this.#connections.has(id);
  }

  connection(id: string): ShimConnection {
    const connection = this.#connections.get(id);
    if (!connection) throw new EngineError('Unavailable', `container ${id.slice(0, 12)}: its shim is not connected`);
    return connection;
  }

  forget(id: string): void {
    this.#connections.delete(id);
  }

  /**
   * Let a shim go once its container's exit is recorded: acknowledge, then make sure it is
   * gone (a shim that did not take the acknowledgement, broken or never reached, must not linger).
   */
  async release(shim: ShimLocation, connection: ShimConnection | undefined): Promise<void> {
    if (connection) {
      await connection.shutdown().catch(() => undefined);
      connection.close();
    }
    const p = this.#processes;
    if (shim.bootId === p.bootId() && !(await p.waitForExit(shim.shimPid, shim.shimStartTime, connection ? 1000 : 0))) {
      p.kill(shim.shimPid, 'SIGKILL');
    }
    p.removeSocket(shim.socketPath);
  }

  /** A container whose shim is gone: the runtime's cleanup, then SIGKILL to whatever of it still runs. */
  async killOrphanedContainer(id: string, shim: ShimLocation, pid: number): Promise<void> {
    if (shim.bootId !== this.#processes.bootId()) return;
    await this.#connector.delete(join(shim.bundle, 'shim.json')).catch((err: unknown) => this.#log.warn({ containerId: id, err }, 'cleanup through berth-shim delete failed'));
    if (this.#processes.alive(pid, shim.pidStartTime)) {
      this.#processes.kill(pid, 'SIGKILL');
      await this.#processes.waitForExit(pid, shim.pidStartTime, 5000);
    }
  }

  /**
   * End a container that no record of this daemon tracks (a stray bundle, an orphan): through
   * its shim when it answers (SIGKILL, wait for the exit, acknowledge), else through
   * `berth-shim delete`. Bounded, so a stuck shim never stalls the daemon's start.
   */
  async endUnrecorded(id: string, socketPath: string, bundle: string): Promise<void> {
    const configPath = join(bundle, 'shim.json');
    try {
      const connection = await this.#connector.connect(socketPath, 2000);
      try {
        const hello = await connection.hello();
        if (!hello.state.exit) await connection.kill('SIGKILL', true).catch(() => undefined);
        await Promise.race([connection.wait(), sleep(15_000).then(() => { throw new EngineError('DeadlineExceeded', 'the shim did not report the exit'); })]);
        await connection.shutdown().catch(() => undefined);
      } finally {
        connection.close();
      }
    } catch {
      await this.#connector.delete(configPath).catch((err: unknown) => this.#log.warn({ containerId: id, err }, 'cleanup through berth-shim delete failed'));
      this.#killShimOfBundle(bundle);
    }
  }

  /** A shim that does not answer must not linger: its pid file names it, its command line proves it. */
  #killShimOfBundle(bundle: string): void {
    const pid = Number.parseInt(readTextIfExists(join(bundle, 'shim.pid')) ?? '', 10);
    if (!pid || !this.#processes.alive(pid)) return;
    if (this.#processes.cmdline(pid)?.includes(bundle)) this.#processes.kill(pid, 'SIGKILL');
  }

  /** Live restore on: let go of every shim and leave the containers running. */
  detachAll(): void {
    this.#closing = true;
    for (const connection of this.#connections.values()) connection.close();
    this.#connections.clear();
  }
}

function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
