/**
 * One error type for the whole engine. Kinds follow containerd's errdefs; the API layer
 * (api/errors.ts) is the only place that turns a kind into an HTTP status.
 */
export const ERROR_KINDS = [
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'InvalidArgument',
  'FailedPrecondition',
  'Unauthenticated',
  'PermissionDenied',
  'NotModified',
  'Unavailable',
  'NotImplemented',
  'Canceled',
  'DeadlineExceeded',
  'Internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

const brand = Symbol.for('berth.EngineError');

export interface SerializedError {
  kind: ErrorKind;
  code?: string;
  message: string;
}

export class EngineError extends Error {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly [brand] = true;

  constructor(kind: ErrorKind, message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.kind = kind;
    this.code = options?.code;
  }

  static is(value: unknown): value is EngineError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }

  /** Any thrown value as an EngineError; unknown errors become Internal with the cause kept. */
  static from(value: unknown): EngineError {
    if (EngineError.is(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new EngineError('Internal', message, { cause: value });
  }

  static fromJSON(data: SerializedError): EngineError {
    const kind = (ERROR_KINDS as readonly string[]).includes(data.kind) ? data.kind : 'Internal';
    return new EngineError(kind, data.message, data.code === undefined ? undefined : { code: data.code });
  }

  toJSON(): SerializedError {
    return this.code === undefined
      ? { kind: this.kind, message: this.message }
      : { kind: this.kind, code: this.code, message: this.message };
  }
}

export const notFound = (message: string) => new EngineError('NotFound', message);
export const conflict = (message: string) => new EngineError('Conflict', message);
export const invalidArgument = (message: string) => new EngineError('InvalidArgument', message);
export const failedPrecondition = (message: string) => new EngineError('FailedPrecondition', message);
export const unauthenticated = (message: string) => new EngineError('Unauthenticated', message);
export const permissionDenied = (message: string) => new EngineError('PermissionDenied', message);
export const internal = (message: string, cause?: unknown) => new EngineError('Internal', message, { cause });
