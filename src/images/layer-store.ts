import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../protocol/errors.ts';
import { readJsonIfExists, removeDirAtomic, sweepLeftovers, writeJsonAtomic } from '../lib/atomic-file.ts';
import { KeyedQueue } from '../lib/keyed-queue.ts';
import type { Logger } from '../lib/logger.ts';
import { sha256 } from './content-store.ts';
import type { LayerBlob } from '../protocol/records.ts';
import { PRIVATE_DIR_MODE } from '../lib/private-paths.ts';

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
 * the same layers below. Each is unpacked in tmp/ and renamed into place with its record,
 * so a layer directory that exists is complete.
 */
export class LayerStore {
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #layers = new Map<string, LayerRecord>();
  readonly #unpacking = new KeyedQueue();

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
  async ensure(parent: string | undefined, diffId: string | undefined, blob: LayerBlob, unpack: (dir: string) => Promise<{ diffId: string; size: number }>): Promise<LayerRecord> {
    const known = diffId === undefined ? undefined : this.#layers.get(chainIdOf(parent, diffId));
    if (known) {
      this.attachBlob(known.chainId, blob);
      return known;
    }
    const key = diffId === undefined ? randomBytes(8).toString('hex') : chainIdOf(parent, diffId);
    return this.#unpacking.run(key, async () => {
      const again = diffId === undefined ? undefined : this.#layers.get(chainIdOf(parent, diffId));
      if (again) return again;
      mkdirSync(this.#tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      const staging = join(this.#tmpDir, `layer-${randomBytes(8).toString('hex')}`);
      mkdirSync(staging, { mode: PRIVATE_DIR_MODE });
      // diff/ keeps the usual 0755 until the layer's own root entry sets it: it is what containers see as a directory.
      mkdirSync(join(staging, 'diff'));
      try {
        const result = await unpack(join(staging, 'diff'));
        if (diffId !== undefined && result.diffId !== diffId) throw invalidArgument(`layer content does not match its diff ID: expected ${diffId}, got ${result.diffId}`);
        const chainId = chainIdOf(parent, result.diffId);
        const existing = this.#layers.get(chainId);
        if (existing) {
          this.attachBlob(chainId, blob);
          return existing;
        }
        const record: LayerRecord = { schemaVersion: 1, chainId, diffId: result.diffId, ...(parent ? { parent } : {}), size: result.size, blob };
        writeJsonAtomic(join(staging, 'layer.json'), record);
        const target = join(this.#root, chainId.slice('sha256:'.length));
        if (existsSync(target)) rmSync(target, { recursive: true, force: true });
        renameSync(staging, target);
        this.#layers.set(chainId, record);
        return record;
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });
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
    if (layer.dir) rmSync(layer.dir, { recursive: true, force: true });
    removeDirAtomic(join(this.#root, chainId.slice('sha256:'.length)));
  }
}
