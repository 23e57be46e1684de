import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../../protocol/errors.ts';
import type { Router } from '../router.ts';
import { boolParam, intParam, readJsonBody, sendJson, sendNoContent } from '../router.ts';
import { frame, STREAM_STDERR, STREAM_STDOUT } from '../../protocol/stdcopy.ts';
import { compareVersions } from '../server.ts';
import { writeWithBackpressure } from '../../lib/backpressure.ts';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  time: string;
  log: string;
}

export interface LogsOptions {
  follow: boolean;
  tail: number | undefined;
  since: string | undefined;
  until: string | undefined;
  signal: AbortSignal;
}

/** What the container routes need from the daemon. */
export interface ContainersBackend {
  create(body: unknown, name: string | undefined): { Id: string; Warnings: string[] };
  start(ref: string): Promise<void>;
  stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  restart(ref: string, timeoutSeconds?: number): Promise<void>;
  remove(ref: string, options: { force: boolean }): Promise<void>;
  wait(ref: string, condition: 'not-running' | 'next-exit' | 'removed', signal: AbortSignal): Promise<{ StatusCode: number; Error: { Message: string } | null }>;
  inspect(ref: string): Record<string, unknown>;
  list(options: { all: boolean; limit: number | undefined; size: boolean; filters: string | null }): Record<string, unknown>[] | Promise<Record<string, unknown>[]>;
  logs(ref: string, options: LogsOptions): AsyncIterable<LogLine>;
  /** Output from now on (or from the start with `logs`), until the container's next exit. Throws at once for a stopped container. */
  attach(ref: string, options: { logs: boolean; signal: AbortSignal }): AsyncIterable<LogLine>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  rename(ref: string, name: string): void;
  top(ref: string, psArgs: string | undefined): Promise<{ Titles: string[]; Processes: string[][] }>;
  stats(ref: string, options: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncIterable<Record<string, unknown>>;
  prune(filters: string | null): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  /** Base64 JSON of the path's stat (Docker's X-Docker-Container-Path-Stat), then `body` runs with the path mounted. */
  archive<T>(ref: string, path: string, needStat: boolean, body: (pathStat: string | undefined, rootfs: string) => Promise<T>): Promise<T>;
  getArchive(rootfs: string, path: string): NodeJS.ReadableStream;
  putArchive(rootfs: string, path: string, tar: NodeJS.ReadableStream, noOverwriteDirNonDir: boolean): Promise<void>;
}

const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;

export function containerRoutes(router: Router, backend: ContainersBackend): void {
  router
    .add('POST', '/containers/create', async ({ req, res, query }) => {
      const body = await readJsonBody(req);
      sendJson(res, 201, backend.create(body, query.get('name') ?? undefined));
    })
    .add('GET', '/containers/json', async ({ res, query }) => {
      sendJson(res, 200, await backend.list({ all: boolParam(query, 'all'), limit: intParam(query, 'limit'), size: boolParam(query, 'size'), filters: query.get('filters') }));
    })
    .add('GET', '/containers/:id/json', ({ res, params }) => sendJson(res, 200, backend.inspect(params.id!)))
    .add('POST', '/containers/:id/start', async ({ res, params }) => {
      await backend.start(params.id!);
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/stop', async ({ res, params, query }) => {
      await backend.stop(params.id!, intParam(query, 't') ?? intParam(query, 'timeout'), query.get('signal') ?? undefined);
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/restart', async ({ res, params, query }) => {
      await backend.restart(params.id!, intParam(query, 't') ?? intParam(query, 'timeout'));
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/kill', async ({ res, params, query }) => {
      await backend.kill(params.id!, query.get('signal') || undefined);
      sendNoContent(res);
    })
    .add('DELETE', '/containers/:id', async ({ res, params, query }) => {
      if (boolParam(query, 'link')) throw invalidArgument('links are not supported');
      await backend.remove(params.id!, { force: boolParam(query, 'force') });
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/wait', async ({ res, params, query, signal }) => {
      const condition = query.get('condition') || 'not-running';
      if (!(WAIT_CONDITIONS as readonly string[]).includes(condition)) throw invalidArgument(`invalid condition: "${condition}"`);
      backend.inspect(params.id!); // 404 before the 200 header goes out
      // Headers first, as dockerd does, so a client knows the wait is registered.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const result = await backend.wait(params.id!, condition as (typeof WAIT_CONDITIONS)[number], signal);
      res.end(JSON.stringify(result) + '\n');
    })
    .add('POST', '/containers/:id/attach', async ({ params, query, signal, hijack, apiVersion }) => {
      const stdout = boolParam(query, 'stdout');
      const stderr = boolParam(query, 'stderr');
      // attach() checks the container (and throws) before the 101 goes out.
      const lines = backend.attach(params.id!, { logs: boolParam(query, 'logs'), signal });
      const stream = hijack(multiplexedType(apiVersion));
      try {
        for await (const line of lines) {
          if ((line.stream === 'stdout' && stdout) || (line.stream === 'stderr' && stderr)) {
            const more = await writeWithBackpressure(stream.output, frame(line.stream === 'stdout' ? STREAM_STDOUT : STREAM_STDERR, Buffer.from(line.log)), signal);
            if (!more) break;
          }
          if (signal.aborted) break;
        }
      } finally {
        stream.close();
      }
    })
    .add('POST', '/containers/:id/pause', async ({ res, params }) => {
      await backend.pause(params.id!);
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/unpause', async ({ res, params }) => {
      await backend.unpause(params.id!);
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/rename', ({ res, params, query }) => {
      backend.rename(params.id!, query.get('name') ?? '');
      sendNoContent(res);
    })
    .add('POST', '/containers/:id/resize', ({ res, params }) => {
      backend.inspect(params.id!);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
      res.end();
    })
    .add('GET', '/containers/:id/top', async ({ res, params, query }) => {
      sendJson(res, 200, await backend.top(params.id!, query.get('ps_args') ?? undefined));
    })
    .add('GET', '/containers/:id/stats', async ({ res, params, query, signal }) => {
      const stream = query.get('stream') === null ? true : boolParam(query, 'stream');
      const samples = backend.stats(params.id!, { stream, oneShot: boolParam(query, 'one-shot'), signal })[Symbol.asyncIterator]();
      let next = await samples.next();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      while (!next.done && (await writeWithBackpressure(res, JSON.stringify(next.value) + '\n', signal))) {
        next = await samples.next();
      }
      await samples.return?.();
      res.end();
    })
    .add('HEAD', '/containers/:id/archive', async ({ res, params, query }) => {
      await backend.archive(params.id!, requirePath(query), true, async (stat) => {
        res.writeHead(200, { 'X-Docker-Container-Path-Stat': stat!, 'Content-Type': 'application/json' });
        res.end();
      });
    })
    .add('GET', '/containers/:id/archive', async ({ res, params, query }) => {
      const path = requirePath(query);
      await backend.archive(params.id!, path, true, async (stat, rootfs) => {
        const tar = backend.getArchive(rootfs, path);
        res.writeHead(200, { 'X-Docker-Container-Path-Stat': stat!, 'Content-Type': 'application/x-tar' });
        await pipeline(tar, res);
      });
    })
    .add('PUT', '/containers/:id/archive', async ({ req, res, params, query }) => {
      const path = requirePath(query);
      await backend.archive(params.id!, path, false, (_stat, rootfs) => backend.putArchive(rootfs, path, req, boolParam(query, 'noOverwriteDirNonDir')));
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
    })
    .add('POST', '/containers/prune', async ({ res, query }) => {
      sendJson(res, 200, await backend.prune(query.get('filters')));
    })
    .add('GET', '/containers/:id/logs', async ({ res, params, query, signal, apiVersion }) => {
      const stdout = boolParam(query, 'stdout');
      const stderr = boolParam(query, 'stderr');
      if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream');
      const tailRaw = query.get('tail');
      const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? undefined : Number(tailRaw);
      if (tail !== undefined && !Number.isInteger(tail)) throw invalidArgument(`invalid value for tail: ${tailRaw}`);
      const lines = backend.logs(params.id!, {
        follow: boolParam(query, 'follow'),
        tail: tail !== undefined && tail < 0 ? undefined : tail,
        since: query.get('since') || undefined,
        until: query.get('until') || undefined,
        signal,
      });
      await streamLogs(res, lines, { stdout, stderr, timestamps: boolParam(query, 'timestamps'), details: boolParam(query, 'details'), apiVersion, signal });
    });
}

async function streamLogs(res: ServerResponse, lines: AsyncIterable<LogLine>, opts: { stdout: boolean; stderr: boolean; timestamps: boolean; details: boolean; apiVersion: string; signal: AbortSignal }): Promise<void> {
  const iterator = lines[Symbol.asyncIterator]();
  // Pull the first entry before answering, so a missing container is still a 404.
  let next = await iterator.next();
  const contentType = multiplexedType(opts.apiVersion);
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  while (!next.done) {
    const line = next.value;
    if ((line.stream === 'stdout' && opts.stdout) || (line.stream === 'stderr' && opts.stderr)) {
      // --details: the log's extra attributes (berth records none) and a space, as dockerd does.
      const body = opts.details ? ` ${line.log}` : line.log;
      const text = opts.timestamps ? `${line.time} ${body}` : body;
      // A client that leaves ends the wait at once, so the log's fds are closed right away.
      if (!(await writeWithBackpressure(res, frame(line.stream === 'stdout' ? STREAM_STDOUT : STREAM_STDERR, Buffer.from(text)), opts.signal))) break;
    }
    if (opts.signal.aborted) break;
    next = await iterator.next();
  }
  await iterator.return?.();
  res.end();
}

function requirePath(query: URLSearchParams): string {
  const path = query.get('path');
  if (!path) throw invalidArgument('path is required');
  return path;
}

/** Non-TTY streams: multiplexed-stream from API 1.42 on, raw-stream before (clients decide framing by Tty). */
export function multiplexedType(apiVersion: string): string {
  return compareVersions(apiVersion, '1.42') >= 0 ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
}
