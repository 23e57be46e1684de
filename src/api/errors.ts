import type { ServerResponse } from 'node:http';
import { EngineError, type ErrorKind } from '../protocol/errors.ts';
import type { Logger } from '../lib/logger.ts';

/** The one place where an engine error becomes an HTTP status (Docker's documented codes). */
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  InvalidArgument: 400,
  FailedPrecondition: 409,
  Unauthenticated: 401,
  PermissionDenied: 403,
  NotModified: 304,
  Unavailable: 503,
  NotImplemented: 501,
  Canceled: 499,
  DeadlineExceeded: 504,
  Internal: 500,
};

export function writeError(res: ServerResponse, err: unknown, log: Logger): void {
  const error = EngineError.from(err);
  const status = STATUS_BY_KIND[error.kind];
  if (status >= 500) log.error({ err: error.cause ?? error }, error.message);
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({ message: error.message }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
