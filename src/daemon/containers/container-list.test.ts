import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '../../protocol/filters.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import { selectContainers } from './container-list.ts';

/** Only the fields the selection reads. */
function record(name: string, created: string, status: ContainerRecord['state']['Status'], labels: Record<string, string> = {}): ContainerRecord {
  return { id: `${name}-id`, name, created, imageId: 'sha256:img', config: { Image: 'busybox', Labels: labels }, state: { Status: status, StartedAt: created, ExitCode: 0 }, hostConfig: { NetworkMode: 'default', Binds: null } } as unknown as ContainerRecord;
}

const old = record('old', '2024-05-01T10:00:00Z', 'running', { tier: 'front' });
const mid = record('mid', '2024-05-01T11:00:00Z', 'exited');
const fresh = record('fresh', '2024-05-01T12:00:00Z', 'running');
const store = [mid, fresh, old];
const lookups = {
  findContainer: (ref: string) => store.find((r) => r.name === ref || r.id === ref),
  findImage: () => undefined,
};
const names = (records: ContainerRecord[]) => records.map((r) => r.name);
const select = (options: { all?: boolean; limit?: number; filters?: string }) =>
  names(selectContainers(store, parseFilters(options.filters ?? null), { all: options.all ?? false, limit: options.limit }, lookups));

describe('selectContainers', () => {
  it('shows running containers, newest first', () => {
    assert.deepEqual(select({}), ['fresh', 'old']);
  });

  it('shows stopped ones with all', () => {
    assert.deepEqual(select({ all: true }), ['fresh', 'mid', 'old']);
  });

  it('a positive limit implies all and cuts the newest n', () => {
    assert.deepEqual(select({ limit: 2 }), ['fresh', 'mid']);
    assert.deepEqual(select({ limit: 0 }), ['fresh', 'old']);
  });

  it('a status filter shows stopped containers without all', () => {
    assert.deepEqual(select({ filters: JSON.stringify({ status: ['exited'] }) }), ['mid']);
  });

  it('before/since use creation order, resolved by name', () => {
    assert.deepEqual(select({ all: true, filters: JSON.stringify({ before: ['fresh'] }) }), ['mid', 'old']);
    assert.deepEqual(select({ all: true, filters: JSON.stringify({ since: ['old'] }) }), ['fresh', 'mid']);
  });

  it('applies label filters and leaves its input unsorted', () => {
    assert.deepEqual(select({ filters: JSON.stringify({ label: ['tier=front'] }) }), ['old']);
    assert.deepEqual(names(store), ['mid', 'fresh', 'old']);
  });
});
