import { parseFilters, validateFilterKeys, type Filters } from '../../protocol/filters.ts';
import { isActive, type ContainerRecord } from '../../protocol/records.ts';
import { parseDockerTimestamp } from '../logs/json-log-reader.ts';
import type { ContainerStore } from './container-store.ts';

export interface PruneTarget {
  readonly store: Pick<ContainerStore, 'all'>;
  remove(id: string): Promise<void>;
}

/** POST /containers/prune: removes every stopped container the filters match; one that cannot be removed is skipped. */
export async function pruneContainers(service: PruneTarget, rawFilters: string | null): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
  const filters = parseFilters(rawFilters);
  validateFilterKeys(filters, ['until', 'label', 'label!']);
  const deleted: string[] = [];
  for (const record of service.store.all()) {
    if (!isPrunable(record) || !matchesPruneFilters(record, filters)) continue;
    await service.remove(record.id).then(() => deleted.push(record.id), () => undefined);
  }
  return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
}

export function isPrunable(record: ContainerRecord): boolean {
  return !isActive(record.state.Status) && record.state.Status !== 'removing';
}

/** Docker's prune filters: `until` (created before), `label` (all must match), `label!` (none may). */
export function matchesPruneFilters(record: ContainerRecord, filters: Filters, now?: Date): boolean {
  const until = filters.get('until');
  if (until?.length && !until.some((u) => Date.parse(record.created) < Number(parseDockerTimestamp(u, now) / 1_000_000n))) return false;
  const hasLabel = (spec: string) => {
    const eq = spec.indexOf('=');
    return eq < 0 ? spec in record.config.Labels : record.config.Labels[spec.slice(0, eq)] === spec.slice(eq + 1);
  };
  if (filters.get('label')?.some((l) => !hasLabel(l))) return false;
  if (filters.get('label!')?.some(hasLabel)) return false;
  return true;
}
