import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { migrateContainerRecord, type ContainerRecord } from '../../protocol/records.ts';
import { EngineError, notFound } from '../../protocol/errors.ts';
import { readJsonIfExists, removeDirAtomic, sweepLeftovers, writeJsonAtomic } from '../../lib/atomic-file.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { Logger } from '../../lib/logger.ts';
import { PRIVATE_DIR_MODE } from '../../lib/private-paths.ts';

/** Container records in memory, each persisted atomically as one file on every change. */
export class ContainerStore {
  readonly #paths: DaemonPaths;
  readonly #byId = new Map<string, ContainerRecord>();
  readonly #byName = new Map<string, string>();
  readonly #unsynced = new Map<string, Unsynced>();
  readonly #log: Logger | undefined;

  constructor(paths: DaemonPaths, log?: Logger) {
    this.#paths = paths;
    this.#log = log;
  }

  /** Reads every record; a broken one is logged and skipped so the daemon still starts. */
  load(log: Logger): void {
    mkdirSync(this.#paths.containersDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    sweepLeftovers(this.#paths.containersDir);
    for (const entry of readdirSync(this.#paths.containersDir)) {
      if (entry.startsWith('.')) continue;
      try {
        sweepLeftovers(this.#paths.containerDir(entry));
        const raw = readJsonIfExists(this.#paths.containerRecord(entry));
        if (raw === undefined) {
          // A create that crashed before its record was written.
          removeDirAtomic(this.#paths.containerDir(entry));
          continue;
        }
        const record = migrateContainerRecord(raw);
        this.#byId.set(record.id, record);
        this.#byName.set(record.name, record.id);
      } catch (err) {
        log.error({ containerId: entry, err }, 'cannot read container record; skipping it');
      }
    }
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  /** Resolve a full ID, a unique ID prefix or a name (with or without the leading slash). */
  resolve(ref: string): ContainerRecord {
    const found = this.find(ref);
    if (!found) throw notFound(`No such container: ${ref}`);
    return found;
  }

  find(ref: string): ContainerRecord | undefined {
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    const byName = this.#byName.get(ref.replace(/^\//, ''));
    if (byName) return this.#byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.#byId.keys()].filter((id) => id.startsWith(ref));
    if (matches.length > 1) throw new EngineError('InvalidArgument', `multiple IDs found with provided prefix: ${ref}`);
    return matches[0] === undefined ? undefined : this.#byId.get(matches[0]);
  }

  nameInUse(name: string): string | undefined {
    return this.#byName.get(name);
  }

  /**
   * Write the record, then take it into memory. A write that fails (a full disk) changes
   * nothing: a new container's directory is removed again, so its name stays free.
   */
  save(record: ContainerRecord): void {
    const dir = this.#paths.containerDir(record.id);
    const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    try {
      writeJsonAtomic(this.#paths.containerRecord(record.id), record);
    } catch (err) {
      if (created !== undefined) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.#remember(record);
    this.#settle(record.id);
  }

  /**
   * For a change that has already happened (an exit, a start, a restart done by the shim):
   * memory takes it at once, so the API tells the truth, and a write that fails (a full disk)
   * is retried with back-off until it lands. `persisted` resolves once the record is on disk
   * (or removed); `written` says whether that happened at once.
   */
  saveEventually(record: ContainerRecord): { written: boolean; persisted: Promise<void> } {
    try {
      this.save(record);
      return { written: true, persisted: Promise.resolve() };
    } catch (err) {
      this.#remember(record);
      let pending = this.#unsynced.get(record.id);
      if (!pending) {
        this.#log?.warn({ containerId: record.id, err }, 'cannot write the container record; keeping the change in memory and retrying');
        pending = { delayMs: 0, timer: undefined, waiters: [] };
        this.#unsynced.set(record.id, pending);
        this.#retryLater(record.id, pending);
      }
      const { waiters } = pending;
      return { written: false, persisted: new Promise((resolve) => waiters.push(resolve)) };
    }
  }

  #retryLater(id: string, pending: Unsynced): void {
    pending.delayMs = Math.min(Math.max(pending.delayMs * 2, 250), 10_000);
    pending.timer = setTimeout(() => {
      const record = this.#byId.get(id);
      if (!record) return this.#settle(id);
      try {
        this.save(record);
        this.#log?.info({ containerId: id }, 'container record written after an earlier failure');
      } catch {
        this.#retryLater(id, pending);
      }
    }, pending.delayMs);
    pending.timer.unref();
  }

  #settle(id: string): void {
    const pending = this.#unsynced.get(id);
    if (!pending) return;
    this.#unsynced.delete(id);
    clearTimeout(pending.timer);
    for (const resolve of pending.waiters) resolve();
  }

  #remember(record: ContainerRecord): void {
    const previous = this.#byId.get(record.id);
    if (previous && previous.name !== record.name) this.#byName.delete(previous.name);
    this.#byId.set(record.id, record);
    this.#byName.set(record.name, record.id);
  }

  remove(id: string): void {
    const record = this.#byId.get(id);
    removeDirAtomic(this.#paths.containerDir(id));
    this.#byId.delete(id);
    if (record) this.#byName.delete(record.name);
    this.#settle(id);
  }
}

interface Unsynced {
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
  waiters: Array<() => void>;
}
