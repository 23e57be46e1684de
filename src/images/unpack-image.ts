import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { invalidArgument } from '../protocol/errors.ts';
import type { ImageRecord, LayerBlob } from '../protocol/records.ts';
import type { ImageStore } from './image-store.ts';
import { parseImageConfig } from './image-config.ts';
import { chainIds } from './layer-store.ts';
import { unpackLayer } from './layer-unpack.ts';
import { GZIP_MAGIC, ZSTD_MAGIC } from './decompress.ts';
import { LAYER_MEDIA_TYPES, MediaTypes } from './media-types.ts';

/**
 * Turn stored blobs into an image: unpack every layer that is not unpacked yet (checking
 * that it hashes to the config's diff ID), then write the image record. Everything it
 * builds on is leased, so a concurrent delete cannot collect it half-way.
 */
export async function unpackAndCommit(
  images: ImageStore,
  configBytes: Buffer,
  layerBlobs: LayerBlob[],
  onLayer?: (blob: LayerBlob, state: 'unpacking' | 'done' | 'exists') => void,
  /** Resolves when layer i's blob is stored (a pull unpacks each layer as soon as it is downloaded). */
  ready: (i: number) => Promise<void> = async () => {},
): Promise<ImageRecord> {
  const config = parseImageConfig(configBytes);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layerBlobs.length) throw invalidArgument(`image has ${layerBlobs.length} layers but its config lists ${diffIds.length} diff IDs`);
  for (const blob of layerBlobs) {
    if (!LAYER_MEDIA_TYPES.has(blob.mediaType)) throw invalidArgument(`unsupported layer media type ${JSON.stringify(blob.mediaType)}`);
  }
  const chain = chainIds(diffIds);
  const release = images.lease([...chain, ...layerBlobs.map((b) => b.digest)]);
  try {
    for (const [i, blob] of layerBlobs.entries()) {
      // A layer here already is checked first: a damaged one is unpacked again (or removed, then unpacked below).
      if (images.layers.has(chain[i]!) && (await images.verifyLayers([chain[i]!])).length === 0) {
        // A layer adopted from berth 0.1 has no archive yet: this one, if it came, becomes it.
        if (images.content.has(blob.digest)) images.layers.attachBlob(chain[i]!, blob);
        onLayer?.(blob, 'exists');
        continue;
      }
      await ready(i);
      onLayer?.(blob, 'unpacking');
      await images.layers.ensure(chain[i - 1], diffIds[i], blob, (dir) => unpackLayer(createReadStream(images.content.path(blob.digest)), dir));
      onLayer?.(blob, 'done');
    }
    return images.commit(configBytes);
  } finally {
    release();
  }
}

/** The media type a stored layer blob has, from its first bytes. */
export function sniffLayerMediaType(path: string): string {
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return MediaTypes.ociLayerGzip;
  if (head.equals(ZSTD_MAGIC)) return MediaTypes.ociLayerZstd;
  return MediaTypes.ociLayer;
}
