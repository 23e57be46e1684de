/**
 * What the registry client checks of names and content: repository names, tags and digests
 * in the reference grammar (protocol/reference.ts), and bytes against their digest.
 * Content that does not match its digest is InvalidArgument.
 */
import { createHash, type Hash } from 'node:crypto';
import { EngineError } from '../../protocol/errors.ts';
import { ANY_DIGEST, DIGEST_HEX_LENGTH, REPOSITORY_PATH, TAG } from '../../protocol/reference.ts';
import { networkError } from './auth.ts';

const GENERIC_MEDIA_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

export function checkRepository(repository: string): void {
  if (repository.length > 255 || !REPOSITORY_PATH.test(repository)) {
    throw new EngineError('InvalidArgument', `invalid repository name ${JSON.stringify(repository)}`);
  }
}

/** Validates a digest and returns its (supported) algorithm. */
export function checkDigest(digest: string): string {
  const match = ANY_DIGEST.exec(digest);
  if (match === null) throw new EngineError('InvalidArgument', `invalid digest ${JSON.stringify(digest)}`);
  const algorithm = match[1]!;
  const hexLength = DIGEST_HEX_LENGTH[algorithm];
  if (hexLength === undefined) throw new EngineError('InvalidArgument', `unsupported digest algorithm in ${JSON.stringify(digest)}`);
  if (match[2]!.length !== hexLength || !/^[a-f0-9]+$/.test(match[2]!)) {
    throw new EngineError('InvalidArgument', `invalid digest ${JSON.stringify(digest)}`);
  }
  return algorithm;
}

/** Validates a tag or digest reference; true when it is a digest. */
export function checkReference(reference: string): boolean {
  if (reference.includes(':')) {
    checkDigest(reference);
    return true;
  }
  if (!TAG.test(reference)) throw new EngineError('InvalidArgument', `invalid tag ${JSON.stringify(reference)}`);
  return false;
}

export function digestOf(algorithm: string, bytes: Buffer): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Passes the body through, hashing and counting; errors at the end (or as soon as too long) on a mismatch. */
export async function* verifiedBytes(body: AsyncIterable<Uint8Array>, digest: string, algorithm: string, size: number | undefined, what: string): AsyncGenerator<Buffer> {
  const hash: Hash = createHash(algorithm);
  let length = 0;
  try {
    for await (const chunk of body) {
      length += chunk.byteLength;
      if (size !== undefined && length > size) {
        throw new EngineError('InvalidArgument', `blob ${digest}: received more than the expected ${size} bytes`);
      }
      hash.update(chunk);
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (err) {
    throw networkError(err, what);
  }
  if (size !== undefined && length !== size) {
    throw new EngineError('InvalidArgument', `blob ${digest}: received ${length} bytes, expected ${size}`);
  }
  const actual = `${algorithm}:${hash.digest('hex')}`;
  if (actual !== digest) throw new EngineError('InvalidArgument', `blob ${digest} failed verification: content has digest ${actual}`);
}

/** The manifest's media type: the Content-Type, unless that is generic, then the body's own `mediaType`. */
export function manifestMediaType(contentType: string | null, body: Buffer): string {
  const fromHeader = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC_MEDIA_TYPES.has(fromHeader)) return fromHeader;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown; schemaVersion?: unknown };
    if (typeof parsed.mediaType === 'string' && parsed.mediaType !== '') return parsed.mediaType;
    if (parsed.schemaVersion === 1) return 'application/vnd.docker.distribution.manifest.v1+json';
  } catch { /* not JSON; keep the header's type */ }
  return fromHeader === '' ? 'application/octet-stream' : fromHeader;
}
