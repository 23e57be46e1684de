import { notFound } from '../protocol/errors.ts';
import type { ImageRecord, LayerBlob } from '../protocol/records.ts';
import type { ImageStore } from './image-store.ts';
import { hostPlatform, parseImageConfig, parsePlatform } from './image-config.ts';
import { chainIds } from './layer-store.ts';
import { parseManifest, selectPlatform, type ImageManifest } from './manifest.ts';
import { MediaTypes, MANIFEST_MEDIA_TYPES } from './media-types.ts';
import { byteProgress, shortId } from './progress.ts';
import type { Progress } from '../protocol/json-message.ts';
import { familiarDigested, familiarName, familiarTagged, parseReference } from '../protocol/reference.ts';
import { RegistryClient } from './registry/registry-client.ts';
import type { RegistryCredentials } from '../protocol/registry-auth.ts';
import { registryEndpoint } from './registry/endpoint.ts';
import { unpackAndCommit } from './unpack-image.ts';

export interface PullOptions {
  reference: string;
  platform?: string;
  credentials?: RegistryCredentials;
  insecureRegistries: readonly string[];
  maxConcurrentDownloads: number;
  progress: Progress;
  signal?: AbortSignal;
}

export interface PullResult {
  image: ImageRecord;
  /** name:tag when pulled by tag. */
  tag?: string;
  repoDigest: string;
  /** false when the tag already named this image. */
  updated: boolean;
}

const ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest];
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * Pull an image: resolve the reference to a manifest (choosing the platform from an index),
 * fetch the config, download the layers that are not unpacked yet (verified against their
 * digests before anything is unpacked), unpack them in order, then record and tag the image.
 */
export async function pullImage(images: ImageStore, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(options.reference);
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  const tag = ref.digest ? undefined : familiarTagged(ref);
  const endpoint = registryEndpoint(ref.domain, options.insecureRegistries);
  // The first failure stops the other downloads (and the client going away stops them all).
  const cancel = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
  const client = new RegistryClient({ host: endpoint.host, insecure: endpoint.insecure, ...(options.credentials ? { credentials: options.credentials } : {}), userAgent: 'berth/0.2', signal });
  const wanted = options.platform ? parsePlatform(options.platform) : hostPlatform();

  const top = await client.getManifest(ref.path, tagOrDigest, ACCEPT);
  if (ref.digest && top.digest !== ref.digest) throw notFound(`manifest for ${options.reference} not found: the registry answered with ${top.digest}`);
  const blobsToKeep = [{ digest: top.digest, body: top.body }];
  let parsed = parseManifest(top.body, top.mediaType);
  if (parsed.kind === 'index') {
    const entry = selectPlatform(parsed.index, wanted);
    const inner = await client.getManifest(ref.path, entry.digest, ACCEPT.filter((m) => MANIFEST_MEDIA_TYPES.has(m)));
    parsed = parseManifest(inner.body, inner.mediaType);
    if (parsed.kind !== 'manifest') throw notFound(`manifest ${entry.digest} is an index inside an index`);
    blobsToKeep.push({ digest: inner.digest, body: inner.body });
  }
  const manifest: ImageManifest = parsed.manifest;
  const name = familiarName(ref);
  options.progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag ?? 'latest' });

  if (manifest.config.size > MAX_CONFIG_BYTES) throw notFound(`image config of ${name} is too large (${manifest.config.size} bytes)`);
  // Leased before it is stored, so no gc can take it between its arrival and the image record.
  const releaseConfig = images.lease([manifest.config.digest, ...blobsToKeep.map((b) => b.digest)]);
  try {
    const configStream = await client.fetchBlob(ref.path, manifest.config.digest, manifest.config.size);
    const configBlob = await images.content.ingest(configStream, { digest: manifest.config.digest, size: manifest.config.size });
    const configBytes = images.content.read(configBlob.digest);
    const config = parseImageConfig(configBytes);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) throw notFound(`image ${name}: the manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length}`);
    const chain = chainIds(config.rootfs.diff_ids);
    const releaseLayers = images.lease([...chain, ...manifest.layers.map((l) => l.digest)]);
    try {
      const previous = tag ? images.find(tag)?.id : undefined;
      // Layers here already must be intact to count; one that is damaged beyond repair is downloaded again.
      await images.verifyLayers(chain.filter((c) => images.layers.has(c)));
      const needed = manifest.layers.filter((layer, i) => {
        // Unpacked already — but a layer adopted from berth 0.1 still needs its archive for save and push.
        if (images.layers.get(chain[i]!)?.blob) {
          options.progress({ status: 'Already exists', progressDetail: {}, id: shortId(layer.digest) });
          return false;
        }
        options.progress({ status: 'Pulling fs layer', progressDetail: {}, id: shortId(layer.digest) });
        return true;
      });
      const downloads = limitedAll(needed, options.maxConcurrentDownloads, (layer) => download(images, client, ref.path, layer, options.progress));
      for (const promise of downloads) promise.catch(() => undefined);
      const done = new Map<string, Promise<void>>(needed.map((layer, i) => [layer.digest, downloads[i]!]));
      const layerBlobs: LayerBlob[] = manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
      let image: ImageRecord;
      try {
        // Each layer is unpacked, in order, as soon as it and those below it are downloaded.
        image = await unpackAndCommit(images, configBytes, layerBlobs, (blob, state) => {
          if (state === 'unpacking') options.progress({ status: 'Extracting', progressDetail: {}, id: shortId(blob.digest) });
          if (state === 'done') options.progress({ status: 'Pull complete', progressDetail: {}, id: shortId(blob.digest) });
        }, (i) => done.get(manifest.layers[i]!.digest) ?? Promise.resolve());
      } catch (err) {
        cancel.abort();
        throw err;
      } finally {
        // A failed pull must not leave downloads writing into the store.
        await Promise.allSettled(downloads);
      }
      for (const b of blobsToKeep) images.content.write(b.body, b.digest);
      const repoDigest = familiarDigested(ref, top.digest);
      images.addRepoDigest(image.id, repoDigest);
      if (tag) images.tag(image.id, tag);
      options.progress({ status: `Digest: ${top.digest}` });
      return { image, ...(tag ? { tag } : {}), repoDigest, updated: previous !== image.id };
    } finally {
      releaseLayers();
    }
  } finally {
    releaseConfig();
  }
}

async function download(images: ImageStore, client: RegistryClient, repository: string, layer: { digest: string; size: number }, progress: Progress): Promise<void> {
  const id = shortId(layer.digest);
  if (images.content.has(layer.digest) && images.content.size(layer.digest) === layer.size) {
    progress({ status: 'Download complete', progressDetail: {}, id });
    return;
  }
  progress({ status: 'Waiting', progressDetail: {}, id });
  const body = await client.fetchBlob(repository, layer.digest, layer.size);
  await images.content.ingest(body, { digest: layer.digest, size: layer.size }, byteProgress(progress, id, 'Downloading', layer.size));
  progress({ status: 'Verifying Checksum', progressDetail: {}, id });
  progress({ status: 'Download complete', progressDetail: {}, id });
}

/** Run `fn` over `items` with at most `limit` at once; one promise per item, in order. */
function limitedAll<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void>[] {
  let running = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    running--;
    queue.shift()?.();
  };
  return items.map((item) => new Promise<void>((resolve, reject) => {
    const start = () => {
      running++;
      fn(item).then(resolve, reject).finally(next);
    };
    if (running < limit) start();
    else queue.push(start);
  }));
}
