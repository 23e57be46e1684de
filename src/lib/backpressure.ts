/**
 * Writing to a peer that may read slowly, never read, or go away: output waits for 'drain'
 * instead of piling up in memory, and the wait ends as soon as the peer is gone.
 */

/** Where a stream's output goes: a socket or an HTTP response. */
export interface Sink {
  write(chunk: Buffer | string): boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  once(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
  off(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
}

/** The sink takes no more output: closed, destroyed or ended. */
export function isGone(sink: Sink): boolean {
  return sink.destroyed || sink.writableEnded;
}

/**
 * Resolves when a backed-up `sink` wants more: on 'drain', or when it closes or fails, or
 * `signal` aborts — whichever comes first, so a waiter is never parked forever.
 */
export function whenWritable(sink: Sink, signal?: AbortSignal): Promise<void> {
  if (isGone(sink) || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      sink.off('error', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    sink.once('drain', done);
    sink.once('close', done);
    sink.once('error', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Writes `chunk` unless the sink is gone. Returns undefined when the sink took it without
 * backing up (or is gone: the chunk is dropped), else a promise of whenWritable().
 */
export function writeOrWait(sink: Sink, chunk: Buffer | string, signal?: AbortSignal): Promise<void> | undefined {
  if (isGone(sink)) return undefined;
  if (sink.write(chunk)) return undefined;
  return whenWritable(sink, signal);
}

/** Writes `chunk` and waits while the sink is backed up; false once the sink takes no more output. */
export async function writeWithBackpressure(sink: Sink, chunk: Buffer | string, signal?: AbortSignal): Promise<boolean> {
  await writeOrWait(sink, chunk, signal);
  return !isGone(sink) && !signal?.aborted;
}
