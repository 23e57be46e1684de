import type { Router } from '../router.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { parseUnixTimestamp } from '../../protocol/timestamps.ts';

export interface EventsBackend {
  /** Replays buffered events since `sinceNs`, then calls `onEvent` for new ones until unsubscribed. */
  subscribe(filters: string | null, sinceNs: number | undefined, onEvent: (event: { timeNano: number }) => void): () => void;
}

/** Docker timestamps in `since`/`until`: unix seconds with optional fraction. */
function toNanos(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const ns = parseUnixTimestamp(value);
  if (ns === undefined) throw invalidArgument(`invalid timestamp: ${value}`);
  return Number(ns);
}

/**
 * Events come as they happen and cannot wait for a client, so a subscriber this far behind
 * (bytes not yet taken by its connection) is cut off rather than buffered without bound; it
 * can resubscribe with `since`.
 */
export const MAX_UNREAD_EVENT_BYTES = 4 * 1024 * 1024;

export function eventRoutes(router: Router, backend: EventsBackend): void {
  router.add('GET', '/events', async ({ res, query, signal }) => {
    const since = toNanos(query.get('since'));
    const until = toNanos(query.get('until'));
    let unsubscribe: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    // The replay (bounded by the bus's buffer) is written at once; the cap is for live events after it.
    let allowedUnread = Infinity;
    const done = new Promise<void>((resolve) => {
      const finish = () => {
        finished = true;
        unsubscribe?.();
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', finish, { once: true });
      // The head goes out with the first replayed event or after subscribing, so bad filters are still a 400.
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      unsubscribe = backend.subscribe(query.get('filters'), since, (event) => {
        if (finished) return;
        if (until !== undefined && event.timeNano > until) return finish();
        if (res.destroyed) return finish();
        if (res.writableLength > allowedUnread) {
          res.destroy();
          return finish();
        }
        res.write(JSON.stringify(event) + '\n');
      });
      if (!res.headersSent) res.flushHeaders();
      // `until` may already have been passed during the replay.
      if (finished) unsubscribe();
      allowedUnread = res.writableLength + MAX_UNREAD_EVENT_BYTES;
      if (until !== undefined && !finished) timer = setTimeout(finish, Math.max(0, until / 1e6 - Date.now()));
    });
    await done;
    res.end();
  });
}
