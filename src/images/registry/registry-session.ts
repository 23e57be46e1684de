/**
 * The plumbing under RegistryClient: one registry host, its scheme (HTTPS, or HTTP for an
 * insecure registry that does not speak TLS), TLS material, and requests that answer a 401
 * challenge with credentials (auth.ts) and turn unexpected responses into EngineErrors.
 *
 * 401 → Unauthenticated, 403 → PermissionDenied ("unauthorized: …", "denied: …"),
 * 404 → NotFound, an unreachable registry → Unavailable. The registry's own error code (e.g.
 * MANIFEST_UNKNOWN) is kept as the error's `code`.
 */
import { EngineError } from '../../protocol/errors.ts';
import type { RegistryCredentials } from '../../protocol/registry-auth.ts';
import { Agent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { connectOptions, registryTls, type RegistryTls } from './certs.ts';
import { errorText, mergeScopes, networkError, RegistryAuth } from './auth.ts';

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

type RequestBody = Buffer | string | AsyncIterable<Uint8Array>;

export interface SendOptions {
  method: string;
  /** A path below the registry root ("/v2/…") or an absolute URL (upload locations). */
  url: string | URL;
  scopes: string[];
  headers?: Record<string, string>;
  body?: RequestBody;
}

export interface FailContext {
  /** Prefix for 404s, e.g. "manifest for host/repo:tag not found". */
  notFound?: string;
}

export class RegistrySession {
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

  /** "https://host" or "http://host"; settled only after the first request of an insecure registry. */
  get base(): string {
    return this.#base;
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

  /**
   * One request with authentication: answers a 401 challenge by obtaining credentials for the
   * operation's scopes plus the ones the challenge names, and retries. Streaming bodies cannot
   * be replayed, so they rely on an earlier request (the upload POST) having authenticated.
   */
  async send(options: SendOptions): Promise<Response> {
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
  async fail(res: Response, context: FailContext): Promise<EngineError> {
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

  /** Where an upload session continues. */
  location(res: Response): string {
    const location = res.headers.get('location');
    if (location === null) throw new EngineError('Unavailable', `registry ${this.host} started a blob upload without a Location`);
    return new URL(location, res.url).href;
  }

  /** Best effort: tell the registry to drop an upload session we will not finish. */
  async cancelUpload(location: string, scopes: string[]): Promise<void> {
    try {
      const res = await this.send({ method: 'DELETE', url: location, scopes });
      await discard(res);
    } catch { /* the session expires on its own */ }
  }

  async readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
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

/** The Content-Length when it describes the body we read (no content coding was undone). */
export function declaredLength(res: Response): number | undefined {
  const encoding = res.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const value = res.headers.get('content-length');
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** Releases a response's connection without reading what is left of the body. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch { /* already consumed or errored */ }
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
