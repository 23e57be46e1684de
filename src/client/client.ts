import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { JsonMessage } from '../protocol/json-message.ts';
import { EngineError, type ErrorKind } from '../protocol/errors.ts';

export const DEFAULT_SOCKET = '/run/berth/berth.sock';

/** The daemon address as the docker CLI finds it: -H, then BERTH_HOST, then DOCKER_HOST, then the default. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const host = flag ?? env.BERTH_HOST ?? env.DOCKER_HOST ?? `unix://${DEFAULT_SOCKET}`;
  if (!host.startsWith('unix://')) throw new EngineError('InvalidArgument', `unsupported host ${host}: berth talks to the daemon over unix:///path sockets`);
  return host.slice('unix://'.length);
}

const KIND_BY_STATUS: Record<number, ErrorKind> = { 304: 'NotModified', 400: 'InvalidArgument', 404: 'NotFound', 409: 'Conflict', 501: 'NotImplemented', 503: 'Unavailable' };

export type { JsonMessage };

export class ApiError extends EngineError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(KIND_BY_STATUS[status] ?? 'Internal', message);
    this.status = status;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw request body (e.g. a tarball); sent as-is. */
  stream?: NodeJS.ReadableStream;
  /** Content-Type of a raw `stream` body (default application/x-tar). */
  contentType?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** Stat of a path inside a container (the X-Docker-Container-Path-Stat header). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits: directory = 2^31, symlink = 2^27, low 9 bits = permissions. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

export const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;

/** A hijacked (upgraded) connection: raw bytes both ways after the 101. */
export interface HijackedConnection {
  socket: Socket;
}

/** A typed Docker Engine API client over the daemon's unix socket (used by the CLI and the tests). */
export class BerthClient {
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** Sends a request; resolves with the response once headers arrive. Non-2xx statuses reject with ApiError. */
  raw(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const { req, payload } = this.#request(method, path, options);
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 300) return resolve(res);
        errorFrom(res, method).then(reject, reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#connectionError(err)));
      if (options.stream) options.stream.pipe(req);
      else req.end(payload);
    });
  }

  /**
   * A request that asks to take over the connection (`Connection: Upgrade`, `Upgrade: tcp`),
   * as the docker CLI does for attach and exec start. Resolves with the raw socket once the
   * daemon answers 101; any other answer rejects with ApiError.
   */
  hijack(method: string, path: string, options: RequestOptions = {}): Promise<HijackedConnection> {
    return new Promise((resolve, reject) => {
      const { req, payload } = this.#request(method, path, { ...options, headers: { ...options.headers, Connection: 'Upgrade', Upgrade: 'tcp' } });
      req.on('upgrade', (_res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve({ socket });
      });
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300) return void errorFrom(res, method).then(reject, reject);
        // A daemon that does not upgrade streams the same bytes as a plain body.
        reject(new EngineError('Internal', `unable to upgrade to tcp, received ${status}`));
        res.resume();
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#connectionError(err)));
      req.end(payload);
    });
  }

  #request(method: string, path: string, options: RequestOptions) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (options.stream) {
      headers['Content-Type'] = options.contentType ?? 'application/x-tar';
    }
    const req = request({ socketPath: this.socketPath, method, path: `/v1.47${path}${qs ? `?${qs}` : ''}`, headers, signal: options.signal });
    return { req, payload };
  }

  #connectionError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
      return new EngineError('Unavailable', `Cannot connect to the berth daemon at unix://${this.socketPath}. Is berthd running?`);
    }
    return err;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, options);
    const text = await readAll(res);
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }

  ping(): Promise<string> {
    return this.raw('GET', '/_ping').then(readAll);
  }

  info(): Promise<Record<string, unknown>> { return this.json('GET', '/info'); }
  version(): Promise<Record<string, unknown>> { return this.json('GET', '/version'); }

  createContainer(body: Record<string, unknown>, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    return this.json('POST', '/containers/create', { body, query: { name } });
  }
  async startContainer(id: string): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/start`); }
  async stopContainer(id: string, t?: number): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t } }); }
  async restartContainer(id: string, t?: number): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t } }); }
  async killContainer(id: string, signal?: string): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } }); }
  async removeContainer(id: string, force = false): Promise<void> { await this.json('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: force || undefined } }); }
  waitContainer(id: string, condition?: string, signal?: AbortSignal): Promise<WaitResult> {
    return this.json('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition }, ...(signal ? { signal } : {}) });
  }
  /**
   * Registers a wait and resolves once the daemon has answered with headers (so the wait is
   * armed, as `docker run` needs before start); `result` settles when the condition is met.
   */
  async waitContainerArmed(id: string, condition?: string, signal?: AbortSignal): Promise<{ result: Promise<WaitResult> }> {
    const res = await this.raw('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition }, ...(signal ? { signal } : {}) });
    const result = readAll(res).then((text) => {
      if (!text.trim()) throw new EngineError('Internal', 'the daemon ended the wait without a result');
      return JSON.parse(text) as WaitResult;
    });
    result.catch(() => undefined);
    return { result };
  }
  inspectContainer(id: string, options: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: options.size || undefined } });
  }
  async removeContainerWith(id: string, options: { force?: boolean; volumes?: boolean }): Promise<void> {
    await this.json('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: options.force || undefined, v: options.volumes || undefined } });
  }
  async stopContainerWith(id: string, options: { timeout?: number; signal?: string }): Promise<void> {
    await this.json('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: options.timeout, signal: options.signal } });
  }
  async pauseContainer(id: string): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/pause`); }
  async unpauseContainer(id: string): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/unpause`); }
  async renameContainer(id: string, name: string): Promise<void> { await this.json('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } }); }
  topContainer(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/top`, { query: { ps_args: psArgs } });
  }
  /** One stats sample (`stream=0`). */
  containerStats(id: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: false }, ...(signal ? { signal } : {}) });
  }
  /** Stats as a stream of JSON lines, one sample a second. */
  containerStatsStream(id: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.raw('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: true }, ...(signal ? { signal } : {}) });
  }
  pruneContainers(filters?: string): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/containers/prune', { query: { filters } });
  }
  /** Attach to a container's output (and stdin) over a hijacked connection. */
  attachContainer(id: string, options: { stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; detachKeys?: string }): Promise<HijackedConnection> {
    return this.hijack('POST', `/containers/${encodeURIComponent(id)}/attach`, {
      query: { stream: true, stdin: options.stdin || undefined, stdout: options.stdout || undefined, stderr: options.stderr || undefined, logs: options.logs || undefined, detachKeys: options.detachKeys },
      headers: { 'Content-Type': 'text/plain' },
    });
  }
  createExec(id: string, body: Record<string, unknown>): Promise<{ Id: string }> {
    return this.json('POST', `/containers/${encodeURIComponent(id)}/exec`, { body });
  }
  /** Start an exec and take over the connection for its output. */
  startExecAttached(execId: string, options: { tty?: boolean } = {}): Promise<HijackedConnection> {
    return this.hijack('POST', `/exec/${encodeURIComponent(execId)}/start`, { body: { Detach: false, Tty: Boolean(options.tty) } });
  }
  async startExecDetached(execId: string, options: { tty?: boolean } = {}): Promise<void> {
    await this.json('POST', `/exec/${encodeURIComponent(execId)}/start`, { body: { Detach: true, Tty: Boolean(options.tty) } });
  }
  inspectExec(execId: string): Promise<{ ID: string; Running: boolean; ExitCode: number | null; Pid: number; ContainerID: string; [key: string]: unknown }> {
    return this.json('GET', `/exec/${encodeURIComponent(execId)}/json`);
  }
  /** HEAD /containers/{id}/archive: the stat of a path in the container. */
  async statContainerPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.raw('HEAD', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } });
    res.resume();
    return decodePathStat(res);
  }
  /** GET /containers/{id}/archive: a tar of the path, and its stat. */
  async getContainerArchive(id: string, path: string): Promise<{ stat: ContainerPathStat; tar: IncomingMessage }> {
    const res = await this.raw('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } });
    return { stat: decodePathStat(res), tar: res };
  }
  /** PUT /containers/{id}/archive: extract a tar under the directory `path` in the container. */
  async putContainerArchive(id: string, path: string, tar: NodeJS.ReadableStream, options: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    const res = await this.raw('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: options.noOverwriteDirNonDir || undefined, copyUIDGID: options.copyUIDGID || undefined },
      stream: tar,
    });
    await readAll(res);
  }
  /** GET /events: JSON lines until `until` (or forever). */
  events(query: { since?: string; until?: string; filters?: string }, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.raw('GET', '/events', { query, ...(signal ? { signal } : {}) });
  }
  diskUsage(): Promise<Record<string, unknown>> { return this.json('GET', '/system/df'); }
  listContainers(query: { all?: boolean; limit?: number; size?: boolean; filters?: string | undefined } = {}): Promise<Array<Record<string, unknown>>> {
    return this.json('GET', '/containers/json', { query: { all: query.all || undefined, limit: query.limit, size: query.size || undefined, filters: query.filters } });
  }
  containerLogs(id: string, query: Record<string, string | number | boolean | undefined>, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.raw('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: { stdout: true, stderr: true, ...query }, ...(signal ? { signal } : {}) });
  }
  listImages(query: { all?: boolean; filters?: string } = {}): Promise<Array<Record<string, unknown>>> {
    return this.json('GET', '/images/json', { query: { all: query.all || undefined, filters: query.filters } });
  }
  inspectImage(ref: string): Promise<Record<string, unknown>> { return this.json('GET', `/images/${ref}/json`); }
  async tagImage(ref: string, repo: string, tag?: string): Promise<void> { await this.json('POST', `/images/${ref}/tag`, { query: { repo, tag } }); }
  removeImage(ref: string, options: { force?: boolean; noPrune?: boolean } = {}): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.json('DELETE', `/images/${ref}`, { query: { force: options.force || undefined, noprune: options.noPrune || undefined } });
  }
  /** A JSON message stream (pull, push, load): each message to `onMessage`; an in-band error rejects. */
  async jsonMessages(method: string, path: string, options: RequestOptions, onMessage: (m: JsonMessage) => void = () => {}): Promise<void> {
    const res = await this.raw(method, path, options);
    let buffered = '';
    let failure: ApiError | undefined;
    const handle = (line: string) => {
      if (!line.trim()) return;
      let message: JsonMessage;
      try {
        message = JSON.parse(line) as JsonMessage;
      } catch {
        return;
      }
      if (message.errorDetail || message.error) failure ??= new ApiError(500, message.errorDetail?.message ?? message.error ?? 'failed');
      else onMessage(message);
    };
    for await (const chunk of res) {
      buffered += (chunk as Buffer).toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) handle(line);
    }
    handle(buffered);
    if (failure) throw failure;
  }

  /** POST /images/create?fromImage=…: a pull. `auth` is the X-Registry-Auth value. */
  pullImage(image: string, tag: string | undefined, options: { platform?: string; auth?: string } = {}, onMessage?: (m: JsonMessage) => void): Promise<void> {
    return this.jsonMessages('POST', '/images/create', { query: { fromImage: image, tag, platform: options.platform }, headers: { 'X-Registry-Auth': options.auth ?? 'e30=' } }, onMessage);
  }
  pushImage(name: string, tag: string | undefined, auth: string | undefined, onMessage?: (m: JsonMessage) => void): Promise<void> {
    return this.jsonMessages('POST', `/images/${name}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth ?? 'e30=' } }, onMessage);
  }
  loadImages(tarball: NodeJS.ReadableStream, quiet: boolean, onMessage?: (m: JsonMessage) => void): Promise<void> {
    return this.jsonMessages('POST', '/images/load', { query: { quiet: quiet || undefined }, stream: tarball }, onMessage);
  }
  saveImages(names: string[]): Promise<IncomingMessage> {
    const qs = new URLSearchParams();
    for (const name of names) qs.append('names', name);
    return this.raw('GET', `/images/get?${qs}`);
  }
  imageHistory(ref: string): Promise<Array<Record<string, unknown>>> { return this.json('GET', `/images/${ref}/history`); }
  pruneImages(filters?: string): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }> {
    return this.json('POST', '/images/prune', { query: { filters } });
  }
  login(body: { username: string; password: string; serveraddress: string }): Promise<{ Status: string; IdentityToken?: string }> {
    return this.json('POST', '/auth', { body });
  }
  importImage(tarball: NodeJS.ReadableStream, repo?: string, changes: string[] = [], options: { message?: string; platform?: string } = {}): Promise<{ status: string }> {
    const qs = new URLSearchParams({ fromSrc: '-' });
    if (repo) qs.set('repo', repo);
    if (options.message) qs.set('message', options.message);
    if (options.platform) qs.set('platform', options.platform);
    for (const change of changes) qs.append('changes', change);
    return this.json('POST', `/images/create?${qs}`, { stream: tarball });
  }
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused?: boolean; Restarting?: boolean; Pid: number; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string; LogDroppedLines?: number };
  RestartCount: number;
  LogPath: string;
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  [key: string]: unknown;
}

/** An error answer as ApiError; HEAD answers have no body, so the status says what happened. */
async function errorFrom(res: IncomingMessage, method: string): Promise<ApiError> {
  const status = res.statusCode ?? 0;
  const text = method === 'HEAD' ? '' : await readAll(res);
  if (method === 'HEAD') res.resume();
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch { /* not JSON */ }
  return new ApiError(status, status === 304 ? 'not modified' : message || `HTTP ${status}`);
}

function decodePathStat(res: IncomingMessage): ContainerPathStat {
  const header = res.headers['x-docker-container-path-stat'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new EngineError('Internal', 'the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as ContainerPathStat;
}

export function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
