import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { digester } from './content-store.ts';
import { failedPrecondition, notFound } from '../protocol/errors.ts';
import type { ImageRecord, LayerBlob } from '../protocol/records.ts';
import type { ImageStore } from './image-store.ts';
import { MediaTypes } from './media-types.ts';
import { byteProgress, shortId } from './progress.ts';
import type { Progress } from '../protocol/json-message.ts';
import { familiarDigested, familiarName, fullName, parseReference, type ImageReference } from '../protocol/reference.ts';
import { RegistryClient } from './registry/registry-client.ts';
import type { RegistryCredentials } from '../protocol/registry-auth.ts';
import { registryEndpoint } from './registry/endpoint.ts';

export interface PushOptions {
  /** Repository, with or without a tag; without one, every tag of the repository is pushed. */
  name: string;
  tag?: string;
  credentials?: RegistryCredentials;
  insecureRegistries: readonly string[];
  maxConcurrentUploads: number;
  progress: Progress;
  signal?: AbortSignal;
}

export interface PushedTag {
  /** name:tag, familiar form. */
  reference: string;
  imageId: string;
  tag: string;
  digest: string;
  size: number;
}

const DOCKER_LAYER_TYPES = new Set<string>([MediaTypes.dockerLayer, MediaTypes.dockerLayerGzip]);

/** Push one tag, or every tag of a repository: layers the registry lacks, the config, then the manifest. */
export async function pushImage(images: ImageStore, options: PushOptions): Promise<PushedTag[]> {
  const ref = parseReference(options.tag ? `${options.name}:${options.tag}` : options.name);
  const name = familiarName(ref);
  const tags = ref.tag ? [ref.tag] : images.list().flatMap((i) => i.repoTags.filter((t) => t.startsWith(`${name}:`)).map((t) => t.slice(name.length + 1)));
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${name}`);
  const endpoint = registryEndpoint(ref.domain, options.insecureRegistries);
  const client = new RegistryClient({ host: endpoint.host, insecure: endpoint.insecure, ...(options.credentials ? { credentials: options.credentials } : {}), userAgent: 'berth/0.2', ...(options.signal ? { signal: options.signal } : {}) });
  const pushed: PushedTag[] = [];
  let announced = false;
  for (const tag of tags) {
    const image = images.resolve(`${name}:${tag}`);
    const blobs = images.layerBlobs(image);
    const missing = blobs.findIndex((b) => b === undefined || !images.content.has(b.digest));
    if (missing >= 0) throw failedPrecondition(`image ${name}:${tag} cannot be pushed: the archive of layer ${image.diffIds[missing]} is not kept (imported by berth 0.1); import or pull it again`);
    if (!announced) {
      options.progress({ status: `The push refers to repository [${fullName(ref)}]` });
      announced = true;
    }
    const release = images.lease([image.id, ...blobs.map((b) => b!.digest)]);
    try {
      pushed.push(await pushTag(images, client, ref, image, tag, blobs as LayerBlob[], options));
    } finally {
      release();
    }
  }
  return pushed;
}

async function pushTag(images: ImageStore, client: RegistryClient, ref: ImageReference, image: ImageRecord, tag: string, blobs: LayerBlob[], options: PushOptions): Promise<PushedTag> {
  const mountSources = image.repoDigests
    .map((d) => d.slice(0, d.indexOf('@')))
    .map((n) => parseReference(n))
    .filter((r) => r.domain === ref.domain && r.path !== ref.path);
  // Top layer first in the output, as Docker prints it.
  for (const blob of [...blobs].reverse()) options.progress({ status: 'Preparing', progressDetail: {}, id: shortId(blob.digest) });
  const uploads = [...new Map(blobs.map((b) => [b.digest, b])).values()];
  let next = 0;
  let failure: unknown;
  // Workers stop taking blobs after the first failure; the push ends once all have stopped.
  const worker = async () => {
    while (next < uploads.length && failure === undefined) {
      const blob = uploads[next++]!;
      try {
        await pushBlob(images, client, ref, blob, mountSources, options.progress);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.maxConcurrentUploads, uploads.length) }, worker));
  if (failure !== undefined) throw failure;
  const configBytes = images.configBytes(image);
  if (!(await client.hasBlob(ref.path, image.id))) {
    await client.uploadBlob(ref.path, createReadStream(images.content.path(image.id)), image.id);
  }
  const docker = blobs.every((b) => DOCKER_LAYER_TYPES.has(b.mediaType));
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
    config: { mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, size: configBytes.length, digest: image.id },
    layers: blobs.map((b) => ({ mediaType: b.mediaType, size: b.size, digest: b.digest })),
  };
  const body = Buffer.from(JSON.stringify(manifest, null, 3));
  const digest = await client.putManifest(ref.path, tag, manifest.mediaType, body);
  images.content.write(body);
  images.addRepoDigest(image.id, familiarDigested(ref, digest));
  options.progress({ status: `${tag}: digest: ${digest} size: ${body.length}` });
  options.progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: body.length } });
  return { reference: `${familiarName(ref)}:${tag}`, imageId: image.id, tag, digest, size: body.length };
}

async function pushBlob(images: ImageStore, client: RegistryClient, ref: ImageReference, blob: LayerBlob, mountSources: ImageReference[], progress: Progress): Promise<void> {
  const id = shortId(blob.digest);
  if (await client.hasBlob(ref.path, blob.digest)) {
    progress({ status: 'Layer already exists', progressDetail: {}, id });
    return;
  }
  for (const source of mountSources) {
    if (await client.mountBlob(ref.path, source.path, blob.digest)) {
      progress({ status: `Mounted from ${source.path}`, progressDetail: {}, id });
      return;
    }
  }
  const counted = pipeline(createReadStream(images.content.path(blob.digest)), digester(byteProgress(progress, id, 'Pushing', blob.size)), () => undefined);
  await client.uploadBlob(ref.path, counted, blob.digest);
  progress({ status: 'Pushed', progressDetail: {}, id });
}
