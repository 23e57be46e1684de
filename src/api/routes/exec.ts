import type { Router } from '../router.ts';
import { readJsonBody, sendJson } from '../router.ts';
import { frame } from '../../protocol/stdcopy.ts';
import { multiplexedType } from './containers.ts';
import { writeOrWait } from '../../lib/backpressure.ts';

export interface ExecBackend {
  create(containerRef: string, body: unknown): { Id: string };
  /**
   * Resolves when the exec has ended and its exit code is recorded. While a promise that
   * `onOutput` returned is pending, the exec's output is held back (backpressure).
   */
  /** Resolves at the exit; `onStarted` is called once the process runs (what a detached start waits for). */
  start(execId: string, onOutput: ((stream: 1 | 2, payload: Buffer) => Promise<void> | void) | undefined, onStarted?: () => void): Promise<unknown>;
  /** Throws (NotFound, Conflict) if the exec cannot be started, before anything is sent. */
  checkStartable(execId: string): Promise<void> | void;
  inspect(execId: string): Record<string, unknown>;
}

export function execRoutes(router: Router, backend: ExecBackend): void {
  router
    .add('POST', '/containers/:id/exec', async ({ req, res, params }) => {
      sendJson(res, 201, backend.create(params.id!, await readJsonBody(req)));
    })
    .add('POST', '/exec/:id/start', async ({ req, res, params, hijack, apiVersion, signal }) => {
      const body = (await readJsonBody(req)) as { Detach?: boolean };
      await backend.checkStartable(params.id!);
      if (body.Detach) {
        // As dockerd: a detached start answers once the process runs, or with the error that kept it from running.
        await new Promise<void>((resolve, reject) => {
          backend.start(params.id!, undefined, resolve).then(() => resolve(), reject);
        });
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
        return;
      }
      const stream = hijack(multiplexedType(apiVersion));
      try {
        // A client that has gone away gets nothing more; the exec runs on, its output dropped.
        await backend.start(params.id!, (streamId, payload) => writeOrWait(stream.output, frame(streamId, payload), signal));
      } finally {
        stream.close();
      }
    })
    .add('POST', '/exec/:id/resize', ({ res, params }) => {
      backend.inspect(params.id!);
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
    })
    .add('GET', '/exec/:id/json', ({ res, params }) => sendJson(res, 200, backend.inspect(params.id!)));
}
