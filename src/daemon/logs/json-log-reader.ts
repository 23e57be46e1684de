/**
 * Reads Docker json-file logs written by the shim (format and file names:
 * protocol/json-file-log.ts), including rotated files, with tail, since/until and follow.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../protocol/errors.ts';
import { parseRFC3339, parseTimestamp } from '../../protocol/timestamps.ts';
import { decodeJsonLogEntry, rotatedLogIndex, rotatedLogPath, type LogStream } from '../../protocol/json-file-log.ts';

export interface LogEntry {
  stream: LogStream;
  /** As in the file. */
  time: string;
  timeNanos: bigint;
  log: string;
}

export interface ReadLogsOptions {
  path: string;
  maxFiles: number;
  /** -1 or undefined = all. */
  tail?: number;
  sinceNanos?: bigint;
  untilNanos?: bigint;
  follow?: boolean;
  /** Follow stops after the container is no longer running and the file is drained. */
  isRunning?: () => boolean;
  signal?: AbortSignal;
  /** Default 100. */
  pollMs?: number;
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

/** An open log file and how far into it we have read. */
class Cursor {
  readonly fd: number;
  readonly ino: number;
  offset = 0;
  /** Bytes of a line whose newline has not been read yet. */
  carry: Buffer | undefined;
  #buf: Buffer | undefined;
  #closed = false;

  constructor(fd: number) {
    this.fd = fd;
    this.ino = fstatSync(fd).ino;
  }

  /** Complete lines (without '\n') from offset to EOF; each is only valid until the next one is taken. */
  *lines(): Generator<Buffer> {
    const buf = (this.#buf ??= Buffer.allocUnsafe(CHUNK));
    for (;;) {
      const n = readSync(this.fd, buf, 0, CHUNK, this.offset);
      if (n === 0) return;
      this.offset += n;
      let data = buf.subarray(0, n);
      if (this.carry) {
        data = Buffer.concat([this.carry, data]);
        this.carry = undefined;
      }
      let start = 0;
      for (let nl = data.indexOf(NL); nl !== -1; nl = data.indexOf(NL, start)) {
        yield data.subarray(start, nl);
        start = nl + 1;
      }
      if (start < data.length) this.carry = Buffer.from(data.subarray(start));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.fd);
  }
}

function openCursor(name: string): Cursor | undefined {
  let fd: number;
  try {
    fd = openSync(name, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return new Cursor(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function statOrUndefined(name: string): Stats | undefined {
  try {
    return statSync(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function* readLogs(opts: ReadLogsOptions): AsyncGenerator<LogEntry> {
  const { path, signal, sinceNanos: since, untilNanos: until } = opts;
  const maxFiles = Math.max(1, opts.maxFiles);
  const names = [...rotatedFiles(path, maxFiles), path];
  // Opening every file up front pins a consistent set even if the writer rotates meanwhile.
  const cursors = names.map(openCursor).filter((c) => c !== undefined);
  let active = cursors.at(-1);

  let pastUntil = false;
  function* select(lines: Iterable<Buffer>): Generator<LogEntry | typeof TURN> {
    let n = 0;
    for (const line of lines) {
      if (++n % LINES_PER_TURN === 0) yield TURN;
      const e = decodeEntry(line);
      if (!e || (since !== undefined && e.timeNanos < since)) continue;
      if (until !== undefined && e.timeNanos > until) {
        pastUntil = true;
        return;
      }
      yield e;
    }
  }

  try {
    if (signal?.aborted) return;
    if (opts.tail !== undefined && opts.tail >= 0) {
      yield* paced(select(await takeTail(cursors, opts.tail)));
      if (pastUntil) return;
    }
    for (const c of cursors) {
      yield* paced(select(c.lines()));
      if (pastUntil) return;
      if (c !== active) c.close();
    }
    if (!opts.follow) return;

    const pollMs = opts.pollMs ?? 100;
    for (;;) {
      if (signal?.aborted) return;
      // Sampled before draining so whatever was written before the container stopped is read.
      const running = opts.isRunning ? opts.isRunning() : true;
      if (active) {
        yield* paced(select(active.lines()));
        if (pastUntil) return;
      }
      const st = statOrUndefined(path);
      if (st && st.ino !== active?.ino) {
        // Rotated: the old file is drained, move on to the file written after it.
        const next = active ? successor(path, maxFiles, active.ino) : path;
        active?.close();
        active = openCursor(next);
        continue;
      }
      if (active && st && fstatSync(active.fd).size < active.offset) {
        // Truncated in place (max-file 1).
        active.offset = 0;
        active.carry = undefined;
        continue;
      }
      if (!running) return;
      if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) return;
      try {
        await sleep(pollMs, undefined, { signal });
      } catch {
        return;
      }
    }
  } finally {
    for (const c of cursors) c.close();
    active?.close();
  }
}

/** Lines read between two turns of the event loop, so filtering a huge log never stalls the daemon. */
const LINES_PER_TURN = 1024;
const TURN = Symbol('turn');

async function* paced(entries: Iterable<LogEntry | typeof TURN>): AsyncGenerator<LogEntry> {
  for (const e of entries) {
    if (e === TURN) await nextTurn();
    else yield e;
  }
}

/**
 * The rotated files of `path` that exist (`path.1` … `path.<maxFiles-1>`), oldest first, found
 * by listing the directory rather than by trying every possible name.
 */
export function rotatedFiles(path: string, maxFiles: number): string[] {
  const logName = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const indexes: number[] = [];
  for (const name of names) {
    const k = rotatedLogIndex(name, logName);
    if (k !== undefined && k < maxFiles) indexes.push(k);
  }
  return indexes.sort((a, b) => b - a).map((k) => rotatedLogPath(join(dirname(path), logName), k));
}

/** The name of the file that was started after the (rotated) file with inode `ino`. */
function successor(path: string, maxFiles: number, ino: number): string {
  const rotated = rotatedFiles(path, maxFiles);
  const at = rotated.findIndex((name) => statOrUndefined(name)?.ino === ino);
  if (at >= 0) return rotated[at + 1] ?? path;
  // Our file was dropped off the end: every remaining file is newer, so take the oldest.
  return rotated[0] ?? path;
}

/**
 * Returns the last n complete lines across the files (oldest first) and moves each cursor to
 * the end of its complete lines, so further reads only see newer data.
 */
async function takeTail(cursors: Cursor[], n: number): Promise<Buffer[]> {
  const parts: Buffer[][] = [];
  let need = n;
  for (let i = cursors.length - 1; i >= 0; i--) {
    const c = cursors[i]!;
    const { lines, end } = await lastLines(c.fd, fstatSync(c.fd).size, need);
    c.offset = end;
    parts.unshift(lines);
    need -= lines.length;
  }
  return parts.flat();
}

async function lastLines(fd: number, size: number, n: number): Promise<{ lines: Buffer[]; end: number }> {
  const chunks: Buffer[] = [];
  let pos = size;
  let newlines = 0;
  // n+1 newlines bound n whole lines; with n = 0 this still finds where the complete lines end.
  while (pos > 0 && newlines <= n) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const b = Buffer.alloc(len);
    for (let got = 0, r = -1; got < len && r !== 0; got += r) r = readSync(fd, b, got, len - got, pos + got);
    chunks.unshift(b);
    for (let i = b.indexOf(NL); i !== -1; i = b.indexOf(NL, i + 1)) newlines++;
    await nextTurn();
  }
  const data = Buffer.concat(chunks);
  const last = data.lastIndexOf(NL);
  const lines: Buffer[] = [];
  for (let start = 0, nl = data.indexOf(NL); nl !== -1; nl = data.indexOf(NL, start)) {
    lines.push(data.subarray(start, nl));
    start = nl + 1;
    if (lines.length % LINES_PER_TURN === 0) await nextTurn();
  }
  if (pos > 0) lines.shift(); // began mid-line
  return { lines: n === 0 ? [] : lines.slice(Math.max(0, lines.length - n)), end: pos + last + 1 };
}

function decodeEntry(line: Buffer): LogEntry | undefined {
  const entry = decodeJsonLogEntry(line);
  if (!entry) return undefined;
  try {
    return { stream: entry.stream, time: entry.time, timeNanos: parseRFC3339Nano(entry.time), log: entry.log };
  } catch {
    return undefined;
  }
}

/** Nanos since epoch of an RFC3339 / RFC3339Nano timestamp. */
export function parseRFC3339Nano(s: string): bigint {
  const ns = parseRFC3339(s);
  if (ns === undefined) throw new EngineError('InvalidArgument', `invalid RFC3339 timestamp "${s}"`);
  return ns;
}

/** Docker's --since/--until value (protocol/timestamps.ts: parseTimestamp). */
export function parseDockerTimestamp(s: string, now: Date = new Date()): bigint {
  const ns = parseTimestamp(s, now);
  if (ns !== undefined) return ns;
  throw new EngineError(
    'InvalidArgument',
    `invalid timestamp "${s}": expected unix seconds, an RFC3339 date/time or a duration such as 10m`,
  );
}
