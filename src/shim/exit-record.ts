import type { ExitRecord } from '../protocol/shim.ts';
import { signalName, signalNumber } from '../protocol/signals.ts';
import type { Log } from './log.ts';

export function exitRecordFrom(code: number | null, signal: NodeJS.Signals | null, finishedAt: string): ExitRecord {
  // The runtime reports a container killed by signal N as 128+N.
  const exitCode = code ?? (signal ? 128 + signalNumber(signal) : 255);
  const record: ExitRecord = { schemaVersion: 1, exitCode, oomKilled: false, finishedAt };
  const name = exitCode > 128 ? signalName(exitCode - 128) : undefined;
  if (name) record.signal = name;
  return record;
}

export interface ExitPersistence {
  /** Writes exit.json atomically; throws when it cannot (a full disk). */
  write(exit: ExitRecord): void;
  log: Log;
  retryAfter(ms: number, retry: () => void): void;
}

/** The delay before the next attempt: 100 ms, doubling up to 10 s. */
export function nextExitRetry(previousMs: number): number {
  return Math.min(Math.max(previousMs * 2, 100), 10_000);
}

/**
 * exit.json is for a daemon that finds the shim gone; until it is written (a full disk), the
 * exit lives in the shim's state and the write is retried.
 */
export function persistExit(exit: ExitRecord, io: ExitPersistence, retryMs = 0): void {
  try {
    io.write(exit);
    if (retryMs) io.log('info', 'exit record written', { exitCode: exit.exitCode });
  } catch (err) {
    if (!retryMs) io.log('warn', 'cannot write the exit record; keeping the exit in memory and retrying', { exitCode: exit.exitCode, error: (err as Error).message });
    const next = nextExitRetry(retryMs);
    io.retryAfter(next, () => persistExit(exit, io, next));
  }
}
