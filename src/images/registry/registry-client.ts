/**
 * A client for the OCI distribution-spec v2 HTTP API (what `docker pull/push/login` speak):
 * manifests, blobs (streamed and verified, never buffered whole), chunked uploads,
 * cross-repository mounts, and Basic/Bearer authentication (auth.ts).
 *
 * Every failure is an EngineError: 401 → Unauthenticated, 403 → PermissionDenied ("unauthorized: …",
 * "denied: …"), 404 → NotFound, content that does not match its digest → InvalidArgument,
 * an unreachable registry → Unavailable. The registry's own error code (e.g.
 * MANIFEST_UNKNOWN) is kept as the error's `code`.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { EngineError } from '../../protocol/errors.ts';
import { Agent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { connectOptions, registryTls, type RegistryTls } from './certs.ts';
import { errorText, mergeScopes, networkError, RegistryAuth, repositoryScope } from './auth.ts';
import type { RegistryCredentials } from '../../protocol/registry-auth.ts';

export interface RegistryClientOptions {
  /** Registry host and optional port, e.g. "127.0.0.1:5000" or "registry-1.docker.io". */
  host: string;
  /** Loopback or listed in insecure-registries: HTTPS without certificate checks, else plain HTTP. */
  insecure: boolean;
  /** CAs and client certificate for this registry (certs.d); default: read from certsDir(). */
  tls?: RegistryTls | undefined;
  credentials?: RegistryCredentials;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface FetchedManifest {
  mediaType: string;
  /** sha256 of the body (or the reference's algorithm when fetched by digest, verified against it). */
  digest: string;
  body: Buffer;
}

/** Larger manifests are refused, as distribution and containerd do (4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/**
 * Content is hashed as received, so ask for it unencoded: fetch would otherwise undo a
 * Content-Encoding transparently and the Content-Length would no longer describe the body.
 */
const IDENTITY: Record<string, string> = { 'Accept-Encoding': 'identity' };

const GENERIC_MEDIA_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

type RequestBody = Buffer | string | AsyncIterable<Uint8Array>;

interface SendOptions {
  method: string;
  /** A path below the registry root ("/v2/…") or an absolute URL (upload locations). */
  url: string | URL;
  scopes: string[];
  headers?: Record<string, string>;
  body?: RequestBody;
}

interface FailContext {
  /** Prefix for 404s, e.g. "manifest for host/repo:tag not found". */
  notFound?: string;
}

export class RegistryClient {
  readonly host: string;
  #base: string;
  /** Insecure registries: HTTPS without certificate checks is tried first, then plain HTTP (Docker's order). */
  #probe: Promise<void> | undefined;
  #dispatcher: Dispatcher | undefined;
  readonly #userAgent: string;
  readonly #signal: AbortSignal | undefined;
  readonly #auth: RegistryAuth;

  constructor(options: RegistryClientOptions) {
    if (options.host === '' || /[/\s@?#]/.test(options.host)) {
      throw new EngineError('InvalidArgument', `invalid registry host ${JSON.stringify(options.host)}`);
    }
    this.host = options.host;
    this.#base = `https://${options.host}`;
    const tls = 'tls' in options ? options.tls : registryTls(options.host);
    if (options.insecure) this.#probe = this.#chooseScheme(tls);
    else if (tls) this.#dispatcher = new Agent({ connect: connectOptions(tls, true) });
    this.#userAgent = options.userAgent ?? 'berth';
    this.#signal = options.signal;
    this.#auth = new RegistryAuth(options.credentials, this.#userAgent, () => ({ host: this.host, https: this.#base.startsWith('https:'), dispatcher: this.#dispatcher }), options.signal);
  }

  /** HTTPS if the registry speaks TLS at all (any certificate), else HTTP. */
  async #chooseScheme(tls: RegistryTls | undefined): Promise<void> {
    const lax = new Agent({ connect: connectOptions(tls, false) });
    try {
      const res = await fetch(`https://${this.host}/v2/`, { method: 'GET', headers: { 'User-Agent': this.#userAgent }, dispatcher: lax, ...(this.#signal ? { signal: this.#signal } : {}) });
      await discard(res);
      this.#dispatcher = lax;
    } catch {
      this.#base = `http://${this.host}`;
      await lax.close().catch(() => undefined);
    }
  }

  /** GET /v2/ with credentials: resolves if they are accepted (for `login`), throws EngineError otherwise. */
  async ping(): Promise<void> {
    const res = await this.#send({ method: 'GET', url: '/v2/', scopes: [] });
    if (res.ok) {
      await discard(res);
      return;
    }
    throw await this.#fail(res, { notFound: `${this.#base}/v2/ is not a registry API endpoint` });
  }

  async getManifest(repository: string, reference: string, accept: string[]): Promise<FetchedManifest> {
    checkRepository(repository);
    const byDigest = checkReference(reference);
    const shown = `${this.host}/${repository}${byDigest ? '@' : ':'}${reference}`;
    const res = await this.#send({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, ['pull'])],
      headers: accept.length > 0 ? { Accept: accept.join(', '), ...IDENTITY } : IDENTITY,
    });
    if (res.status !== 200) throw await this.#fail(res, { notFound: `manifest for ${shown} not found` });

    const body = await this.#readLimited(res, MAX_MANIFEST_BYTES, `manifest for ${shown}`);
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
    const res = await this.#send({
      method: 'GET',
      url: `/v2/${repository}/blobs/${digest}`,
      scopes: [repositoryScope(repository, ['pull'])],
      headers: IDENTITY,
    });
    if (res.status !== 200) {
      throw await this.#fail(res, { notFound: `blob ${digest} not found in ${this.host}/${repository}` });
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
    const res = await this.#send({ method: 'HEAD', url: `/v2/${repository}/blobs/${digest}`, scopes: [repositoryScope(repository, ['pull'])] });
    if (res.status === 200) {
      await discard(res);
      return true;
    }
    if (res.status === 404) {
      await discard(res);
      return false;
    }
    throw await this.#fail(res, {});
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
    const started = await this.#send({ method: 'POST', url: `/v2/${repository}/blobs/uploads/`, scopes });
    if (started.status !== 202) throw await this.#fail(started, {});
    let location = this.#location(started);
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
      patched = await this.#send({
        method: 'PATCH',
        url: location,
        scopes,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: counted(),
      });
    } catch (err) {
      await this.#cancelUpload(location, scopes);
      throw sourceError === undefined ? err : EngineError.from(sourceError);
    }
    if (patched.status !== 202 && patched.status !== 204) {
      const error = await this.#fail(patched, {});
      await this.#cancelUpload(location, scopes);
      throw error;
    }
    location = this.#location(patched);
    await discard(patched);

    const computed = `${algorithm}:${hash.digest('hex')}`;
    if (digest !== undefined && digest !== computed) {
      await this.#cancelUpload(location, scopes);
      throw new EngineError('InvalidArgument', `blob upload to ${this.host}/${repository}: content has digest ${computed}, expected ${digest}`);
    }
    const commit = new URL(location);
    commit.searchParams.set('digest', computed);
    const done = await this.#send({ method: 'PUT', url: commit, scopes, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(0) });
    if (done.status !== 201 && done.status !== 204) throw await this.#fail(done, {});
    await discard(done);
    return { digest: computed, size };
  }

  /** Cross-repository mount (POST ?mount=&from=); returns true if mounted, false if the registry wants a normal upload. */
  async mountBlob(repository: string, fromRepository: string, digest: string): Promise<boolean> {
    checkRepository(repository);
    checkRepository(fromRepository);
    checkDigest(digest);
    const url = new URL(`/v2/${repository}/blobs/uploads/`, this.#base);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', fromRepository);
    const scopes = [repositoryScope(repository, ['pull', 'push']), repositoryScope(fromRepository, ['pull'])];
    const res = await this.#send({ method: 'POST', url, scopes });
    if (res.status === 201) {
      await discard(res);
      return true;
    }
    if (res.status === 202) {
      // The registry opened an ordinary upload session instead; we do not use it.
      const location = res.headers.get('location');
      await discard(res);
      if (location !== null) await this.#cancelUpload(new URL(location, url).href, scopes);
      return false;
    }
    throw await this.#fail(res, {});
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
    const res = await this.#send({
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      scopes: [repositoryScope(repository, ['pull', 'push'])],
      headers: { 'Content-Type': mediaType },
      body,
    });
    if (!res.ok) throw await this.#fail(res, {});
    await discard(res);
    return digest;
  }

  /**
   * One request with authentication: answers a 401 challenge by obtaining credentials for the
   * operation's scopes plus the ones the challenge names, and retries. Streaming bodies cannot
   * be replayed, so they rely on an earlier request (the upload POST) having authenticated.
   */
  async #send(options: SendOptions): Promise<Response> {
    await this.#probe;
    const url = typeof options.url === 'string' && options.url.startsWith('/') ? new URL(options.url, this.#base) : new URL(options.url);
    const replayable = options.body === undefined || typeof options.body === 'string' || Buffer.isBuffer(options.body);
    let extraScopes: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const scopes = [...options.scopes, ...extraScopes];
      // Credentials go only to the registry itself, never to another host an upload Location names.
      const authorization = url.origin === new URL(this.#base).origin ? await this.#auth.authorization(scopes) : undefined;
      const headers: Record<string, string> = { 'User-Agent': this.#userAgent, ...options.headers };
      if (authorization !== undefined) headers.Authorization = authorization;
      const init: RequestInit & { duplex?: 'half' } = { method: options.method, headers, redirect: 'follow', ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}) };
      // Buffers are valid bodies at run time; the DOM-style typing only wants ArrayBuffer-backed views.
      if (options.body !== undefined) init.body = options.body as NonNullable<RequestInit['body']>;
      if (!replayable) init.duplex = 'half';
      if (this.#signal !== undefined) init.signal = this.#signal;
      let res: Response;
      try {
        res = await fetch(url, init);
      } catch (err) {
        throw networkError(err, `registry ${this.host} is unavailable: ${options.method} ${url.origin}${url.pathname}`);
      }
      if (res.status !== 401 || !replayable || attempt === 2) return res;
      if (!this.#auth.setChallenge(res.headers.get('www-authenticate'))) return res;
      const sentScopes = mergeScopes(scopes).join(' ');
      extraScopes = this.#auth.challengeScopes();
      const wantedScopes = mergeScopes([...options.scopes, ...extraScopes]).join(' ');
      // Retry only when something would change: first credentials, a token for more scopes,
      // or a fresh token after the registry rejected a cached one.
      const retry =
        authorization === undefined ||
        (authorization.startsWith('Bearer ') && (wantedScopes !== sentScopes || (attempt === 0 && this.#auth.challengeError() === 'invalid_token')));
      if (!retry) return res;
      if (this.#auth.challengeError() === 'invalid_token') this.#auth.dropTokens();
      await discard(res);
    }
  }

  /** The EngineError for an unexpected response, text taken from the registry's `errors` body like Docker does. */
  async #fail(res: Response, context: FailContext): Promise<EngineError> {
    const text = await errorText(res);
    const registryError = parseRegistryError(text);
    const status = res.status;
    let message = registryError?.text;
    let kind: EngineError['kind'];
    let code = registryError?.code;
    if (status === 401) {
      kind = 'Unauthenticated';
      message ??= 'unauthorized: authentication required';
      code ??= 'UNAUTHORIZED';
    } else if (status === 403) {
      kind = 'PermissionDenied';
      message ??= 'denied: requested access to the resource is denied';
      code ??= 'DENIED';
    } else if (status === 404) {
      kind = 'NotFound';
      message ??= 'not found';
      if (context.notFound !== undefined) message = `${context.notFound}: ${message}`;
    } else if (status === 409) {
      kind = 'Conflict';
    } else if (status === 405) {
      kind = 'NotImplemented';
    } else if (status === 429 || status >= 500) {
      kind = 'Unavailable';
    } else {
      kind = 'InvalidArgument';
    }
    message ??= `registry ${this.host} answered ${`${status} ${res.statusText}`.trim()}${res.url ? ` to ${new URL(res.url).pathname}` : ''}`;
    return new EngineError(kind, message, code === undefined ? undefined : { code });
  }

  #location(res: Response): string {
    const location = res.headers.get('location');
    if (location === null) throw new EngineError('Unavailable', `registry ${this.host} started a blob upload without a Location`);
    return new URL(location, res.url).href;
  }

  /** Best effort: tell the registry to drop an upload session we will not finish. */
  async #cancelUpload(location: string, scopes: string[]): Promise<void> {
    try {
      const res = await this.#send({ method: 'DELETE', url: location, scopes });
      await discard(res);
    } catch { /* the session expires on its own */ }
  }

  async #readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
    const declared = declaredLength(res);
    if (declared !== undefined && declared > limit) {
      await discard(res);
      throw new EngineError('InvalidArgument', `${what} is too large (${declared} bytes, limit ${limit})`);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of res.body ?? []) {
        length += chunk.length;
        if (length > limit) {
          throw new EngineError('InvalidArgument', `${what} is too large (more than ${limit} bytes)`);
        }
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    } catch (err) {
      throw networkError(err, `registry ${this.host} is unavailable: reading ${what}`);
    }
    return Buffer.concat(chunks, length);
  }
}

/** Passes the body through, hashing and counting; errors at the end (or as soon as too long) on a mismatch. */
async function* verifiedBytes(body: AsyncIterable<Uint8Array>, digest: string, algorithm: string, size: number | undefined, what: string): AsyncGenerator<Buffer> {
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

/** The Content-Length when it describes the body we read (no content coding was undone). */
function declaredLength(res: Response): number | undefined {
  const encoding = res.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const value = res.headers.get('content-length');
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

function digestOf(algorithm: string, bytes: Buffer): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function checkRepository(repository: string): void {
  if (repository.length > 255 || !REPOSITORY.test(repository)) {
    throw new EngineError('InvalidArgument', `invalid repository name ${JSON.stringify(repository)}`);
  }
}

/** Validates a digest and returns its (supported) algorithm. */
function checkDigest(digest: string): string {
  const match = DIGEST.exec(digest);
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
function checkReference(reference: string): boolean {
  if (reference.includes(':')) {
    checkDigest(reference);
    return true;
  }
  if (!TAG.test(reference)) throw new EngineError('InvalidArgument', `invalid tag ${JSON.stringify(reference)}`);
  return false;
}

/** The manifest's media type: the Content-Type, unless that is generic, then the body's own `mediaType`. */
function manifestMediaType(contentType: string | null, body: Buffer): string {
  const fromHeader = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC_MEDIA_TYPES.has(fromHeader)) return fromHeader;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown; schemaVersion?: unknown };
    if (typeof parsed.mediaType === 'string' && parsed.mediaType !== '') return parsed.mediaType;
    if (parsed.schemaVersion === 1) return 'application/vnd.docker.distribution.manifest.v1+json';
  } catch { /* not JSON; keep the header's type */ }
  return fromHeader === '' ? 'application/octet-stream' : fromHeader;
}

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}` → "manifest unknown: manifest unknown" (Docker's format). */
function parseRegistryError(text: string): { code: string; text: string } | undefined {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(body.errors) || body.errors.length === 0) return undefined;
    const first = body.errors[0] as { code?: unknown; message?: unknown };
    if (typeof first.code !== 'string') return undefined;
    const code = first.code;
    const label = code.toLowerCase().replaceAll('_', ' ');
    const message = typeof first.message === 'string' && first.message !== '' ? first.message : label;
    return { code, text: `${label}: ${message}` };
  } catch {
    return undefined;
  }
}

/** Releases a response's connection without reading what is left of the body. */
async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch { /* already consumed or errored */ }
}

