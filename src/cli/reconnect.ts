/**
 * Commands that outlive a daemon restart: `logs -f` and `wait` reconnect when berthd goes
 * away and comes back (live restore), without a gap or a duplicated line.
 */
import { FrameDecoder } from '../protocol/stdcopy.ts';
import type { BerthClient } from '../client/client.ts';
import { EngineError } from '../protocol/errors.ts';

/** How long a command waits for the daemon to come back before giving up. */
const RECONNECT_FOR_MS = Number(process.env.BERTH_RECONNECT_MS ?? 300_000);

/** Whether an error means the daemon went away (as opposed to a real API error). */
export function isDaemonGone(err: unknown): boolean {
  if (EngineError.is(err)) return err.kind === 'Unavailable';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EPIPE' || /socket hang up/.test(String(err));
}

/** Resolves once the daemon answers /_ping again; rejects after RECONNECT_FOR_MS. */
export async function daemonBack(client: BerthClient): Promise<void> {
  const deadline = Date.now() + RECONNECT_FOR_MS;
  for (;;) {
    try {
      await client.ping();
      await client.info(); // answers only once restore is done
      return;
    } catch (err) {
      if (!isDaemonGone(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export interface FollowOptions {
  tail: string;
  timestamps: boolean;
  details: boolean;
  since: string | undefined;
  until: string | undefined;
}

/** RFC 3339 with nanoseconds → the API's "seconds.nanoseconds". */
function apiSince(time: string): string {
  const seconds = Math.floor(Date.parse(time) / 1000);
  const fraction = (/\.(\d+)Z$/.exec(time)?.[1] ?? '').padEnd(9, '0').slice(0, 9);
  return `${seconds}.${fraction}`;
}

/**
 * `logs -f` that survives the daemon: lines are requested with timestamps, and after a
 * reconnect the request starts at the last timestamp seen, skipping the lines already
 * printed at that exact time.
 */
export async function followLogs(client: BerthClient, id: string, o: FollowOptions, write: (stream: number, data: Buffer) => void): Promise<void> {
  let lastTime: string | undefined;
  let seenAtLastTime = 0;
  for (let first = true; ; first = false) {
    const query = {
      follow: true,
      timestamps: true,
      details: o.details || undefined,
      tail: first ? o.tail : 'all',
      since: lastTime !== undefined ? apiSince(lastTime) : o.since,
      until: o.until,
    };
    let skip = seenAtLastTime;
    try {
      const res = await client.containerLogs(id, query);
      await new Promise<void>((resolve, reject) => {
        const decoder = new FrameDecoder();
        res.on('data', (chunk: Buffer) => decoder.push(chunk, (stream, payload) => {
          const text = payload.toString();
          const space = text.indexOf(' ');
          const time = text.slice(0, space);
          if (time === lastTime && skip > 0) {
            skip--;
            return;
          }
          if (time !== lastTime) {
            lastTime = time;
            seenAtLastTime = 0;
          }
          seenAtLastTime++;
          write(stream, o.timestamps ? payload : payload.subarray(Buffer.byteLength(text.slice(0, space + 1))));
        }));
        res.on('end', resolve);
        res.on('error', reject);
        res.on('aborted', () => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
      });
    } catch (err) {
      if (!isDaemonGone(err)) throw err;
    }
    // The stream ended: the container stopped, or the daemon went away.
    try {
      const state = await client.inspectContainer(id);
      if (!['running', 'paused', 'restarting'].includes(state.State.Status)) return;
    } catch (err) {
      if (!isDaemonGone(err)) throw err;
      await daemonBack(client);
    }
  }
}

/** `wait` that survives the daemon: asks again once it is back (an exit meanwhile is recorded). */
export async function waitSurvivingRestarts<T>(client: BerthClient, wait: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await wait();
    } catch (err) {
      if (!isDaemonGone(err)) throw err;
      await daemonBack(client);
    }
  }
}
