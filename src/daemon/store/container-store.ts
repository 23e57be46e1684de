import { mkdirSync, readdirSync } from 'node:fs';
import { migrateContainerRecord, type ContainerRecord } from '../../protocol/records.ts';
import { EngineError, notFound } from '../../protocol/errors.ts';
import { readJsonIfExists, removeDirAtomic, sweepLeftovers, writeJsonAtomic } from '../../lib/atomic-file.ts';
import type { DaemonPaths } from '../paths.ts';
import type { Logger } from '../../lib/logger.ts';
import { PRIVATE_DIR_MODE } from '../../lib/private-paths.ts';

/** Container records in memory, each persisted atomically as one file on every change. */
export class ContainerStore {
  readonly #paths: DaemonPaths;
  readonly #byId = new Map<string, ContainerRecord>();
  readonly #byName = new Map<string, string>();

  constructor(paths: DaemonPaths) {
    this.#paths = paths;
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

  save(record: ContainerRecord): void {
    mkdirSync(this.#paths.containerDir(record.id), { recursive: true, mode: PRIVATE_DIR_MODE });
    writeJsonAtomic(this.#paths.containerRecord(record.id), record);
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
  }
}
