import { createServer, ServerResponse, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError } from '../protocol/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { STATUS_BY_KIND, writeError } from './errors.ts';
import type { HijackedStream, Router } from './router.ts';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export interface ApiServerOptions {
  router: Router;
  log: Logger;
  /** Resolves once restore is done; requests other than /_ping wait for it. */
  ready: Promise<void>;
}

/** HTTP/1.1 over a unix socket, Docker Engine API paths, versioned (/v1.NN/...) or not. */
export function createApiServer({ router, log, ready }: ApiServerOptions): Server {
  const server = createServer((req, res) => void dispatch(req, res, undefined).catch((err: unknown) => lastResort(err, res)));
  // Longer than any client's idle keep-alive (Node's agent: 5 s, Go's: 90 s), so a client never
  // sends a request on a connection the daemon is closing at that moment ("socket hang up").
  server.keepAliveTimeout = 120_000;
  // Docker clients ask for `Connection: Upgrade, Upgrade: tcp` on attach and exec start.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (head.length) socket.unshift(head);
    void dispatch(req, undefined, socket).catch((err: unknown) => lastResort(err, socket));
  });
  // A request Node's parser refuses (bad request line, bad header): a JSON 400 like any other.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    writeRawError(socket, new EngineError('InvalidArgument', `malformed request: ${err.message}`), log, status);
  });

  /** A bug past every handler: logged, and the client gets no half answer that hangs it. */
  function lastResort(err: unknown, target: ServerResponse | Socket): void {
    log.error({ err }, 'request failed outside its handler');
    target.destroy();
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse | undefined, upgraded: Socket | undefined): Promise<void> {
    const controller = new AbortController();
    const commonHeaders: Record<string, string> = {
      'Api-Version': API_VERSION,
      Server: `Berth/${process.env.BERTH_VERSION ?? 'dev'} (linux)`,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
    };
    let hijacked = false;
    if (res) {
      res.on('close', () => controller.abort());
      for (const [k, v] of Object.entries(commonHeaders)) res.setHeader(k, v);
    } else {
      upgraded!.on('close', () => controller.abort());
      upgraded!.on('error', () => upgraded!.destroy());
    }
    const hijack = (contentType: string): HijackedStream => {
      hijacked = true;
      if (upgraded) {
        upgraded.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${Object.entries(commonHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
        return { output: upgraded, input: upgraded, close: () => upgraded.end() };
      }
      res!.writeHead(200, { 'Content-Type': contentType });
      res!.flushHeaders();
      return { output: res!, input: req, close: () => res!.end() };
    };
    try {
      const url = parseRequestUrl(req.url);
      const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
      const apiVersion = versioned?.[1] ?? API_VERSION;
      const path = versioned?.[2] ?? url.pathname;
      if (versioned && compareVersions(apiVersion, MIN_API_VERSION) < 0) {
        throw new EngineError('InvalidArgument', `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      if (versioned && compareVersions(apiVersion, API_VERSION) > 0) {
        throw new EngineError('InvalidArgument', `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`);
      }
      const route = router.match(req.method ?? 'GET', path);
      if (!route) throw new EngineError('NotFound', 'page not found');
      if (path !== '/_ping') await ready;
      log.debug({ method: req.method, path }, 'request');
      const placeholder = res ?? (new ServerResponse(req) as ServerResponse);
      await route.handler({ req, res: placeholder, hijack, params: route.params, query: url.searchParams, apiVersion, signal: controller.signal });
    } catch (err) {
      if (controller.signal.aborted) return;
      if (res) writeError(res, err, log);
      else if (!hijacked) writeRawError(upgraded!, err, log);
      else upgraded!.destroy();
    }
  }
  return server;
}

function parseRequestUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://berth');
  } catch {
    throw new EngineError('InvalidArgument', `malformed request URL: ${JSON.stringify(raw)}`);
  }
}

/** Whether a response has begun on this connection (Node's own clientError default checks the same). */
function responseStarted(socket: Socket): boolean {
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return current?.headersSent === true;
}

/** An error answer on a connection that asked to be upgraded and was not (or that Node could not parse). */
function writeRawError(socket: Socket, err: unknown, log: Logger, statusOverride?: number): void {
  const error = EngineError.from(err);
  const status = statusOverride ?? STATUS_BY_KIND[error.kind];
  if (status >= 500) log.error({ err: error }, error.message);
  const body = JSON.stringify({ message: error.message }) + '\n';
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

/**
 * Listen on a unix socket, refusing to steal one that another live daemon still answers on.
 * The socket grants root-equivalent access, so it is 0660 root:`gid` (the daemon's own group
 * unless `--group` names one). It is bound in a fresh 0700 directory beside its path, given
 * its owner and mode there, and only then renamed into place: nobody can connect while it
 * still has the mode the umask gave it, whatever the umask and the directory's modes are.
 */
export async function listenUnix(server: Server, socketPath: string, access: { gid?: number } = {}): Promise<void> {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true });
  if (await socketAnswers(socketPath)) {
    throw new EngineError('Conflict', `another daemon is already listening on ${socketPath}`);
  }
  const staging = mkdtempSync(join(dir, '.sock-'));
  try {
    const bound = join(staging, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound, () => {
        server.off('error', reject);
        resolve();
      });
    });
    try {
      chownSync(bound, process.getuid!(), access.gid ?? process.getgid!());
      chmodSync(bound, 0o660);
      renameSync(bound, socketPath);
    } catch (err) {
      server.close();
      throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
