import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { invalidArgument } from '../protocol/errors.ts';

export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The source's bytes, decompressed if they start with gzip's or zstd's magic. */
export async function* decompress(source: Readable): AsyncGenerator<Buffer> {
  const input: AsyncIterator<Buffer> = source[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < ZSTD_MAGIC.length) {
    const next = await input.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const all = async function* () {
    if (head.length > 0) yield head;
    for (let next = await input.next(); !next.done; next = await input.next()) yield next.value;
  };
  const options = { chunkSize: 128 * 1024 }; // 8x the default: much faster, fewer writes
  const codec = head.subarray(0, 2).equals(GZIP_MAGIC) ? zlib.createGunzip(options)
    : head.subarray(0, 4).equals(ZSTD_MAGIC) ? zlib.createZstdDecompress(options)
    : undefined;
  if (!codec) return yield* all();

  const compressed = Readable.from(all());
  let sourceError: unknown;
  compressed.once('error', (err) => {
    sourceError = err;
    codec.destroy(err);
  });
  compressed.pipe(codec);
  try {
    for await (const chunk of codec) yield chunk as Buffer;
  } catch (err) {
    if (err === sourceError) throw err;
    throw invalidArgument(`decompression failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    compressed.destroy();
  }
}
