import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../protocol/errors.ts';
import { fsyncDir, readJsonIfExists, removeDirAtomic, sweepLeftovers, writeJsonAtomic } from '../lib/atomic-file.ts';
import { KeyedQueue } from '../lib/keyed-queue.ts';
import type { Logger } from '../lib/logger.ts';
import { syncFilesystemOf } from '../lib/sync-fs.ts';
import { sha256 } from './content-store.ts';
import { sameSummary, summarizeLayer, type LayerSummary } from './layer-summary.ts';
import type { LayerBlob } from '../protocol/records.ts';
import { PRIVATE_DIR_MODE } from '../lib/private-paths.ts';

type Unpack = (dir: string) => Promise<{ diffId: string; size: number }>;

/** What verify() found: the layer as unpacked, unpacked again from its archive, or gone. */
export type LayerCheck = 'intact' | 'repaired' | 'removed';

export interface LayerRecord {
  schemaVersion: 1;
  chainId: string;
  diffId: string;
  parent?: string;
  /** Bytes of the unpacked layer. */
  size: number;
  /** The archive it was unpacked from, kept in the content store for save and push (absent for berth 0.1 images). */
  blob?: LayerBlob;
  /** Where the unpacked layer lives when it is not layers/<chain>/diff (images from berth 0.1). */
  dir?: string;
  /** The unpacked files as they were when the layer was made durable (absent in layers unpacked before berth kept it: recorded at their first check). */
  content?: LayerSummary;
}

/** ChainID as the OCI image spec defines it: one ID for a layer and everything below it. */
/** Where the storage driver keeps short names of layer directories for long overlay mounts. */
const SHORT_LINKS = 'l';

export function chainIdOf(parent: string | undefined, diffId: string): string {
  return parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
}

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) out.push(chainIdOf(out.at(-1), diffId));
  return out;
}

/**
 * Unpacked layers ("snapshots"), one directory per chain ID, shared by every image that has
 * the same layers below. Each is unpacked in tmp/, synced to disk, and renamed into place with
 * its record, so a layer directory that exists was complete; its record's content summary is
 * checked once per daemon run before the layer is used (verify), in case files were cut short
 * after all (a disk that lied, someone truncating them).
 */
export class LayerStore {
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #layers = new Map<string, LayerRecord>();
  readonly #unpacking = new KeyedQueue();
  /** Layers checked (or made) by this daemon run. */
  readonly #trusted = new Set<string>();

  constructor(root: string, tmpDir: string) {
    this.#root = root;
    this.#tmpDir = tmpDir;
  }

  load(log: Logger): void {
    mkdirSync(this.#root, { recursive: true, mode: PRIVATE_DIR_MODE });
    sweepLeftovers(this.#root);
    for (const name of readdirSync(this.#root)) {
      if (name.startsWith('.') || name === SHORT_LINKS) continue;
      try {
        const record = readJsonIfExists<LayerRecord>(join(this.#root, name, 'layer.json'));
        if (record?.schemaVersion === 1 && record.chainId === `sha256:${name}`) {
          // An adoption that moved the directory but did not live to rewrite the record.
          if (record.dir && !existsSync(record.dir) && existsSync(join(this.#root, name, 'diff'))) {
            delete record.dir;
            writeJsonAtomic(join(this.#root, name, 'layer.json'), record);
          }
          this.#layers.set(record.chainId, record);
        } else {
          rmSync(join(this.#root, name), { recursive: true, force: true });
        }
      } catch (err) {
        log.error({ layer: name, err }, 'cannot read layer record; skipping it');
      }
    }
  }

  get(chainId: string): LayerRecord | undefined {
    return this.#layers.get(chainId);
  }

  has(chainId: string): boolean {
    return this.#layers.has(chainId);
  }

  list(): LayerRecord[] {
    return [...this.#layers.values()];
  }

  diffDir(chainId: string): string {
    const layer = this.#layers.get(chainId);
    return layer?.dir ?? join(this.#root, chainId.slice('sha256:'.length), 'diff');
  }

  /** Overlay order: the top layer first. */
  lowerDirs(chain: readonly string[]): string[] {
    return [...chain].reverse().map((id) => this.diffDir(id));
  }

  /**
   * The layer `diffId` on top of `parent`, unpacked by `unpack` into an empty directory
   * unless it is here already. The unpacked content must hash to `diffId` (when known
   * beforehand): a layer that lies about its content is never kept.
   */
  async ensure(parent: string | undefined, diffId: string | undefined, blob: LayerBlob, unpack: Unpack): Promise<LayerRecord> {
    const known = diffId === undefined ? undefined : this.#layers.get(chainIdOf(parent, diffId));
    if (known) {
      this.attachBlob(known.chainId, blob);
      return known;
    }
    const key = diffId === undefined ? randomBytes(8).toString('hex') : chainIdOf(parent, diffId);
    return this.#unpacking.run(key, async () => {
      const again = diffId === undefined ? undefined : this.#layers.get(chainIdOf(parent, diffId));
      if (again) return again;
      const staging = await this.#stage(parent, blob, unpack);
      try {
        const { record } = staging;
        if (diffId !== undefined && record.diffId !== diffId) throw invalidArgument(`layer content does not match its diff ID: expected ${diffId}, got ${record.diffId}`);
        const existing = this.#layers.get(record.chainId);
        if (existing) {
          this.attachBlob(record.chainId, blob);
          return existing;
        }
        const target = this.#dirOf(record.chainId);
        if (existsSync(target)) rmSync(target, { recursive: true, force: true });
        renameSync(staging.dir, target);
        fsyncDir(this.#root);
        this.#layers.set(record.chainId, record);
        this.#trusted.add(record.chainId);
        return record;
      } finally {
        rmSync(staging.dir, { recursive: true, force: true });
      }
    });
  }

  /**
   * Unpack into a fresh directory under tmp/ and make it durable: files synced, then the
   * record with the content summary (a record that exists never names unwritten files).
   */
  async #stage(parent: string | undefined, blob: LayerBlob, unpack: Unpack): Promise<{ dir: string; record: LayerRecord }> {
    mkdirSync(this.#tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const dir = join(this.#tmpDir, `layer-${randomBytes(8).toString('hex')}`);
    mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
    // diff/ keeps the usual 0755 until the layer's own root entry sets it: it is what containers see as a directory.
    mkdirSync(join(dir, 'diff'));
    try {
      const result = await unpack(join(dir, 'diff'));
      const content = await summarizeLayer(join(dir, 'diff'));
      await syncFilesystemOf(dir);
      const chainId = chainIdOf(parent, result.diffId);
      const record: LayerRecord = { schemaVersion: 1, chainId, diffId: result.diffId, ...(parent ? { parent } : {}), size: result.size, blob, content };
      writeJsonAtomic(join(dir, 'layer.json'), record);
      return { dir, record };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Before a layer is used: are its files still those it was unpacked with? Checked once per
   * daemon run (a power loss means a new run). A layer that differs is unpacked again with
   * `reunpack` (from its archive) and swapped in; without one, or if that fails, it is removed,
   * so the image reports it missing and a pull or load brings it back.
   */
  verify(chainId: string, log: Logger, reunpack: Unpack | undefined): Promise<LayerCheck> {
    return this.#unpacking.run(chainId, async () => {
      const record = this.#layers.get(chainId);
      if (!record) return 'removed';
      if (this.#trusted.has(chainId)) return 'intact';
      const found = await summarizeLayer(this.diffDir(chainId)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      });
      if (found && !record.content) {
        // Unpacked by a berth that kept no summary: what is there now becomes the reference.
        record.content = found;
        writeJsonAtomic(join(this.#dirOf(chainId), 'layer.json'), record);
        log.info({ layer: chainId }, 'layer had no content summary (unpacked by an older berth); recorded one');
      }
      if (found && record.content && sameSummary(found, record.content)) {
        this.#trusted.add(chainId);
        return 'intact';
      }
      log.warn({ layer: chainId, expected: record.content, found: found ?? 'no diff directory' }, 'layer files are not what was unpacked (cut short by a crash, or changed): not using them');
      if (reunpack && record.blob) {
        try {
          await this.#replace({ ...record, blob: record.blob }, reunpack);
          log.warn({ layer: chainId, blob: record.blob.digest }, 're-unpacked damaged layer from its archive');
          return 'repaired';
        } catch (err) {
          log.error({ layer: chainId, err }, 'cannot re-unpack damaged layer from its archive');
        }
      }
      this.remove(chainId);
      log.error({ layer: chainId }, 'removed damaged layer; its image must be pulled or loaded again');
      return 'removed';
    });
  }

  async #replace(record: LayerRecord & { blob: LayerBlob }, reunpack: Unpack): Promise<void> {
    const staging = await this.#stage(record.parent, record.blob, reunpack);
    try {
      if (staging.record.chainId !== record.chainId) throw new Error(`the archive unpacks to ${staging.record.diffId}, not ${record.diffId}`);
      const target = this.#dirOf(record.chainId);
      const old = join(this.#root, `.${record.chainId.slice('sha256:'.length)}.deleting`);
      rmSync(old, { recursive: true, force: true });
      if (existsSync(target)) renameSync(target, old);
      renameSync(staging.dir, target);
      fsyncDir(this.#root);
      rmSync(old, { recursive: true, force: true });
      if (record.dir) rmSync(record.dir, { recursive: true, force: true });
      this.#layers.set(record.chainId, staging.record);
      this.#trusted.add(record.chainId);
    } finally {
      rmSync(staging.dir, { recursive: true, force: true });
    }
  }

  #dirOf(chainId: string): string {
    return join(this.#root, chainId.slice('sha256:'.length));
  }

  /**
   * Take over a layer that an older berth unpacked elsewhere: its directory moves to
   * layers/<chain>/diff (a running container's overlay keeps working: the kernel holds the
   * lower directory itself, not its name). The record names the old place first, so a crash
   * in between loses nothing (see load). Returns false when the layer is here already.
   */
  adopt(record: LayerRecord & { dir: string }): boolean {
    if (this.#layers.has(record.chainId)) return false;
    const dir = join(this.#root, record.chainId.slice('sha256:'.length));
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    writeJsonAtomic(join(dir, 'layer.json'), record);
    renameSync(record.dir, join(dir, 'diff'));
    const { dir: _old, ...moved } = record;
    writeJsonAtomic(join(dir, 'layer.json'), moved);
    this.#layers.set(moved.chainId, moved);
    return true;
  }

  /** Record the archive a layer came from, for a layer that had none (adopted from berth 0.1). */
  attachBlob(chainId: string, blob: LayerBlob): void {
    const layer = this.#layers.get(chainId);
    if (!layer || layer.blob) return;
    layer.blob = blob;
    writeJsonAtomic(join(this.#root, chainId.slice('sha256:'.length), 'layer.json'), layer);
  }

  remove(chainId: string): void {
    const layer = this.#layers.get(chainId);
    if (!layer) return;
    this.#layers.delete(chainId);
    this.#trusted.delete(chainId);
    if (layer.dir) rmSync(layer.dir, { recursive: true, force: true });
    removeDirAtomic(join(this.#root, chainId.slice('sha256:'.length)));
  }
}
