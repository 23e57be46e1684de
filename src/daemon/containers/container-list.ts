import { parseFilters, validateFilterKeys, type Filters } from '../../protocol/filters.ts';
import { isActive, type ContainerRecord } from '../../protocol/records.ts';
import { containerSummary } from '../../api/views.ts';
import { containerSizes, type ContainerLayerPaths } from '../storage/container-size.ts';
import { CONTAINER_FILTERS, matchContainer, validateContainerFilters } from './container-filters.ts';
import type { ContainerStore } from './container-store.ts';
import type { ImageStore } from '../../images/image-store.ts';

export interface ListOptions {
  all: boolean;
  limit: number | undefined;
  size: boolean;
  filters: string | null;
}

export interface ListDeps {
  store: Pick<ContainerStore, 'all' | 'find'>;
  images: Pick<ImageStore, 'find'>;
  paths: ContainerLayerPaths;
}

/** GET /containers/json: the summaries, newest first, with sizes only when asked (they walk the disk). */
export function listContainers(deps: ListDeps, options: ListOptions): Record<string, unknown>[] | Promise<Record<string, unknown>[]> {
  const filters = parseFilters(options.filters);
  validateFilterKeys(filters, CONTAINER_FILTERS);
  validateContainerFilters(filters);
  const records = selectContainers(deps.store.all(), filters, options, {
    findContainer: (ref) => deps.store.find(ref),
    findImage: (ref) => deps.images.find(ref),
  });
  if (!options.size) return records.map((r) => containerSummary(r, r.config.Image));
  return Promise.all(records.map(async (r) => ({
    ...containerSummary(r, r.config.Image),
    ...await containerSizes(r, deps.paths, deps.images.find(r.imageId)?.size ?? 0),
  })));
}

export interface ListLookups {
  findContainer(ref: string): ContainerRecord | undefined;
  findImage(ref: string): { id: string } | undefined;
}

/** Which containers `ps` shows and in what order, from already validated filters. */
export function selectContainers(all: readonly ContainerRecord[], filters: Filters, options: Pick<ListOptions, 'all' | 'limit'>, lookups: ListLookups): ContainerRecord[] {
  const byAge = [...all].sort((a, b) => a.created.localeCompare(b.created));
  const order = new Map(byAge.map((r, i) => [r.id, i]));
  const ctx = {
    imageIdsForRef: (ref: string) => {
      const image = lookups.findImage(ref);
      return image ? [image.id] : [];
    },
    createdOrder: (ref: string) => {
      const r = lookups.findContainer(ref);
      return r ? order.get(r.id) : undefined;
    },
  };
  let records = byAge.reverse().filter((r) => matchContainer(r, filters, ctx));
  const limited = options.limit !== undefined && options.limit > 0;
  // A status filter shows stopped containers without --all, as in dockerd.
  if (!options.all && !limited && !filters.has('status')) records = records.filter((r) => isActive(r.state.Status));
  if (limited) records = records.slice(0, options.limit);
  return records;
}
