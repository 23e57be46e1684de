import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { EngineError, notFound } from '../protocol/errors.ts';
import { migrateImageRecord, type ImageRecord, type LayerBlob } from '../protocol/records.ts';
import { readJsonIfExists, removeDirAtomic, sweepLeftovers, writeJsonAtomic } from '../lib/atomic-file.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import type { ImageRoots } from './image-roots.ts';
import { ContentStore, sha256 } from './content-store.ts';
import { containerConfigOf, parseImageConfig, type ImageConfigBlob } from './image-config.ts';
import { chainIds, LayerStore } from './layer-store.ts';
import { unpackLayer } from './layer-unpack.ts';
import { familiarName, familiarTagged, normalizeReference, parseReference, type ImageReference } from '../protocol/reference.ts';
import { PRIVATE_DIR_MODE } from '../lib/private-paths.ts';

export { normalizeReference } from '../protocol/reference.ts';

/**
 * Images: records (tags, digests, config) over the content store and the layer store.
 * An image record is written last, after its config blob and every layer exist, so a
 * record always names complete content; whatever no record or running operation ("lease")
 * refers to is garbage and goes in gc().
 */
export class ImageStore {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly #paths: ImageRoots;
  readonly #images = new Map<string, ImageRecord>();
  readonly #leases = new Map<string, number>();
  #loadFailures = 0;
  #log: Logger = createLogger('images', 'fatal');

  constructor(paths: ImageRoots) {
    this.#paths = paths;
    this.content = new ContentStore(paths.contentDir, paths.tmpDir);
    this.layers = new LayerStore(paths.layersDir, paths.tmpDir);
  }

  load(log: Logger): void {
    this.#log = log;
    mkdirSync(this.#paths.imagesDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    sweepLeftovers(this.#paths.imagesDir);
    sweepLeftovers(join(this.#paths.contentDir, 'sha256'));
    this.layers.load(log);
    for (const entry of readdirSync(this.#paths.imagesDir)) {
      if (entry.startsWith('.')) continue;
      try {
        const raw = readJsonIfExists(this.#paths.imageRecord(entry));
        if (raw === undefined) continue;
        const { legacyRootfs, ...image } = migrateImageRecord(raw);
        if (legacyRootfs) this.#adoptLegacy(image);
        this.#images.set(image.id, image);
      } catch (err) {
        this.#loadFailures++;
        log.error({ image: entry, err }, 'cannot read image record; skipping it');
      }
    }
    // With an unreadable record, its layers would look unused: keep everything until it is fixed.
    if (this.#loadFailures === 0) {
      const removed = this.gc();
      if (removed.layers + removed.blobs > 0) log.info(removed, 'removed image content that no image refers to (left by an interrupted pull, load or delete)');
    }
  }

  /** A berth 0.1 image: its one unpacked layer becomes a layer record that points at it. */
  #adoptLegacy(image: ImageRecord): void {
    const diffId = image.diffIds[0];
    if (image.diffIds.length !== 1 || diffId === undefined) throw new Error('a berth 0.1 image has exactly one layer');
    const legacyDir = this.#paths.legacyImageRootfs(image.id);
    if (existsSync(legacyDir)) this.layers.adopt({ schemaVersion: 1, chainId: diffId, diffId, size: image.size, dir: legacyDir });
    const config = legacyConfigBytes(image);
    if (sha256(config) === image.id) this.content.write(config);
    writeJsonAtomic(this.#paths.imageRecord(image.id), image);
  }

  list(): ImageRecord[] {
    return [...this.#images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.#images.get(id);
  }

  /** By reference (name[:tag], name@digest), full ID (with or without sha256:) or unique ID prefix. */
  resolve(ref: string): ImageRecord {
    const image = this.find(ref);
    if (!image) throw notFound(`No such image: ${ref}`);
    return image;
  }

  find(ref: string): ImageRecord | undefined {
    const hex = ref.replace(/^sha256:/, '');
    if (/^[0-9a-f]{64}$/.test(hex)) {
      const byId = this.#images.get(`sha256:${hex}`);
      if (byId) return byId;
    }
    let parsed: ImageReference | undefined;
    try {
      parsed = parseReference(ref);
    } catch {
      parsed = undefined;
    }
    if (parsed) {
      const byRef = this.#findByReference(parsed);
      if (byRef) return byRef;
    }
    if (!/^[0-9a-f]{4,64}$/.test(hex)) return undefined;
    const matches = [...this.#images.values()].filter((image) => image.id.slice(7).startsWith(hex));
    return matches.length === 1 ? matches[0] : undefined;
  }

  #findByReference(ref: ImageReference): ImageRecord | undefined {
    if (ref.digest) {
      const wanted = `${familiarName(ref)}@${ref.digest}`;
      return [...this.#images.values()].find((image) => image.repoDigests.includes(wanted));
    }
    const tagged = familiarTagged(ref);
    return [...this.#images.values()].find((image) => image.repoTags.includes(tagged));
  }

  /** The archive each layer of the image was unpacked from, bottom first. */
  layerBlobs(image: ImageRecord): Array<LayerBlob | undefined> {
    return chainIds(image.diffIds).map((c) => this.layers.get(c)?.blob);
  }

  /** The image's layers as overlay lowerdirs, top first. */
  lowerDirs(image: ImageRecord): string[] {
    return this.layers.lowerDirs(chainIds(image.diffIds));
  }

  /**
   * Check the layers of `chain` (each once per daemon run) and unpack damaged ones again from
   * their archives. Returns the chain IDs that are not there (any more): those need a pull or load.
   */
  async verifyLayers(chain: readonly string[]): Promise<string[]> {
    const release = this.lease([...chain, ...chain.flatMap((c) => this.layers.get(c)?.blob?.digest ?? [])]);
    try {
      const missing: string[] = [];
      for (const chainId of chain) {
        const blob = this.layers.get(chainId)?.blob;
        const reunpack = blob && this.content.has(blob.digest) ? (dir: string) => unpackLayer(createReadStream(this.content.path(blob.digest)), dir) : undefined;
        if ((await this.layers.verify(chainId, this.#log, reunpack)) === 'removed') missing.push(chainId);
      }
      return missing;
    } finally {
      release();
    }
  }

  /** The image's layers as overlay lowerdirs, top first, each checked first (verifyLayers). */
  async intactLowerDirs(image: ImageRecord): Promise<string[]> {
    const chain = chainIds(image.diffIds);
    const missing = await this.verifyLayers(chain);
    if (missing.length > 0) {
      const diffId = image.diffIds[chain.indexOf(missing[0]!)];
      const name = image.repoTags[0] ?? image.id;
      throw new EngineError('FailedPrecondition', `image ${name}: layer ${diffId} is missing or damaged on disk and its archive is not stored; pull or load the image again`);
    }
    return this.layers.lowerDirs(chain);
  }

  configBlob(image: ImageRecord): ImageConfigBlob {
    return this.content.has(image.id) ? parseImageConfig(this.content.read(image.id)) : (JSON.parse(legacyConfigBytes(image).toString()) as ImageConfigBlob);
  }

  configBytes(image: ImageRecord): Buffer {
    return this.content.has(image.id) ? this.content.read(image.id) : legacyConfigBytes(image);
  }

  /** Keep content (chain IDs, blob digests) from gc while an operation builds on it. */
  lease(ids: Iterable<string>): () => void {
    const held = [...ids];
    for (const id of held) this.#leases.set(id, (this.#leases.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of held) {
        const n = (this.#leases.get(id) ?? 1) - 1;
        if (n <= 0) this.#leases.delete(id);
        else this.#leases.set(id, n);
      }
    };
  }

  /**
   * Record an image whose config blob is stored and whose layers are all unpacked. Returns
   * the record (an existing one when the same config is already an image).
   */
  commit(configBytes: Buffer): ImageRecord {
    const id = this.content.write(configBytes);
    const existing = this.#images.get(id);
    if (existing) return existing;
    const blob = parseImageConfig(configBytes);
    const diffIds = blob.rootfs.diff_ids;
    const chain = chainIds(diffIds);
    const missing = chain.findIndex((c) => !this.layers.has(c));
    if (missing >= 0) throw new Error(`internal: layer ${diffIds[missing]} is not unpacked`);
    const image: ImageRecord = {
      schemaVersion: 2,
      id,
      repoTags: [],
      repoDigests: [],
      created: typeof blob.created === 'string' && !Number.isNaN(Date.parse(blob.created)) ? blob.created : new Date(0).toISOString(),
      size: chain.reduce((sum, c) => sum + (this.layers.get(c)?.size ?? 0), 0),
      architecture: blob.architecture,
      os: blob.os,
      ...(blob.variant ? { variant: blob.variant } : {}),
      config: containerConfigOf(blob),
      diffIds,
    };
    mkdirSync(this.#paths.imageDir(id), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.#save(image);
    this.#images.set(id, image);
    return image;
  }

  /** Point `reference` at image `id` (moving it off any other image); returns the normalized tag. */
  tag(id: string, reference: string): string {
    const tag = normalizeReference(reference);
    const image = this.#images.get(id);
    if (!image) throw notFound(`No such image: ${id}`);
    for (const other of this.#images.values()) {
      if (other.id !== id && other.repoTags.includes(tag)) {
        other.repoTags = other.repoTags.filter((t) => t !== tag);
        this.#save(other);
      }
    }
    if (!image.repoTags.includes(tag)) image.repoTags.push(tag);
    image.lastTagTime = new Date().toISOString();
    this.#save(image);
    return tag;
  }

  /** Record that `name@digest` is this image (a pulled or pushed manifest). */
  addRepoDigest(id: string, repoDigest: string): void {
    const image = this.#images.get(id);
    if (!image) throw notFound(`No such image: ${id}`);
    const name = repoDigest.slice(0, repoDigest.indexOf('@'));
    // One digest per repository, like Docker: the newest manifest wins.
    image.repoDigests = [...image.repoDigests.filter((d) => d.slice(0, d.indexOf('@')) !== name), repoDigest];
    this.#save(image);
  }

  removeRepoDigest(id: string, repoDigest: string): void {
    const image = this.#images.get(id);
    if (!image) throw notFound(`No such image: ${id}`);
    image.repoDigests = image.repoDigests.filter((d) => d !== repoDigest);
    this.#save(image);
  }

  untag(id: string, tag: string): void {
    const image = this.#images.get(id);
    if (!image) throw notFound(`No such image: ${id}`);
    image.repoTags = image.repoTags.filter((t) => t !== tag);
    this.#save(image);
  }

  /** Delete the record, then whatever content only it used. */
  remove(id: string): void {
    removeDirAtomic(this.#paths.imageDir(id));
    this.#images.delete(id);
    this.gc();
  }

  /**
   * Run a transfer (pull, push, load, import, save), then collect what it left unused, so a
   * failed transfer keeps nothing. While it runs, whatever it stored or reads is leased: every
   * blob and layer is leased in the same synchronous step that makes it visible, or before.
   */
  async transfer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.gc();
    }
  }

  /** Remove layers and blobs that no image and no lease refers to. */
  gc(): { layers: number; blobs: number } {
    const liveLayers = new Set<string>(this.#leases.keys());
    const liveBlobs = new Set<string>(this.#leases.keys());
    for (const image of this.#images.values()) {
      for (const c of chainIds(image.diffIds)) liveLayers.add(c);
      liveBlobs.add(image.id);
      for (const d of image.repoDigests) liveBlobs.add(d.slice(d.indexOf('@') + 1));
    }
    let layers = 0;
    let blobs = 0;
    for (const layer of this.layers.list()) {
      if (!liveLayers.has(layer.chainId)) {
        this.layers.remove(layer.chainId);
        layers++;
      } else if (layer.blob) {
        liveBlobs.add(layer.blob.digest);
      }
    }
    for (const digest of this.content.list()) {
      if (!liveBlobs.has(digest)) {
        this.content.remove(digest);
        blobs++;
      }
    }
    return { layers, blobs };
  }

  #save(image: ImageRecord): void {
    writeJsonAtomic(this.#paths.imageRecord(image.id), image);
  }
}

/** The config berth 0.1 hashed to get an imported image's ID. */
function legacyConfigBytes(image: ImageRecord): Buffer {
  return Buffer.from(JSON.stringify({ architecture: image.architecture, os: image.os, created: image.created, config: image.config, rootfs: { type: 'layers', diff_ids: image.diffIds } }));
}
