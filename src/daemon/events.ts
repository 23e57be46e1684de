import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { PRIVATE_FILE_MODE } from '../lib/private-paths.ts';

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

/**
 * Publishes engine events to subscribers and keeps the most recent ones for `since`
 * replays — in memory and, with a journal path, in a bounded JSON-lines file, so that
 * `events --since` reaches across daemon restarts.
 */
export class EventBus {
  readonly #recent: EngineEvent[] = [];
  readonly #emitter = new EventEmitter();
  readonly #journal: string | undefined;
  #journalLines = 0;

  constructor(journalPath?: string) {
    this.#emitter.setMaxListeners(0);
    this.#journal = journalPath;
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

  #persist(event: EngineEvent): void {
    if (!this.#journal) return;
    appendFileSync(this.#journal, JSON.stringify(event) + '\n', { mode: PRIVATE_FILE_MODE });
    if (++this.#journalLines > 2 * CAPACITY) {
      writeFileAtomic(this.#journal, this.#recent.map((e) => JSON.stringify(e) + '\n').join(''));
      this.#journalLines = this.#recent.length;
    }
  }

  /** `at` (RFC 3339) dates an event that happened earlier, e.g. an exit while the daemon was down. */
  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}, at?: string): EngineEvent {
    const nowNs = at ? rfc3339ToNanos(at) : BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
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
