import type { Filters } from '../../protocol/filters.ts';
import { validateFilterKeys } from '../../protocol/filters.ts';
import type { EngineEvent } from './events.ts';

export const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'label', 'daemon', 'scope'];

/** Docker's /events filters: values of one key OR, keys AND. */
export function eventMatcher(filters: Filters): (event: EngineEvent) => boolean {
  validateFilterKeys(filters, EVENT_FILTERS);
  const any = (key: string, test: (value: string) => boolean) => {
    const values = filters.get(key);
    return !values || values.length === 0 || values.some(test);
  };
  return (e) =>
    any('type', (v) => v === e.Type) &&
    any('event', (v) => v === e.Action || e.Action.startsWith(`${v}:`)) &&
    any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v)) &&
    any('image', (v) => e.Actor.Attributes.image === v || (e.Type === 'image' && (e.Actor.ID === v || e.Actor.Attributes.name === v))) &&
    any('label', (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
    }) &&
    any('daemon', () => e.Type === 'daemon') &&
    any('scope', (v) => v === e.scope);
}
