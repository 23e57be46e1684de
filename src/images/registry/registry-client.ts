/**
 * A client for the OCI distribution-spec v2 HTTP API (what `docker pull/push/login` speak):
 * manifests, blobs (streamed and verified, never buffered whole), chunked uploads and
 * cross-repository mounts. Requests, authentication (auth.ts) and error mapping are
 * registry-session.ts; name and digest checks are content-checks.ts.
 *
 * Every failure is an EngineError (see registry-session.ts for the status mapping); content
 * that does not match its digest is InvalidArgument.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { EngineError } from '../../protocol/errors.ts';
import type { Response } from 'undici';
import { repositoryScope } from './auth.ts';
import { checkDigest, checkReference, checkRepository, digestOf, manifestMediaType, verifiedBytes } from './content-checks.ts';
import { declaredLength, discard, RegistrySession, type RegistryClientOptions } from './registry-session.ts';

export interface FetchedManifest {
  mediaType: string;
  /** sha256 of the body (or the reference's algorithm when fetched by digest, verified against it). */
  digest: string;
  body: Buffer;
}

/** Larger manifests are refused, as distribution and containerd do (4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Content is hashed as received, so ask for it unencoded: fetch would otherwise undo a
 * Content-Encoding transparently and the Content-Length would no longer describe the body.
 */
const IDENTITY: Record<string, string> = { 'Accept-Encoding': 'identity' };

export class RegistryClient {
  readonly host: string;
  readonly #session: RegistrySession;

  constructor(options: RegistryClientOptions) {
    this.#session = new RegistrySession(options);
    this.host = this.#session.host;
  }

  /** GET /v2/ with credentials: resolves if they are accepted (for `login`), throws EngineError otherwise. */
  async ping(): Promise<void> {
    const res = await this.#session.send({ method: 'GET', url: '/v2/', scopes: [] });
    if (res.ok) {
      await discard(res);
      return;
    }
    throw await this.#session.fail(res, { notFound: `${this.#session.base}/v2/ is not a registry API endpoint` });
  }

  async getManifest(repository: string, reference: string, accept: string[]): Promise<FetchedManifest> {
    checkRepository(repository);
    const byDigest = checkReference(reference);
    const shown = `${this.host}/${repository}${byDigest ? '@' : ':'}${reference}`;
    const res = await this.#session.send({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, ['pull'])],
      headers: accept.length > 0 ? { Accept: accept.join(', '), ...IDENTITY } : IDENTITY,
    });
    if (res.status !== 200) throw await this.#session.fail(res, { notFound: `manifest for ${shown} not found` });

    const body = await this.#session.readLimited(res, MAX_MANIFEST_BYTES, `manifest for ${shown}`);
    const declared = declaredLength(res);
    if (declared !== undefined && declared !== body.length) {
      throw new EngineError('InvalidArgument', `manifest for ${shown}: received ${body.length} bytes, registry declared ${declared}`);
    }
    let digest: string;
    if (byDigest) {
      const actual = digestOf(reference.slice(0, reference.indexOf(':')), body);
      if (actual !== reference) {
        throw new EngineError('InvalidArgument', `manifest verification failed for digest ${reference}: content has digest ${actual}`);
      }
      digest = reference;
    } else {
      digest = digestOf('sha256', body);
    }
    return { mediaType: manifestMediaType(res.headers.get('content-type'), body), digest, body };
  }

  /** Streams the blob; the stream errors (EngineError InvalidArgument) if its bytes do not hash to `digest` or the length differs from `size` (when given). */
  async fetchBlob(repository: string, digest: string, size?: number): Promise<Readable> {
    checkRepository(repository);
    const algorithm = checkDigest(digest);
    const res = await this.#session.send({
      method: 'GET',
      url: `/v2/${repository}/blobs/${digest}`,
      scopes: [repositoryScope(repository, ['pull'])],
      headers: IDENTITY,
    });
    if (res.status !== 200) {
      throw await this.#session.fail(res, { notFound: `blob ${digest} not found in ${this.host}/${repository}` });
    }
    const declared = declaredLength(res);
    if (size !== undefined && declared !== undefined && declared !== size) {
      await discard(res);
      throw new EngineError('InvalidArgument', `blob ${digest}: registry declared ${declared} bytes, expected ${size}`);
    }
    const body = res.body;
    if (body === null) throw new EngineError('Unavailable', `blob ${digest}: registry ${this.host} sent no body`);
    const what = `registry ${this.host} is unavailable: reading blob ${digest}`;
    return Readable.from(verifiedBytes(body, digest, algorithm, size, what), { objectMode: false });
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkDigest(digest);
    const res = await this.#session.send({ method: 'HEAD', url: `/v2/${repository}/blobs/${digest}`, scopes: [repositoryScope(repository, ['pull'])] });
    if (res.status === 200) {
      await discard(res);
      return true;
    }
    if (res.status === 404) {
      await discard(res);
      return false;
    }
    throw await this.#session.fail(res, {});
  }

  /**
   * Upload: POST /blobs/uploads/, PATCH the stream (chunked), PUT ?digest=. When `digest` is
   * not known in advance it is computed while streaming; when it is, the bytes are checked
   * against it before the upload is committed.
   */
  async uploadBlob(repository: string, source: Readable, digest?: string): Promise<{ digest: string; size: number }> {
    checkRepository(repository);
    const algorithm = digest === undefined ? 'sha256' : checkDigest(digest);
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const started = await this.#session.send({ method: 'POST', url: `/v2/${repository}/blobs/uploads/`, scopes });
    if (started.status !== 202) throw await this.#session.fail(started, {});
    let location = this.#session.location(started);
    await discard(started);

    const hash = createHash(algorithm);
    let size = 0;
    let sourceError: unknown;
    async function* counted(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of source as AsyncIterable<Buffer | string>) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          hash.update(bytes);
          size += bytes.length;
          yield bytes;
        }
      } catch (err) {
        sourceError = err;
        throw err;
      }
    }
    let patched: Response;
    try {
      patched = await this.#session.send({
        method: 'PATCH',
        url: location,
        scopes,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: counted(),
      });
    } catch (err) {
      await this.#session.cancelUpload(location, scopes);
      throw sourceError === undefined ? err : EngineError.from(sourceError);
    }
    if (patched.status !== 202 && patched.status !== 204) {
      const error = await this.#session.fail(patched, {});
      await this.#session.cancelUpload(location, scopes);
      throw error;
    }
    location = this.#session.location(patched);
    await discard(patched);

    const computed = `${algorithm}:${hash.digest('hex')}`;
    if (digest !== undefined && digest !== computed) {
      await this.#session.cancelUpload(location, scopes);
      throw new EngineError('InvalidArgument', `blob upload to ${this.host}/${repository}: content has digest ${computed}, expected ${digest}`);
    }
    const commit = new URL(location);
    commit.searchParams.set('digest', computed);
    const done = await this.#session.send({ method: 'PUT', url: commit, scopes, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(0) });
    if (done.status !== 201 && done.status !== 204) throw await this.#session.fail(done, {});
    await discard(done);
    return { digest: computed, size };
  }

  /** Cross-repository mount (POST ?mount=&from=); returns true if mounted, false if the registry wants a normal upload. */
  async mountBlob(repository: string, fromRepository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkRepository(fromRepository);
    checkDigest(digest);
    const url = new URL(`/v2/${repository}/blobs/uploads/`, this.#session.base);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', fromRepository);
    const scopes = [repositoryScope(repository, ['pull', 'push']), repositoryScope(fromRepository, ['pull'])];
    const res = await this.#session.send({ method: 'POST', url, scopes });
    if (res.status === 201) {
      await discard(res);
      return true;
    }
    if (res.status === 202) {
      // The registry opened an ordinary upload session instead; we do not use it.
      const location = res.headers.get('location');
      await discard(res);
      if (location !== null) await this.#session.cancelUpload(new URL(location, url).href, scopes);
      return false;
    }
    throw await this.#session.fail(res, {});
  }

  async putManifest(repository: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
    checkRepository(repository);
    const byDigest = checkReference(reference);
    let digest = digestOf('sha256', body);
    if (byDigest) {
      const actual = digestOf(reference.slice(0, reference.indexOf(':')), body);
      if (actual !== reference) {
        throw new EngineError('InvalidArgument', `manifest content has digest ${actual}, not the reference ${reference}`);
      }
      digest = reference;
    }
    const res = await this.#session.send({
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      headers: { 'Content-Type': mediaType },
      body,
    });
    if (!res.ok) throw await this.#session.fail(res, {});
    await discard(res);
    return digest;
  }
}
