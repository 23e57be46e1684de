import { invalidArgument, notFound } from '../protocol/errors.ts';
import { checkDigest, type Descriptor } from './content-store.ts';
import { INDEX_MEDIA_TYPES, LAYER_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaTypes } from './media-types.ts';

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

/** Largest manifest or index accepted: real ones are a few KiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor>;
  if (typeof d !== 'object' || d === null) throw invalidArgument(`${what}: not a descriptor object`);
  if (typeof d.mediaType !== 'string') throw invalidArgument(`${what}: mediaType missing`);
  checkDigest(d.digest, `${what} digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalidArgument(`${what}: invalid size ${JSON.stringify(d.size)}`);
  return d as Descriptor;
}

/**
 * Parse a manifest or an index from an untrusted source. `contentType` (from the registry or
 * the layout) is a hint; the document's own mediaType, then its shape, decide.
 */
export function parseManifest(bytes: Buffer, contentType?: string): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalidArgument(`manifest too large: ${bytes.length} bytes`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalidArgument(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidArgument('manifest is not a JSON object');
  if (doc.schemaVersion === 1) throw invalidArgument('unsupported manifest: Docker Image manifest version 2, schema 1 is deprecated and not supported');
  if (doc.schemaVersion !== 2) throw invalidArgument(`unsupported manifest schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : (contentType?.split(';')[0]?.trim() ?? '');
  const isIndex = INDEX_MEDIA_TYPES.has(mediaType) || (!MANIFEST_MEDIA_TYPES.has(mediaType) && Array.isArray(doc.manifests));
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw invalidArgument('image index has no manifests');
    const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
    return { kind: 'index', index: { schemaVersion: 2, mediaType: mediaType || MediaTypes.ociIndex, manifests, ...(isStringMap(doc.annotations) ? { annotations: doc.annotations } : {}) } };
  }
  if (mediaType && !MANIFEST_MEDIA_TYPES.has(mediaType)) throw invalidArgument(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
  if (!Array.isArray(doc.layers)) throw invalidArgument('manifest has no layers');
  const config = descriptor(doc.config, 'config');
  const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
  for (const [i, layer] of layers.entries()) {
    if (!LAYER_MEDIA_TYPES.has(layer.mediaType)) throw invalidArgument(`layers[${i}]: unsupported layer media type ${JSON.stringify(layer.mediaType)}`);
  }
  return { kind: 'manifest', manifest: { schemaVersion: 2, mediaType: mediaType || MediaTypes.ociManifest, config, layers, ...(isStringMap(doc.annotations) ? { annotations: doc.annotations } : {}) } };
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');
}

/** The index entry for a platform: exact variant if asked, else the first matching OS/architecture. */
export function selectPlatform(index: ImageIndex, wanted: { os: string; architecture: string; variant?: string }): Descriptor {
  const candidates = index.manifests.filter((m) => MANIFEST_MEDIA_TYPES.has(m.mediaType) && m.platform?.os === wanted.os && m.platform.architecture === wanted.architecture);
  const exact = wanted.variant ? candidates.find((m) => m.platform?.variant === wanted.variant) : undefined;
  const pick = exact ?? candidates.find((m) => !m.platform?.variant) ?? candidates[0];
  if (!pick) {
    const spec = [wanted.os, wanted.architecture, wanted.variant].filter(Boolean).join('/');
    throw notFound(`no matching manifest for ${spec} in the manifest list entries`);
  }
  return pick;
}
