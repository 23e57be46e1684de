/**
 * Builds OCI image layouts for tests from plain descriptions, independently of berth's own
 * image code: layer tars come from the `tar` CLI, digests from node:crypto, gzip from
 * node:zlib. The base layer is the busybox test rootfs (so containers can run `sh`); each
 * described layer maps a path to file content, a symlink, a whiteout (`.wh.<name>` in the
 * layer tar) or an opaque-directory marker (`<dir>/.wh..wh..opq`).
 *
 *   buildOciLayout(dir, { tag, layers, config?, architecture? })         one image
 *   buildOciIndexLayout(dir, { tag, platforms: [{ architecture, ... }] }) an image index, nested
 *     below index.json (index.json → index → one manifest per platform)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxTarball } from './harness.ts';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

export type LayerEntry = string | { symlink: string } | { whiteout: true } | { opaque: true };
/** Path inside the image (leading '/' optional) → what the layer puts there. */
export type LayerSpec = Record<string, LayerEntry>;

export interface ImageConfigSpec {
  Cmd?: string[];
  Env?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

export interface ImageSpec {
  /** Layers above the base, bottom first. */
  layers: LayerSpec[];
  config?: ImageConfigSpec;
  /** Default amd64. */
  architecture?: string;
  variant?: string;
  /** Default: the busybox rootfs as the first layer. 'none': only the described layers. */
  base?: 'busybox' | 'none';
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  manifest: Descriptor;
  config: Descriptor;
  /** Compressed layer blobs, bottom first. */
  layers: Descriptor[];
  /** sha256 of each uncompressed layer tar, bottom first: the config's rootfs.diff_ids. */
  diffIds: string[];
  architecture: string;
}

export interface BuiltLayout {
  dir: string;
  tag: string;
  /** What index.json's entry for `tag` points at (a manifest, or for an index layout, the nested index). */
  top: Descriptor;
}

export const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const FIXED_TIME = '2024-01-02T03:04:05Z';

/** A single-image OCI layout at `dir`, tagged `tag` in index.json. */
export function buildOciLayout(dir: string, spec: ImageSpec & { tag: string }): BuiltLayout & BuiltImage {
  initLayout(dir);
  const image = writeImage(dir, spec);
  writeIndexJson(dir, [{ ...image.manifest, annotations: { 'org.opencontainers.image.ref.name': spec.tag } }]);
  return { dir, tag: spec.tag, top: image.manifest, ...image };
}

/**
 * A multi-platform layout: index.json's entry for `tag` is an image index whose manifests
 * carry each platform (default: linux/amd64 and linux/arm64, the arm64 one with the same
 * files but an arm64 config, so it is not meant to run).
 */
export function buildOciIndexLayout(dir: string, spec: { tag: string; platforms: Array<ImageSpec & { architecture: string }> }): BuiltLayout & { index: Descriptor; images: BuiltImage[] } {
  initLayout(dir);
  const images = spec.platforms.map((p) => writeImage(dir, p));
  const indexDoc = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map((img) => ({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size, platform: img.manifest.platform })),
  };
  const index = putBlob(dir, Buffer.from(JSON.stringify(indexDoc)), OCI_INDEX);
  writeIndexJson(dir, [{ ...index, annotations: { 'org.opencontainers.image.ref.name': spec.tag } }]);
  return { dir, tag: spec.tag, top: index, index, images };
}

function initLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

function writeIndexJson(dir: string, manifests: Descriptor[]): void {
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}

function putBlob(dir: string, bytes: Buffer, mediaType: string): Descriptor {
  const digest = sha256(bytes);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  return { mediaType, digest, size: bytes.length };
}

function writeImage(dir: string, spec: ImageSpec): BuiltImage {
  const architecture = spec.architecture ?? 'amd64';
  const tars: Array<{ tar: Buffer; createdBy: string }> = [];
  if ((spec.base ?? 'busybox') === 'busybox') tars.push({ tar: readFileSync(busyboxTarball()), createdBy: 'busybox rootfs' });
  spec.layers.forEach((layer, i) => tars.push({ tar: layerTar(layer), createdBy: `layer ${i + 1}: ${Object.keys(layer).join(' ')}` }));

  const diffIds = tars.map((t) => sha256(t.tar));
  const layers = tars.map((t) => putBlob(dir, gzipSync(t.tar), OCI_LAYER_GZIP));
  const config = {
    created: FIXED_TIME,
    architecture,
    ...(spec.variant ? { variant: spec.variant } : {}),
    os: 'linux',
    config: {
      Env: spec.config?.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: spec.config?.Cmd ?? ['sh'],
      ...(spec.config?.Entrypoint ? { Entrypoint: spec.config.Entrypoint } : {}),
      ...(spec.config?.WorkingDir ? { WorkingDir: spec.config.WorkingDir } : {}),
      ...(spec.config?.Labels ? { Labels: spec.config.Labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: tars.map((t) => ({ created: FIXED_TIME, created_by: t.createdBy })),
  };
  const configDesc = putBlob(dir, Buffer.from(JSON.stringify(config)), OCI_CONFIG);
  const manifestDoc = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers };
  const manifest = putBlob(dir, Buffer.from(JSON.stringify(manifestDoc)), OCI_MANIFEST);
  manifest.platform = { architecture, os: 'linux', ...(spec.variant ? { variant: spec.variant } : {}) };
  return { manifest, config: configDesc, layers, diffIds, architecture };
}

/** An uncompressed layer tar with the entries `layer` describes, made by GNU tar from a staging dir. */
export function layerTar(layer: LayerSpec): Buffer {
  const staging = mkdtempSync('/tmp/berth-layer-');
  try {
    chmodSync(staging, 0o755);
    for (const [rawPath, entry] of Object.entries(layer)) {
      const path = rawPath.replace(/^\/+/, '').replace(/\/+$/, '');
      if (path === '' || path.split('/').includes('..')) throw new Error(`bad layer path ${JSON.stringify(rawPath)}`);
      const target = join(staging, path);
      if (typeof entry === 'string') {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, entry);
      } else if ('symlink' in entry) {
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(entry.symlink, target);
      } else if ('whiteout' in entry) {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(join(dirname(target), `.wh.${path.split('/').at(-1)!}`), '');
      } else {
        mkdirSync(target, { recursive: true });
        writeFileSync(join(target, '.wh..wh..opq'), '');
      }
    }
    return execFileSync('tar', ['--sort=name', '--mtime=@1700000000', '--owner=0', '--group=0', '--numeric-owner', '-C', staging, '-cf', '-', '.'], { maxBuffer: 256 * 1024 * 1024 });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
