/**
 * Registry authentication: parsing `WWW-Authenticate` challenges and fetching bearer tokens
 * per the Docker token specification (GET with basic auth, or the OAuth2 POST form with a
 * refresh token for identity tokens). The client (registry-client.ts) decides when to ask.
 */
import { fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { EngineError } from '../../protocol/errors.ts';
import type { RegistryCredentials } from '../../protocol/registry-auth.ts';

export interface Challenge {
  /** Lowercased, e.g. "basic" or "bearer". */
  scheme: string;
  /** Parameter names are lowercased; values are unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value (RFC 7235) into its challenges, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
 * Several challenges may share one header, separated by commas; a challenge may carry a
 * token68 instead of parameters (kept as the parameter named ""). Malformed parts are skipped.
 */
export function parseWWWAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  for (const item of splitOutsideQuotes(header)) {
    const param = PARAM.exec(item);
    if (param !== null && current !== undefined) {
      current.params[param[1]!.toLowerCase()] = unquote(param[2]!);
      continue;
    }
    const head = SCHEME.exec(item);
    if (head === null) continue;
    current = { scheme: head[1]!.toLowerCase(), params: {} };
    challenges.push(current);
    const rest = head[2] ?? '';
    if (rest === '') continue;
    const first = PARAM.exec(rest);
    if (first !== null) current.params[first[1]!.toLowerCase()] = unquote(first[2]!);
    else if (TOKEN68.test(rest)) current.params[''] = rest;
  }
  return challenges;
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"?';
/** `name = value` where value is a quoted string or, leniently, any unquoted run without spaces (e.g. a bare URL). */
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*(${QUOTED}|[^\\s",=][^\\s",]*)$`);
/** `scheme [rest]`. */
const SCHEME = new RegExp(`^(${TOKEN})(?:[ \\t]+(.*))?$`);
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Splits at commas that are not inside a quoted string; items are trimmed, empty ones dropped. */
function splitOutsideQuotes(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  const inner = value.endsWith('"') && value.length > 1 ? value.slice(1, -1) : value.slice(1);
  return inner.replace(/\\(.)/g, '$1');
}

/** `repository:NAME:ACTIONS` as the token service expects it, e.g. `repository:library/busybox:pull,push`. */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/**
 * Merges scopes for one token request: `repository:a:pull` and `repository:a:push` become
 * `repository:a:pull,push`. Order is stable so the result can serve as a cache key.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const scope of scopes) {
    for (const one of scope.split(' ')) {
      if (one === '') continue;
      const lastColon = one.lastIndexOf(':');
      const firstColon = one.indexOf(':');
      if (firstColon < 0 || lastColon === firstColon) {
        opaque.add(one);
        continue;
      }
      const resource = one.slice(0, lastColon);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const action of one.slice(lastColon + 1).split(',')) if (action !== '') actions.add(action);
      byResource.set(resource, actions);
    }
  }
  const merged = [...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`);
  return [...merged, ...opaque].sort();
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  credentials?: RegistryCredentials;
  userAgent: string;
  signal?: AbortSignal;
  /** How the registry is reached; its TLS settings (certs.d CAs, client certificate) serve the token service too, as in Docker. */
  registry: RegistryTransport;
}

export interface RegistryTransport {
  /** host[:port], for messages. */
  host: string;
  /** Reached over HTTPS (false: plain HTTP, for an insecure registry without TLS). */
  https: boolean;
  dispatcher?: Dispatcher | undefined;
}

/** Turns a failed fetch into an Unavailable (or Canceled) EngineError naming what was contacted. */
export function networkError(err: unknown, what: string): EngineError {
  if (EngineError.is(err)) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'AbortError') return new EngineError('Canceled', `${what}: request canceled`, { cause: err });
  if (e?.name === 'TimeoutError') return new EngineError('DeadlineExceeded', `${what}: request timed out`, { cause: err });
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return new EngineError('Unavailable', `${what}: ${detail}`, { cause: err });
}

/**
 * Fetches a bearer token from `realm`. Identity tokens use the OAuth2 POST form
 * (grant_type=refresh_token); otherwise a GET with basic auth when a username is known,
 * or anonymously.
 */
export async function fetchToken(req: TokenRequest): Promise<string> {
  const { realm, service, scopes, credentials, userAgent, signal, registry } = req;
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new EngineError('InvalidArgument', `invalid token realm ${JSON.stringify(realm)} in registry auth challenge`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EngineError('InvalidArgument', `unsupported token realm ${JSON.stringify(realm)} in registry auth challenge`);
  }
  const sendsSecret = Boolean(credentials?.identitytoken) || (credentials?.username !== undefined && credentials.username !== '');
  if (url.protocol === 'http:' && registry.https && sendsSecret) {
    // What HTTPS protects on the registry must not leak on the way to its token service.
    throw new EngineError('FailedPrecondition', `registry ${registry.host} is reached over HTTPS but names a plain HTTP token service (${url.origin}${url.pathname}): berth does not send credentials over plain HTTP; the token service must use HTTPS`);
  }
  const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: 'application/json' };
  let init: RequestInit;
  if (credentials?.identitytoken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identitytoken, client_id: 'berth' });
    if (service !== undefined) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init = { method: 'POST', headers, body: form.toString() };
  } else {
    if (service !== undefined) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    if (credentials?.username !== undefined && credentials.username !== '') {
      headers.Authorization = basicAuthorization(credentials.username, credentials.password ?? '');
      url.searchParams.set('account', credentials.username);
    }
    init = { method: 'GET', headers };
  }
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'follow', ...(signal ? { signal } : {}), ...(registry.dispatcher ? { dispatcher: registry.dispatcher } : {}) });
  } catch (err) {
    throw networkError(err, `token service ${url.host} is unavailable: ${init.method} ${url.origin}${url.pathname}`);
  }
  const text = await errorText(res);
  if (!res.ok) {
    const reason = tokenErrorText(text) ?? `${res.status} ${res.statusText}`.trim();
    if (res.status === 401 || res.status === 403) {
      throw new EngineError('Unauthenticated', `unauthorized: ${reason}`, { code: 'UNAUTHORIZED' });
    }
    throw new EngineError(res.status >= 500 ? 'Unavailable' : 'FailedPrecondition', `token service ${url.host} refused the token request: ${reason}`);
  }
  let body: { token?: unknown; access_token?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new EngineError('Unavailable', `token service ${url.host} returned an invalid response (not JSON)`);
  }
  const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new EngineError('Unavailable', `token service ${url.host} returned no token`);
  }
  return token;
}

/** The human text of a token service error body: Docker Hub's `details`, OAuth2's `error_description`, or distribution's `errors`. */
function tokenErrorText(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const errors = body.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as { message?: unknown; code?: unknown };
      if (typeof first.message === 'string' && first.message !== '') return first.message;
      if (typeof first.code === 'string') return first.code.toLowerCase().replaceAll('_', ' ');
    }
    for (const key of ['details', 'error_description', 'message', 'error']) {
      if (typeof body[key] === 'string' && body[key] !== '') return body[key];
    }
  } catch { /* not JSON */ }
  const trimmed = text.trim();
  return trimmed !== '' && trimmed.length < 200 && !trimmed.startsWith('<') ? trimmed : undefined;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * Holds one registry's auth state: the last challenge it sent and the bearer tokens obtained
 * for it, cached per set of scopes until shortly before they expire.
 */
export class RegistryAuth {
  readonly #credentials: RegistryCredentials | undefined;
  readonly #userAgent: string;
  readonly #signal: AbortSignal | undefined;
  readonly #transport: () => RegistryTransport;
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, { token: string; expires: number }>();

  /** `transport` is asked at each token request: an insecure registry's scheme is known only after its first probe. */
  constructor(credentials: RegistryCredentials | undefined, userAgent: string, transport: () => RegistryTransport, signal?: AbortSignal) {
    this.#transport = transport;
    this.#credentials = credentials;
    this.#userAgent = userAgent;
    this.#signal = signal;
  }

  /** Whether the registry has challenged us (or a registry token makes that moot). */
  get challenged(): boolean {
    return this.#challenge !== undefined || Boolean(this.#credentials?.registrytoken);
  }

  /**
   * Records a 401 response's challenges. Returns false when nothing we can answer was offered
   * (no Basic/Bearer challenge, or Basic without credentials), so retrying is pointless.
   */
  setChallenge(header: string | null): boolean {
    if (this.#credentials?.registrytoken) return false;
    const challenges = parseWWWAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');
    const chosen = bearer ?? basic;
    if (chosen === undefined) return false;
    if (chosen.scheme === 'basic' && !this.#credentials?.username) return false;
    this.#challenge = chosen;
    return true;
  }

  /** Scopes named by the last challenge (a bearer `scope` parameter may list several, space-separated). */
  challengeScopes(): string[] {
    const scope = this.#challenge?.params.scope;
    return scope ? scope.split(' ').filter((s) => s !== '') : [];
  }

  /** The `error` parameter of the last challenge, e.g. "invalid_token" or "insufficient_scope". */
  challengeError(): string | undefined {
    return this.#challenge?.params.error;
  }

  /** The Authorization header value for a request needing `scopes`, or undefined when unchallenged. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const creds = this.#credentials;
    if (creds?.registrytoken) return `Bearer ${creds.registrytoken}`;
    const challenge = this.#challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      return creds?.username ? basicAuthorization(creds.username, creds.password ?? '') : undefined;
    }
    const merged = mergeScopes(scopes);
    const key = `${challenge.params.realm}\n${challenge.params.service ?? ''}\n${merged.join(' ')}`;
    const cached = this.#tokens.get(key);
    if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await fetchToken({
      realm: challenge.params.realm!,
      ...(challenge.params.service === undefined ? {} : { service: challenge.params.service }),
      scopes: merged,
      ...(creds === undefined ? {} : { credentials: creds }),
      userAgent: this.#userAgent,
      ...(this.#signal === undefined ? {} : { signal: this.#signal }),
      registry: this.#transport(),
    });
    this.#tokens.set(key, { token, expires: Date.now() + tokenLifetimeMs(token) });
    return `Bearer ${token}`;
  }

  /** Forgets cached tokens, e.g. after the registry rejected one. */
  dropTokens(): void {
    this.#tokens.clear();
  }
}

/** How long to reuse a token: until 30 s before its JWT `exp` when readable, else 50 s (the spec's minimum lifetime is 60 s). */
function tokenLifetimeMs(token: string): number {
  const fallback = 50_000;
  const payload = token.split('.')[1];
  if (payload === undefined) return fallback;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof claims.exp !== 'number') return fallback;
    return Math.max(0, claims.exp * 1000 - Date.now() - 30_000);
  } catch {
    return fallback;
  }
}

/** An error body, read up to 64 KiB: enough for the registry's `errors`, never a whole blob. */
export async function errorText(res: { body: AsyncIterable<Uint8Array> | null }): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of res.body ?? []) {
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      length += chunk.length;
      if (length >= 64 * 1024) break;
    }
  } catch {
    /* what arrived is enough */
  }
  return Buffer.concat(chunks).subarray(0, 64 * 1024).toString('utf8');
}
