import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, createReadStream, createWriteStream, existsSync, linkSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { failedPrecondition, internal } from '../protocol/errors.ts';
import type { ImageRecord } from '../protocol/records.ts';
import { digester, sha256 } from './content-store.ts';
import type { ImageStore } from './image-store.ts';
import { MediaTypes } from './media-types.ts';
import { familiarName, fullName, parseReference } from '../protocol/reference.ts';
import { sniffLayerMediaType } from './unpack-image.ts';
import { TreePacker } from '../lib/tar/pack.ts';
import { END_OF_ARCHIVE } from '../lib/tar/writer.ts';

interface SaveItem {
  image: ImageRecord;
  /** Familiar name:tag references to write for it (none when asked for by ID). */
  tags: string[];
}

/** Which images and tags `docker save NAME...` means: a bare repository name brings all its tags. */
export function resolveSaveNames(images: ImageStore, names: string[]): SaveItem[] {
  const items = new Map<string, SaveItem>();
  const add = (image: ImageRecord, tag?: string) => {
    const item = items.get(image.id) ?? { image, tags: [] };
    if (tag && !item.tags.includes(tag)) item.tags.push(tag);
    items.set(image.id, item);
  };
  for (const name of names) {
    const byId = /^(sha256:)?[0-9a-f]{4,64}$/.test(name) ? images.find(name) : undefined;
    if (byId && !byId.repoTags.includes(`${name}:latest`)) {
      add(byId);
      continue;
    }
    let ref;
    try {
      ref = parseReference(name);
    } catch {
      ref = undefined;
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      const repo = familiarName(ref);
      const tagged = images.list().flatMap((i) => i.repoTags.filter((t) => t.startsWith(`${repo}:`)).map((t) => [i, t] as const));
      if (tagged.length) {
        for (const [image, tag] of tagged) add(image, tag);
        continue;
      }
    }
    const image = images.resolve(name);
    add(image, ref?.tag !== undefined ? `${familiarName(ref)}:${ref.tag}` : undefined);
  }
  return [...items.values()];
}

/**
 * `docker save`: an archive that is both a docker-save archive (manifest.json) and an OCI
 * image layout (index.json, blobs/), as Docker 25 writes it, so `docker load`, skopeo's
 * docker-archive and oci-archive transports all read it. Layers go uncompressed, named by
 * their diff IDs. The archive is assembled from hard links in tmp/ and streamed.
 */
export async function saveImages(images: ImageStore, items: SaveItem[], tmpDir: string): Promise<Readable> {
  const staging = join(tmpDir, `save-${randomBytes(8).toString('hex')}`);
  const blobsDir = join(staging, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const release = images.lease(items.flatMap(({ image }) => [image.id, ...images.layerBlobs(image).flatMap((b) => (b ? [b.digest] : []))]));
  try {
    const blobPath = (digest: string) => join(blobsDir, digest.slice('sha256:'.length));
    const put = (bytes: Buffer) => {
      const digest = sha256(bytes);
      writeFileSync(blobPath(digest), bytes);
      return { digest, size: bytes.length };
    };
    const manifestJson: unknown[] = [];
    const indexEntries: unknown[] = [];
    for (const { image, tags } of items) {
      const layers = await Promise.all(image.diffIds.map(async (diffId, i) => {
        const blob = images.layerBlobs(image)[i];
        if (!blob || !images.content.has(blob.digest)) throw failedPrecondition(`image ${image.id} cannot be saved: the archive of layer ${diffId} is not kept (imported by berth 0.1); import or pull it again`);
        if (!existsSync(blobPath(diffId))) await writeUncompressed(images.content.path(blob.digest), blob.digest, diffId, blobPath(diffId));
        return { mediaType: MediaTypes.ociLayer, digest: diffId, size: statSync(blobPath(diffId)).size };
      }));
      const config = put(images.configBytes(image));
      const manifest = put(Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: config.digest, size: config.size },
        layers,
      })));
      manifestJson.push({ Config: `blobs/sha256/${config.digest.slice(7)}`, RepoTags: tags.length ? tags : null, Layers: layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
      const descriptor = { mediaType: MediaTypes.ociManifest, digest: manifest.digest, size: manifest.size };
      if (tags.length === 0) indexEntries.push(descriptor);
      for (const tag of tags) {
        const ref = parseReference(tag);
        indexEntries.push({ ...descriptor, annotations: { 'io.containerd.image.name': `${fullName(ref)}:${ref.tag ?? 'latest'}`, 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' } });
      }
    }
    writeFileSync(join(staging, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(staging, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexEntries }));
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifestJson));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    release();
  }
  const out = Readable.from(packStaging(staging), { objectMode: false });
  out.on('close', () => rmSync(staging, { recursive: true, force: true }));
  return out;
}

/** The staging directory's entries as they appear in Docker's save: owned by root, dated the epoch. */
async function* packStaging(staging: string): AsyncGenerator<Buffer> {
  const dirFd = openSync(staging, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const packer = new TreePacker({ portable: true, mtime: new Date(0) });
    for (const name of ['blobs', 'oci-layout', 'index.json', 'manifest.json']) yield* packer.entry(dirFd, name, name);
    yield END_OF_ARCHIVE;
  } finally {
    closeSync(dirFd);
  }
}

/** The layer as a plain tar, which must hash to its diff ID (the blob was checked when stored). */
async function writeUncompressed(source: string, blobDigest: string, diffId: string, target: string): Promise<void> {
  if (blobDigest === diffId) {
    try {
      linkSync(source, target);
    } catch {
      copyFileSync(source, target);
    }
    return;
  }
  const counter = digester();
  const zstd = sniffLayerMediaType(source) === MediaTypes.ociLayerZstd;
  await pipeline(createReadStream(source), zstd ? createZstdDecompress() : createGunzip(), counter, createWriteStream(target));
  if (counter.result().digest !== diffId) throw internal(`layer ${diffId}: its stored archive decompresses to ${counter.result().digest}`);
}
