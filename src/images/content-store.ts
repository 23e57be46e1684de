import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, notFound } from '../protocol/errors.ts';
import { fsyncDir, writeFileAtomic } from '../lib/atomic-file.ts';
import { DIGEST } from '../protocol/reference.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../lib/private-paths.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Digests come from manifests and archives, i.e. from strangers: check before using one in a path. */
export function checkDigest(digest: unknown, what = 'digest'): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw invalidArgument(`invalid ${what}: ${JSON.stringify(digest)}; expected sha256:<64 lowercase hex digits>`);
  return digest;
}

/** A Transform that hashes and counts what flows through it. */
export function digester(onBytes?: (total: number) => void): Transform & { result(): { digest: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(size);
      done(null, chunk);
    },
  }) as Transform & { result(): { digest: string; size: number } };
  let digest: string | undefined;
  t.result = () => ({ digest: (digest ??= `sha256:${hash.digest('hex')}`), size });
  return t;
}

/**
 * Content-addressed blobs (manifests, configs, compressed layers) under blobs/sha256/<hex>.
 * A blob is written to a temporary file, verified, fsynced and renamed into place: a blob
 * that exists has the bytes its name says.
 */
export class ContentStore {
  readonly #root: string;
  readonly #tmpDir: string;

  constructor(root: string, tmpDir: string) {
    this.#root = root;
    this.#tmpDir = tmpDir;
    mkdirSync(join(root, 'sha256'), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  path(digest: string): string {
    return join(this.#root, 'sha256', checkDigest(digest).slice('sha256:'.length));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  read(digest: string): Buffer {
    try {
      return readFileSync(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`content ${digest} not found`);
      throw err;
    }
  }

  /** Store bytes already in memory; `expected` (when given) must match. */
  write(data: Uint8Array, expected?: string): string {
    const digest = sha256(data);
    if (expected !== undefined && expected !== digest) throw invalidArgument(`digest mismatch: expected ${expected}, got ${digest}`);
    if (!this.has(digest)) writeFileAtomic(this.path(digest), data);
    return digest;
  }

  /** Stream a blob in; a digest or size that differs from `expected` stores nothing. */
  async ingest(source: Readable, expected: { digest?: string; size?: number } = {}, onBytes?: (received: number) => void): Promise<{ digest: string; size: number }> {
    mkdirSync(this.#tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const tmp = join(this.#tmpDir, `blob-${randomBytes(8).toString('hex')}`);
    const counter = digester(onBytes);
    try {
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE_MODE }));
      const { digest, size } = counter.result();
      if (expected.size !== undefined && expected.size !== size) throw invalidArgument(`size mismatch for ${expected.digest ?? 'blob'}: expected ${expected.size} bytes, got ${size}`);
      if (expected.digest !== undefined && expected.digest !== digest) throw invalidArgument(`digest mismatch: expected ${expected.digest}, got ${digest}`);
      if (this.has(digest)) {
        rmSync(tmp, { force: true });
      } else {
        const fd = openSync(tmp, 'r');
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, this.path(digest));
        fsyncDir(join(this.#root, 'sha256'));
      }
      return { digest, size };
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  list(): string[] {
    return readdirSync(join(this.#root, 'sha256'))
      .filter((name) => /^[a-f0-9]{64}$/.test(name))
      .map((name) => `sha256:${name}`);
  }

  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }
}
