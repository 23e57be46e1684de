import type { EventsBackend } from '../../api/routes/events.ts';
import { parseFilters } from '../../protocol/filters.ts';
import type { EventBus } from './events.ts';
import { eventMatcher } from './event-filters.ts';

/** `/events`: the bus's replay since a time, then its live events, both through the client's filters. */
export class EventsService implements EventsBackend {
  readonly #bus: EventBus;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  subscribe(rawFilters: string | null, sinceNs: number | undefined, onEvent: (event: { timeNano: number }) => void): () => void {
    const matches = eventMatcher(parseFilters(rawFilters));
    if (sinceNs !== undefined) for (const e of this.#bus.replay(sinceNs)) if (matches(e)) onEvent(e);
    return this.#bus.subscribe((e) => {
      if (matches(e)) onEvent(e);
    });
  }
}
