import type { IncomingMessage, ServerResponse } from 'node:http';
import { EngineError, invalidArgument } from '../protocol/errors.ts';
import type { Sink } from '../lib/backpressure.ts';

/** A connection taken over for raw streaming (attach, exec start). */
export interface HijackedStream {
  /** Where output goes (framed by the caller when there is no TTY); write it with backpressure. */
  output: Sink;
  /** Client → daemon bytes (stdin); never framed. */
  input: NodeJS.ReadableStream;
  /** Finish the response: end the output (and the connection). */
  close(): void;
}

export interface RequestContext {
  req: IncomingMessage;
  /** For upgraded (hijacked) requests this is a placeholder: use hijack(). */
  res: ServerResponse;
  /** Take over the connection: 101 UPGRADED when the client asked for it, else a 200 raw stream. */
  hijack(contentType: string): HijackedStream;
  params: Record<string, string>;
  query: URLSearchParams;
  /** API version the client asked for (from /v1.NN/), or the server's current one. */
  apiVersion: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** Method + path pattern ("/containers/:id/start") → handler. */
export class Router {
  readonly #routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp('^' + path.replace(/:(\w+)/g, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    }) + '/?$');
    this.#routes.push({ method, pattern, keys, handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => (params[key] = decodePathSegment(m[i + 1]!)));
      return { handler: route.handler, params };
    }
    return undefined;
  }
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`invalid escape in request path segment "${segment}"`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

const MAX_JSON_BODY = 4 * 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new EngineError('InvalidArgument', `request body too large (over ${MAX_JSON_BODY} bytes)`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
  }
}

export function boolParam(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function intParam(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidArgument(`invalid value for ${key}: ${v}`);
  return n;
}
