import { connect, type Socket } from 'node:net';
import { EngineError } from '../../protocol/errors.ts';
import { JsonLineDecoder, encodeJsonLine } from '../../protocol/json-lines.ts';
import { EXEC_EXIT_FRAME, FrameDecoder, STREAM_STDERR, STREAM_STDOUT } from '../../protocol/stdcopy.ts';
import { SHIM_PROTOCOL_VERSION, type ExecExit, type ExecStatus, type ExecProcess, type ExitRecord, type HelloResult, type ShimResponse, type ShimState } from '../../protocol/shim.ts';

type Pending = { resolve: (value: unknown) => void; reject: (err: EngineError) => void };

/** One connection to one shim's control socket. */
export class ShimClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const decoder = new JsonLineDecoder();
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk, (value) => this.#onResponse(value as ShimResponse));
      } catch {
        socket.destroy();
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closed = true;
        for (const p of this.#pending.values()) p.reject(new EngineError('Unavailable', 'connection to shim lost'));
        this.#pending.clear();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(path: string, timeoutMs = 2000): Promise<ShimClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new EngineError('DeadlineExceeded', `shim at ${path} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new ShimClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new EngineError('Unavailable', `cannot connect to shim at ${path}: ${err.message}`));
      });
    });
  }

  #onResponse(response: ShimResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    if ('error' in response) pending.reject(EngineError.fromJSON(response.error));
    else pending.resolve(response.result);
  }

  #call<T>(method: string, params?: unknown, timeoutMs?: number): Promise<T> {
    if (this.#closed) return Promise.reject(new EngineError('Unavailable', 'connection to shim lost'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new EngineError('DeadlineExceeded', `shim did not answer ${method} in ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.#socket.write(encodeJsonLine(params === undefined ? { id, method } : { id, method, params }));
    });
  }

  hello(timeoutMs = 2000): Promise<HelloResult> {
    return this.#call('hello', { version: SHIM_PROTOCOL_VERSION }, timeoutMs);
  }

  state(): Promise<ShimState> {
    return this.#call('state', undefined, 5000);
  }

  /** `stop`: the user asked for it, so the shim must not restart the container afterwards. */
  kill(signal: string, stop = false): Promise<void> {
    return this.#call('kill', stop ? { signal, stop } : { signal }, 15_000);
  }

  /** Protocol 1.2: resolves with the state once its generation is past `generation`. */
  watch(generation: number): Promise<ShimState> {
    return this.#call('watch', { generation });
  }

  /** Resolves when the container exits; rejects with Unavailable if the shim goes away first. */
  wait(): Promise<ExitRecord> {
    return this.#call('wait');
  }

  /** Acknowledge the exit: the shim may now go. */
  async shutdown(): Promise<void> {
    await this.#call('shutdown', undefined, 5000);
  }

  /** Protocol 1.2: the execs the shim ran and how they ended. */
  execs(): Promise<Record<string, ExecStatus>> {
    return this.#call('execs', undefined, 5000);
  }

  pause(): Promise<void> {
    return this.#call('pause', undefined, 15_000);
  }

  resume(): Promise<void> {
    return this.#call('resume', undefined, 15_000);
  }

  close(): void {
    this.#socket.destroy();
  }
}

export interface ExecSession {
  pid: number;
  /** Resolves with the exit once the process has ended and its output is drained. */
  exit: Promise<ExecExit>;
}

/**
 * Starts an exec through the shim on a connection of its own: one JSON reply line, then
 * stdcopy frames (forwarded to `onOutput`), then an exit frame. While a promise returned by
 * `onOutput` is pending the connection is not read, so the shim (and the exec) is held back.
 */
export function startExec(socketPath: string, execId: string, process: ExecProcess, onOutput: (stream: 1 | 2, payload: Buffer) => Promise<void> | void): Promise<ExecSession> {
  return new Promise((resolveStart, rejectStart) => {
    const socket = connect(socketPath);
    let head: Buffer = Buffer.alloc(0);
    const frames = new FrameDecoder();
    let replied = false;
    let resolveExit!: (exit: ExecExit) => void;
    let rejectExit!: (err: Error) => void;
    const exit = new Promise<ExecExit>((res, rej) => { resolveExit = res; rejectExit = rej; });
    exit.catch(() => undefined);
    let exited = false;
    let waits = 0;
    const holdBackUntil = (ready: Promise<void>) => {
      if (waits++ === 0) socket.pause();
      void ready.then(() => {
        if (--waits === 0) socket.resume();
      });
    };
    socket.once('connect', () => socket.write(encodeJsonLine({ id: 1, method: 'exec', params: { execId, process } })));
    const onFrame = (stream: number, payload: Buffer) => {
      if (stream === EXEC_EXIT_FRAME) {
        exited = true;
        resolveExit(JSON.parse(payload.toString()) as ExecExit);
      } else if (stream === STREAM_STDOUT || stream === STREAM_STDERR) {
        const ready = onOutput(stream, payload);
        if (ready) holdBackUntil(ready);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (replied) return frames.push(chunk, onFrame);
      head = Buffer.concat([head, chunk]);
      const newline = head.indexOf(0x0a);
      if (newline < 0) return;
      const reply = JSON.parse(head.subarray(0, newline).toString()) as ShimResponse;
      replied = true;
      if ('error' in reply) {
        socket.destroy();
        return rejectStart(EngineError.fromJSON(reply.error));
      }
      resolveStart({ pid: (reply.result as { pid: number }).pid, exit });
      frames.push(head.subarray(newline + 1), onFrame);
    });
    socket.on('error', (err) => {
      if (!replied) rejectStart(new EngineError('Unavailable', `cannot reach the shim for exec: ${err.message}`));
    });
    socket.on('close', () => {
      if (!replied) rejectStart(new EngineError('Unavailable', 'the shim closed the exec connection'));
      else if (!exited) rejectExit(new EngineError('Unavailable', 'connection to the shim lost during exec'));
    });
  });
}
