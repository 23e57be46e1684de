import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { EngineError, invalidArgument } from '../protocol/errors.ts';
import type { ImageContainerConfig, ImageRecord } from '../protocol/records.ts';
import type { ImageStore } from './image-store.ts';
import { hostPlatform } from './image-config.ts';
import { unpackLayer } from './layer-unpack.ts';
import { normalizeReference } from '../protocol/reference.ts';
import { sniffLayerMediaType } from './unpack-image.ts';

export interface ImportOptions {
  reference?: string;
  config?: ImageContainerConfig;
  message?: string;
  platform?: { os: string; architecture: string; variant?: string };
}

/** `docker import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer image. */
export async function importRootfs(images: ImageStore, source: Readable, options: ImportOptions = {}): Promise<ImageRecord> {
  const tag = options.reference ? normalizeReference(options.reference) : undefined;
  let blob: { digest: string; size: number };
  try {
    blob = await images.content.ingest(source);
  } catch (err) {
    throw EngineError.is(err) ? err : invalidArgument(`import: cannot read the archive: ${(err as Error).message}`);
  }
  const release = images.lease([blob.digest]);
  try {
    if (blob.size === 0) throw invalidArgument('import: the archive is empty');
    const mediaType = sniffLayerMediaType(images.content.path(blob.digest));
    const layer = await images.layers.ensure(undefined, undefined, { mediaType, digest: blob.digest, size: blob.size }, (dir) => unpackLayer(createReadStream(images.content.path(blob.digest)), dir));
    const releaseLayer = images.lease([layer.chainId]);
    try {
      const created = new Date().toISOString();
      const platform = options.platform ?? hostPlatform();
      const config = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        created,
        config: options.config ?? {},
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created, comment: options.message || 'Imported from -' }],
        ...(options.message ? { comment: options.message } : {}),
      };
      const image = images.commit(Buffer.from(JSON.stringify(config)));
      if (tag) images.tag(image.id, tag);
      return image;
    } finally {
      releaseLayer();
    }
  } finally {
    release();
  }
}
