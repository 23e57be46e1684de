import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { EngineError } from '../protocol/errors.ts';
import { JsonLineDecoder, encodeJsonLine } from '../protocol/json-lines.ts';
import type { ShimRequest, ShimResponse } from '../protocol/shim.ts';
import { PRIVATE_FILE_MODE } from '../lib/private-paths.ts';

/** Returned by a handler that has taken the connection over (it writes the reply itself). */
export const TAKEN_OVER = Symbol('taken over');

export type RequestHandler = (request: ShimRequest, socket: Socket) => Promise<unknown>;

/**
 * Serves the shim's control socket: one JSON request per line, replies matched by id. The
 * socket controls the container, so it is root's only (0600; its directory is 0700 too).
 */
export function serveControlSocket(path: string, handle: RequestHandler): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((socket) => serveConnection(socket, handle));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      try {
        chmodSync(path, PRIVATE_FILE_MODE);
      } catch (err) {
        server.close();
        reject(err);
        return;
      }
      resolve(server);
    });
  });
}

function serveConnection(socket: Socket, handle: RequestHandler): void {
  const decoder = new JsonLineDecoder();
  socket.on('error', () => socket.destroy());
  const onData = (chunk: Buffer) => {
    try {
      decoder.push(chunk, (value) => {
        const request = value as ShimRequest;
        // exec takes the connection over for its output stream: stop reading requests from it.
        if (request.method === 'exec') socket.off('data', onData);
        void answer(socket, request, handle);
      });
    } catch {
      socket.destroy();
    }
  };
  socket.on('data', onData);
}

async function answer(socket: Socket, request: ShimRequest, handle: RequestHandler): Promise<void> {
  let response: ShimResponse;
  try {
    const result = await handle(request, socket);
    if (result === TAKEN_OVER) return;
    response = { id: request.id, result };
  } catch (err) {
    response = { id: request.id, error: EngineError.from(err).toJSON() };
  }
  if (!socket.destroyed) socket.write(encodeJsonLine(response));
}

export function replyOn(socket: Socket, id: number, result: unknown): void {
  if (!socket.destroyed) socket.write(encodeJsonLine({ id, result } satisfies ShimResponse));
}
