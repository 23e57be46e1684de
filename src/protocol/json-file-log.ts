/**
 * Docker's json-file log as berth keeps it: written by the shim (shim/json-log-writer.ts),
 * read by the daemon (daemon/logs/json-log-reader.ts), so both take the format from here.
 *
 * Layout: a container's log is `<id>-json.log` in its directory. With max-file N > 1, a
 * rotation renames `.N-2` → `.N-1`, …, `.1` → `.2` and the current file → `.1`: `.1` is the
 * newest rotated file, the highest index the oldest. With max-file 1 the file is truncated in
 * place. Each line is one entry, `{"log":"…","stream":"stdout","time":"<RFC3339Nano>"}`.
 */

export type LogStream = 'stdout' | 'stderr';

export interface JsonLogEntry {
  /** The line as the container wrote it, newline included (absent from a partial line). */
  log: string;
  stream: LogStream;
  /** RFC3339Nano, UTC. */
  time: string;
}

export interface JsonLogOptions {
  /** Bytes; 0 = no rotation. */
  maxSize: number;
  /** Total files kept including the current one. */
  maxFiles: number;
}

export function jsonLogFileName(containerId: string): string {
  return `${containerId}-json.log`;
}

/** `path.1` (newest) … `path.<maxFiles-1>` (oldest). */
export function rotatedLogPath(path: string, index: number): string {
  return `${path}.${index}`;
}

/** The rotation index of `name` if it is a rotated file of the log named `logName`. */
export function rotatedLogIndex(name: string, logName: string): number | undefined {
  const prefix = `${logName}.`;
  if (!name.startsWith(prefix)) return undefined;
  const suffix = name.slice(prefix.length);
  return /^[1-9]\d*$/.test(suffix) ? Number(suffix) : undefined;
}

/** One entry as a line of the file. */
export function encodeJsonLogEntry(entry: JsonLogEntry): string {
  return JSON.stringify({ log: entry.log, stream: entry.stream, time: entry.time }) + '\n';
}

/** A line of the file (without its newline); undefined for a torn or foreign line. */
export function decodeJsonLogEntry(line: Buffer | string): JsonLogEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { log, stream, time } = v as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  return { log, stream, time };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Every rotation renames each kept file and a reader opens them all: a bound keeps both cheap
 * (an unbounded max-file once froze the daemon for a minute listing three million names).
 */
export const MAX_LOG_FILES = 100;
/** Smaller files would rotate at almost every line. */
const MIN_LOG_SIZE = 1024;
const MAX_LOG_SIZE = 1024 ** 4;

/** Validates json-file log options the way Docker does (max-size uses binary units: 1k = 1024). */
export function parseLogOpts(opts: Record<string, string>): JsonLogOptions {
  let maxSize = 0;
  let maxFiles = 1;
  for (const [key, value] of Object.entries(opts)) {
    switch (key) {
      case 'max-size': {
        const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(value.trim());
        const size = m ? Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!) : NaN;
        if (!Number.isSafeInteger(size) || size < MIN_LOG_SIZE || size > MAX_LOG_SIZE) {
          throw new Error(`invalid max-size "${value}": must be a size from 1k to 1t, such as 10k, 10m or 1g`);
        }
        maxSize = size;
        break;
      }
      case 'max-file': {
        const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
        if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LOG_FILES) {
          throw new Error(`invalid max-file "${value}": must be an integer from 1 to ${MAX_LOG_FILES}`);
        }
        maxFiles = n;
        break;
      }
      case 'compress':
        if (TRUE_VALUES.has(value)) throw new Error('log opt compress=true is not supported by the json-file log driver');
        if (!FALSE_VALUES.has(value)) throw new Error(`invalid compress "${value}": must be true or false`);
        break;
      default:
        throw new Error(`unknown log opt '${key}' for json-file log driver`);
    }
  }
  return { maxSize, maxFiles };
}
