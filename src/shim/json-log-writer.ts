/**
 * Writes a container's stdout/stderr into a Docker json-file log (the format and file names
 * are protocol/json-file-log.ts), split into lines as Docker's copier does, with rotation.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';
import { encodeJsonLogEntry, rotatedLogPath, type LogStream } from '../protocol/json-file-log.ts';

export interface JsonLogWriterOptions {
  path: string;
  /** Bytes; 0 or undefined = no rotation. */
  maxSize?: number;
  /** Total files kept including the current one; default 1. */
  maxFiles?: number;
  /** RFC3339Nano timestamp provider, for tests. */
  now?: () => string;
  /**
   * Called when a line could not be written (ENOSPC, EDQUOT, EIO…) and was dropped, and again
   * with `undefined` at the first line written after such a failure.
   */
  onWriteError?: (error: NodeJS.ErrnoException | undefined) => void;
}

/** What a full disk (or any write error) has cost the log so far. */
export interface LogDropStats {
  /** Lines dropped because they could not be written. */
  droppedLines: number;
  /** The error of the last failed write, while writes keep failing; undefined once one succeeds. */
  failing: string | undefined;
}

/** Docker's copier reads 16 KiB at a time and emits a full buffer without newline as a partial entry. */
const MAX_LINE = 16 * 1024;
const NEWLINE = 0x0a;
const FILE_MODE = 0o640;

export class JsonLogWriter {
  readonly #path: string;
  readonly #maxSize: number;
  readonly #maxFiles: number;
  readonly #now: () => string;
  readonly #pending: Record<LogStream, Buffer | undefined> = { stdout: undefined, stderr: undefined };
  readonly #onWriteError: ((error: NodeJS.ErrnoException | undefined) => void) | undefined;
  /** -1 after a rotation could not reopen the file; the next line tries again. */
  #fd: number;
  #size: number;
  #closed = false;
  #dropped = 0;
  #failing: NodeJS.ErrnoException | undefined;

  constructor(opts: JsonLogWriterOptions) {
    this.#path = opts.path;
    this.#maxSize = opts.maxSize ?? 0;
    this.#maxFiles = Math.max(1, opts.maxFiles ?? 1);
    this.#now = opts.now ?? nowRFC3339Nano;
    this.#onWriteError = opts.onWriteError;
    this.#fd = -1;
    this.#size = 0;
    this.#reopen();
  }

  write(stream: LogStream, chunk: Buffer): void {
    if (this.#closed || chunk.length === 0) return;
    const time = this.#now();
    const prev = this.#pending[stream];
    const buf = prev ? Buffer.concat([prev, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl !== -1 && nl - start <= MAX_LINE) {
        this.#emit(stream, buf.subarray(start, nl + 1), time);
        start = nl + 1;
      } else if (buf.length - start > MAX_LINE) {
        const cut = utf8Boundary(buf, start + MAX_LINE, start);
        this.#emit(stream, buf.subarray(start, cut), time);
        start = cut;
      } else {
        break;
      }
    }
    // Copy: the caller may reuse its chunk buffer.
    this.#pending[stream] = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
  }

  /** Emits a pending partial line without newline, as Docker does at stream end. */
  flush(stream?: LogStream): void {
    if (this.#closed) return;
    for (const s of stream ? [stream] : (['stdout', 'stderr'] as const)) {
      const pending = this.#pending[s];
      if (!pending) continue;
      this.#pending[s] = undefined;
      this.#emit(s, pending, this.#now());
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#fd < 0) return;
    try {
      closeSync(this.#fd);
    } catch { /* EIO on close: the lines it lost were counted or are lost to the kernel */ }
  }

  stats(): LogDropStats {
    return { droppedLines: this.#dropped, failing: this.#failing?.message };
  }

  /**
   * A line that cannot be written (a full disk, a quota, an I/O error) is dropped and
   * counted, never thrown: the shim must outlive its log. Every later line tries again, so
   * writing resumes as soon as there is room.
   */
  #emit(stream: LogStream, bytes: Buffer, time: string): void {
    const entry = Buffer.from(encodeJsonLogEntry({ log: bytes.toString('utf8'), stream, time }));
    let before = 0;
    let off = 0;
    try {
      if (this.#fd < 0) this.#reopen();
      if (this.#maxSize > 0 && this.#size > 0 && this.#size + entry.length > this.#maxSize) this.#rotate();
      before = this.#size;
      while (off < entry.length) off += writeSync(this.#fd, entry, off, entry.length - off);
      this.#size += entry.length;
    } catch (err) {
      // Keep the file made of whole entries: cut off the part of the line that did get written.
      if (off > 0) {
        try {
          ftruncateSync(this.#fd, before);
        } catch { /* the reader skips a torn line */ }
      }
      this.#dropped++;
      this.#failing = err as NodeJS.ErrnoException;
      this.#onWriteError?.(this.#failing);
      return;
    }
    if (this.#failing) {
      this.#failing = undefined;
      this.#onWriteError?.(undefined);
    }
  }

  #reopen(): void {
    this.#fd = openSync(this.#path, 'a', FILE_MODE);
    this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    if (this.#maxFiles === 1) {
      // Docker truncates in place when only one file is kept; 'a' mode then writes at offset 0.
      ftruncateSync(this.#fd, 0);
      this.#size = 0;
      return;
    }
    closeSync(this.#fd);
    try {
      for (let i = this.#maxFiles - 1; i >= 1; i--) {
        const from = i === 1 ? this.#path : rotatedLogPath(this.#path, i - 1);
        try {
          renameSync(from, rotatedLogPath(this.#path, i));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    } finally {
      this.#fd = -1;
      this.#reopen();
    }
  }
}

/** Moves `cut` back to the start of a UTF-8 sequence so a split never tears a character. */
function utf8Boundary(buf: Buffer, cut: number, min: number): number {
  for (let i = cut; i > min && i > cut - 4; i--) {
    if ((buf[i]! & 0xc0) !== 0x80) return i;
  }
  return cut;
}

// Wall clock anchored to the monotonic clock for sub-millisecond digits; re-anchored if the
// wall clock is stepped by more than a second.
let anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function nowRFC3339Nano(): string {
  let ns = anchorNs + process.hrtime.bigint();
  const wallMs = Date.now();
  const drift = Number(ns / 1_000_000n) - wallMs;
  if (drift > 1000 || drift < -1000) {
    anchorNs = BigInt(wallMs) * 1_000_000n - process.hrtime.bigint();
    ns = anchorNs + process.hrtime.bigint();
  }
  const seconds = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  return `${seconds}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}
