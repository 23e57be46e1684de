import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters } from '../../protocol/filters.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import { matchesPruneFilters, pruneContainers } from './container-prune.ts';

function record(id: string, status: ContainerRecord['state']['Status'], created: string, labels: Record<string, string> = {}): ContainerRecord {
  return { id, created, config: { Labels: labels }, state: { Status: status } } as unknown as ContainerRecord;
}

const filters = (f: Record<string, string[]>) => parseFilters(JSON.stringify(f));
const NOW = new Date('2024-05-02T00:00:00Z');

describe('matchesPruneFilters', () => {
  const r = record('a', 'exited', '2024-05-01T10:00:00Z', { env: 'test', keep: '' });

  it('matches everything without filters', () => {
    assert.equal(matchesPruneFilters(r, filters({})), true);
  });

  it('until: created strictly before a timestamp or a duration ago', () => {
    assert.equal(matchesPruneFilters(r, filters({ until: ['2024-05-01T11:00:00Z'] })), true);
    assert.equal(matchesPruneFilters(r, filters({ until: ['2024-05-01T10:00:00Z'] })), false);
    assert.equal(matchesPruneFilters(r, filters({ until: ['13h'] }), NOW), true);
    assert.equal(matchesPruneFilters(r, filters({ until: ['15h'] }), NOW), false);
  });

  it('label needs every one, label! refuses any', () => {
    assert.equal(matchesPruneFilters(r, filters({ label: ['env=test', 'keep'] })), true);
    assert.equal(matchesPruneFilters(r, filters({ label: ['env=test', 'other'] })), false);
    assert.equal(matchesPruneFilters(r, filters({ label: ['env=prod'] })), false);
    assert.equal(matchesPruneFilters(r, filters({ 'label!': ['keep'] })), false);
    assert.equal(matchesPruneFilters(r, filters({ 'label!': ['env=prod'] })), true);
  });
});

describe('pruneContainers', () => {
  it('removes stopped containers only and skips those that fail', async () => {
    const all = [
      record('run', 'running', '2024-05-01T10:00:00Z'),
      record('paused', 'paused', '2024-05-01T10:00:00Z'),
      record('gone', 'removing', '2024-05-01T10:00:00Z'),
      record('done', 'exited', '2024-05-01T10:00:00Z'),
      record('new', 'created', '2024-05-01T10:00:00Z'),
      record('stuck', 'exited', '2024-05-01T10:00:00Z'),
    ];
    const asked: string[] = [];
    const service = {
      store: { all: () => all },
      remove: async (id: string) => {
        asked.push(id);
        if (id === 'stuck') throw new Error('busy');
      },
    };
    assert.deepEqual(await pruneContainers(service, null), { ContainersDeleted: ['done', 'new'], SpaceReclaimed: 0 });
    assert.deepEqual(asked, ['done', 'new', 'stuck']);
  });

  it('refuses filters Docker does not take for containers', async () => {
    await assert.rejects(pruneContainers({ store: { all: () => [] }, remove: async () => {} }, JSON.stringify({ name: ['x'] })), { kind: 'InvalidArgument' });
  });
});
