import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { readTar } from '../lib/tar/reader.ts';
import { decompress } from './decompress.ts';
import { EngineError, invalidArgument } from '../protocol/errors.ts';
import type { LayerBlob } from '../protocol/records.ts';
import { checkDigest, type Descriptor } from './content-store.ts';
import type { ImageStore } from './image-store.ts';
import { hostPlatform } from './image-config.ts';
import { parseManifest, selectPlatform, type ImageManifest } from './manifest.ts';
import { normalizeReference } from '../protocol/reference.ts';
import { sniffLayerMediaType, unpackAndCommit } from './unpack-image.ts';

const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** What the archive holds: every regular file, stored in the content store by its digest. */
interface ArchiveFiles {
  files: Map<string, { digest: string; size: number }>;
  symlinks: Map<string, string>;
}

export interface LoadedImage {
  id: string;
  tags: string[];
}

/**
 * `docker load`: a docker-save archive (manifest.json) or an OCI image layout (index.json),
 * plain or compressed, from a stream. Every file is checked as it is stored; an archive that
 * is malformed, truncated or lies about a digest loads nothing that is kept.
 */
export async function loadArchive(images: ImageStore, source: Readable, onMessage: (line: string) => void): Promise<LoadedImage[]> {
  const releases: Array<() => void> = [];
  try {
    const archive = await readArchive(images, source, (digest) => releases.push(images.lease([digest])));
    const read = (path: string) => readFile(images, archive, path);
    if (archive.files.has('manifest.json')) return await loadDockerArchive(images, archive, read, onMessage);
    if (archive.files.has('index.json')) return await loadOciLayout(images, archive, read, onMessage);
    throw invalidArgument('invalid archive: it has neither manifest.json (docker save) nor index.json (OCI image layout)');
  } finally {
    for (const release of releases) release();
  }
}

/**
 * Read the archive entry by entry (berth's tar reader, as for layers): each regular file is
 * stored in the content store as it streams by, links are remembered by name. Sequential, so a
 * truncated archive or a client that goes away ends the read with an error, never a hang.
 */
async function readArchive(images: ImageStore, source: Readable, onBlob: (digest: string) => void): Promise<ArchiveFiles> {
  const files: ArchiveFiles['files'] = new Map();
  const symlinks: ArchiveFiles['symlinks'] = new Map();
  try {
    for await (const entry of readTar(decompress(source))) {
      const path = archivePath(entry.path);
      if (entry.kind === 'file') {
        const blob = await images.content.ingest(Readable.from(entry.body), { size: entry.size });
        onBlob(blob.digest);
        files.set(path, blob);
      } else if (entry.kind === 'symlink') {
        symlinks.set(path, posix.join(posix.dirname(path), entry.linkpath));
      } else if (entry.kind === 'hardlink') {
        symlinks.set(path, archivePath(entry.linkpath));
      }
    }
  } catch (err) {
    // Read the rest and drop it, so the client finishes sending and gets the error as an answer.
    source.resume();
    if (!EngineError.is(err)) throw invalidArgument(`invalid archive: ${(err as Error).message}`);
    throw err.kind === 'InvalidArgument' ? invalidArgument(`invalid archive: ${err.message.replace(/^layer (archive|entry) ?/, '')}`) : err;
  }
  if (files.size === 0) throw invalidArgument('invalid archive: it is empty or not a tar archive');
  return { files, symlinks };
}

/** Archive member names are data: keep them inside the archive's own namespace. */
function archivePath(raw: string): string {
  const normal = posix.normalize(raw.replace(/^\.\/+/, '')).replace(/\/+$/, '');
  if (raw.startsWith('/') || normal === '..' || normal.startsWith('../')) throw invalidArgument(`invalid archive: entry ${JSON.stringify(raw)} points outside the archive`);
  return normal;
}

function resolveFile(archive: ArchiveFiles, path: string): { digest: string; size: number } {
  let current = archivePath(path);
  for (let hops = 0; hops < 16; hops++) {
    const file = archive.files.get(current);
    if (file) return file;
    const target = archive.symlinks.get(current);
    if (target === undefined) break;
    current = archivePath(target);
  }
  throw invalidArgument(`invalid archive: ${path} is missing`);
}

function readFile(images: ImageStore, archive: ArchiveFiles, path: string): Buffer {
  const file = resolveFile(archive, path);
  if (file.size > MAX_JSON_BYTES) throw invalidArgument(`invalid archive: ${path} is too large (${file.size} bytes)`);
  return images.content.read(file.digest);
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw invalidArgument(`invalid archive: ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

async function loadDockerArchive(images: ImageStore, archive: ArchiveFiles, read: (p: string) => Buffer, onMessage: (line: string) => void): Promise<LoadedImage[]> {
  const manifest = parseJson<unknown>(read('manifest.json'), 'manifest.json');
  if (!Array.isArray(manifest)) throw invalidArgument('invalid archive: manifest.json is not a list');
  const loaded: LoadedImage[] = [];
  for (const [i, item] of (manifest as Array<Record<string, unknown>>).entries()) {
    if (typeof item !== 'object' || item === null || typeof item.Config !== 'string' || !Array.isArray(item.Layers) || !item.Layers.every((l) => typeof l === 'string')) {
      throw invalidArgument(`invalid archive: manifest.json entry ${i} needs Config (a path) and Layers (a list of paths)`);
    }
    const tags = Array.isArray(item.RepoTags) ? item.RepoTags.filter((t): t is string => typeof t === 'string').map(normalizeReference) : [];
    const layers: LayerBlob[] = (item.Layers as string[]).map((path) => {
      const file = resolveFile(archive, path);
      return { mediaType: sniffLayerMediaType(images.content.path(file.digest)), digest: file.digest, size: file.size };
    });
    const image = await unpackAndCommit(images, read(item.Config), layers);
    loaded.push(finish(images, image.id, tags, onMessage));
  }
  return loaded;
}

async function loadOciLayout(images: ImageStore, archive: ArchiveFiles, read: (p: string) => Buffer, onMessage: (line: string) => void): Promise<LoadedImage[]> {
  const blob = (d: Descriptor): Buffer => {
    const bytes = read(blobPath(archive, d));
    if (bytes.length !== d.size) throw invalidArgument(`invalid archive: ${d.digest} has ${bytes.length} bytes, its descriptor says ${d.size}`);
    return bytes;
  };
  const top = parseManifest(read('index.json'));
  if (top.kind !== 'index') throw invalidArgument('invalid archive: index.json is not an image index');
  const loaded: LoadedImage[] = [];
  for (const entry of top.index.manifests) {
    let parsed = parseManifest(blob(entry), entry.mediaType);
    if (parsed.kind === 'index') {
      const chosen = selectPlatform(parsed.index, hostPlatform());
      parsed = parseManifest(blob(chosen), chosen.mediaType);
      if (parsed.kind !== 'manifest') throw invalidArgument('invalid archive: an index nested in an index in an index');
    }
    const manifest: ImageManifest = parsed.manifest;
    const layers: LayerBlob[] = manifest.layers.map((d) => {
      const file = archive.files.get(blobPath(archive, d))!;
      if (file.size !== d.size) throw invalidArgument(`invalid archive: layer ${d.digest} has ${file.size} bytes, its descriptor says ${d.size}`);
      return { mediaType: d.mediaType, digest: d.digest, size: d.size };
    });
    const image = await unpackAndCommit(images, blob(manifest.config), layers);
    const name = entry.annotations?.['io.containerd.image.name'] ?? entry.annotations?.['org.opencontainers.image.ref.name'];
    // A bare tag ("latest") names no repository; only a full reference becomes a tag.
    const tags = name !== undefined && /[:/]/.test(name) ? [normalizeReference(name)] : [];
    const known = loaded.find((l) => l.id === image.id);
    if (known) known.tags.push(...finish(images, image.id, tags, onMessage).tags);
    else loaded.push(finish(images, image.id, tags, onMessage));
  }
  return loaded;
}

/** blobs/sha256/<hex> in the layout, which must hold exactly those bytes. */
function blobPath(archive: ArchiveFiles, d: Descriptor): string {
  const digest = checkDigest(d.digest);
  const path = `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const file = archive.files.get(path);
  if (!file) throw invalidArgument(`invalid archive: blob ${digest} is missing`);
  if (file.digest !== digest) throw invalidArgument(`invalid archive: ${path} does not match its digest (content is ${file.digest})`);
  return path;
}

function finish(images: ImageStore, id: string, tags: string[], onMessage: (line: string) => void): LoadedImage {
  for (const tag of tags) {
    const previous = images.find(tag);
    if (previous && previous.id !== id) onMessage(`The image ${tag} already exists, renaming the old one with ID ${previous.id} to empty string`);
    images.tag(id, tag);
    onMessage(`Loaded image: ${tag}`);
  }
  if (tags.length === 0) onMessage(`Loaded image ID: ${id}`);
  return { id, tags };
}
