import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/atomic-file.ts';
import type { Logger } from '../../lib/logger.ts';
import { PRIVATE_FILE_MODE } from '../../lib/private-paths.ts';
import { Throttle } from '../../lib/throttle.ts';

/** One event in Docker's /events shape. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'daemon' | 'volume' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Deprecated duplicates that older clients still read (container and image events). */
  status?: string;
  id?: string;
  from?: string;
}

const CAPACITY = 1024;
const JOURNAL_WARN_INTERVAL_MS = 60_000;

/**
 * Publishes engine events to subscribers and keeps the most recent ones for `since`
 * replays — in memory and, with a journal path, in a bounded JSON-lines file, so that
 * `events --since` reaches across daemon restarts.
 */
export class EventBus {
  readonly #recent: EngineEvent[] = [];
  readonly #emitter = new EventEmitter();
  readonly #journal: string | undefined;
  readonly #log: Logger | undefined;
  #journalLines = 0;
  /** Events published but not journaled since the last good write (a full disk). */
  #missed = 0;
  readonly #journalWarnings = new Throttle(JOURNAL_WARN_INTERVAL_MS);

  constructor(journalPath?: string, log?: Logger) {
    this.#emitter.setMaxListeners(0);
    this.#journal = journalPath;
    this.#log = log;
    if (journalPath && existsSync(journalPath)) {
      const lines = readFileSync(journalPath, 'utf8').split('\n').filter(Boolean);
      this.#journalLines = lines.length;
      for (const line of lines.slice(-CAPACITY)) {
        try {
          this.#recent.push(JSON.parse(line) as EngineEvent);
        } catch { /* a line torn by a crash */ }
      }
    }
  }

  /**
   * The journal follows the bus, never the other way round: an event whose append fails (a
   * full disk) is still published, and the journal is rewritten from memory, gap included,
   * at the next event that finds room. A state change is never undone or failed by it.
   */
  #persist(event: EngineEvent): void {
    if (!this.#journal) return;
    try {
      if (this.#missed > 0 || this.#journalLines + 1 > 2 * CAPACITY) {
        this.#rewrite(this.#journal);
      } else {
        appendFileSync(this.#journal, JSON.stringify(event) + '\n', { mode: PRIVATE_FILE_MODE });
        this.#journalLines++;
      }
    } catch (err) {
      this.#missed++;
      if (this.#journalWarnings.allow()) {
        this.#log?.warn({ err, missedEvents: this.#missed }, 'cannot write the events journal; events are published and kept in memory, and the journal is rewritten once it can be');
      }
    }
  }

  #rewrite(journal: string): void {
    writeFileAtomic(journal, this.#recent.map((e) => JSON.stringify(e) + '\n').join(''));
    this.#journalLines = this.#recent.length;
    if (this.#missed > 0) {
      this.#log?.info({ missedEvents: this.#missed }, 'events journal written again');
      this.#missed = 0;
    }
  }

  #lastNowNs = 0n;

  /**
   * Wall-clock milliseconds plus a sub-millisecond part from hrtime, never going back: the
   * hrtime part wraps independently of the clock, so two events in the same millisecond could
   * otherwise be dated out of order (and replayed so).
   */
  #nextNow(): bigint {
    let ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    // 1 µs, not 1 ns: timeNano is a JS number, exact only to 256 ns at today's dates.
    if (ns < this.#lastNowNs + 1000n) ns = this.#lastNowNs + 1000n;
    this.#lastNowNs = ns;
    return ns;
  }

  /** `at` (RFC 3339) dates an event that happened earlier, e.g. an exit while the daemon was down. */
  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}, at?: string): EngineEvent {
    const nowNs = at ? rfc3339ToNanos(at) : this.#nextNow();
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes.image) event.from = attributes.image;
    }
    this.#recent.push(event);
    if (this.#recent.length > CAPACITY) this.#recent.shift();
    this.#persist(event);
    this.#emitter.emit('event', event);
    return event;
  }

  /** Events at or after `sinceNs` still in the buffer. */
  replay(sinceNs: number): EngineEvent[] {
    // Events dated in the past (exits found at restore) arrive late: hand them out in time order.
    return this.#recent.filter((e) => e.timeNano >= sinceNs).sort((a, b) => a.timeNano - b.timeNano);
  }

  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}

function rfc3339ToNanos(at: string): bigint {
  const match = /\.(\d+)Z$/.exec(at);
  const fraction = (match?.[1] ?? '').padEnd(9, '0').slice(0, 9);
  const seconds = BigInt(Math.floor(Date.parse(at) / 1000));
  return seconds * 1_000_000_000n + BigInt(fraction || '0');
}
