import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRecord } from '../../protocol/records.ts';
import { notFound } from '../../protocol/errors.ts';
import type { CgroupSample } from './cgroup-stats.ts';
import { containerStats, type StatsClock } from './stats-service.ts';

function sample(totalUsage: number): CgroupSample {
  return {
    mode: 'v2',
    cpu: { totalUsage, percpuUsage: [], kernelUsage: 0, userUsage: 0, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
    systemCpuUsage: totalUsage * 10,
    onlineCpus: 1,
    memory: { usage: 0, limit: 1, stats: {} },
    pids: { current: 1 },
    blkio: [],
  };
}

/** A container whose status follows `statuses`, one per sample; a clock whose sleeps only count. */
function setup(statuses: Array<ContainerRecord['state']['Status']>) {
  let reads = 0;
  const slept: number[] = [];
  const record = () => ({ id: 'c1', name: 'web', state: { Status: statuses[Math.min(reads, statuses.length - 1)] } }) as unknown as ContainerRecord;
  const service = { store: { resolve: (ref: string) => { if (ref !== 'web' && ref !== 'c1') throw notFound(`No such container: ${ref}`); return record(); } } };
  let ms = Date.parse('2024-05-01T10:00:00Z');
  const clock: StatsClock = {
    readSample: () => sample(++reads * 1000),
    sleep: async (delay) => { slept.push(delay); ms += delay; },
    now: () => new Date(ms),
  };
  return { service, clock, slept };
}

async function collect(it: AsyncIterable<Record<string, unknown>>): Promise<Record<string, unknown>[]> {
  const out = [];
  for await (const s of it) out.push(s);
  return out;
}

const signal = new AbortController().signal;

describe('containerStats', () => {
  it('throws for an unknown container before any output', () => {
    const { service, clock } = setup(['running']);
    assert.throws(() => containerStats(service, 'nope', { stream: false, oneShot: false, signal }, clock), { kind: 'NotFound' });
  });

  it('stream=0 takes two samples half a second apart, so CPU has a previous one', async () => {
    const { service, clock, slept } = setup(['running']);
    const [only, ...rest] = await collect(containerStats(service, 'web', { stream: false, oneShot: false, signal }, clock));
    assert.equal(rest.length, 0);
    assert.deepEqual(slept, [500]);
    assert.equal(only!.preread, '2024-05-01T10:00:00.000Z');
    assert.equal(only!.read, '2024-05-01T10:00:00.500Z');
    assert.equal(only!.name, '/web');
  });

  it('one-shot takes one sample without a previous one', async () => {
    const { service, clock, slept } = setup(['running']);
    const [only] = await collect(containerStats(service, 'web', { stream: false, oneShot: true, signal }, clock));
    assert.deepEqual(slept, []);
    assert.equal(only!.preread, '0001-01-01T00:00:00Z');
  });

  it('streams once a second and ends with an empty sample when the container stops', async () => {
    const { service, clock, slept } = setup(['running', 'running', 'exited']);
    const all = await collect(containerStats(service, 'web', { stream: true, oneShot: false, signal }, clock));
    assert.equal(all.length, 3);
    assert.deepEqual(slept, [1000, 1000]);
    assert.equal(all[2]!.read, '0001-01-01T00:00:00Z');
    assert.equal(all[2]!.num_procs, 0);
  });

  it('a stopped container gets empty samples, the stream ending after the second', async () => {
    const { service, clock } = setup(['exited']);
    const all = await collect(containerStats(service, 'c1', { stream: true, oneShot: false, signal }, clock));
    assert.equal(all.length, 2);
    assert.equal(all[0]!.id, 'c1');
    assert.deepEqual(all[0]!.memory_stats, {});
  });

  it('stops streaming when the client goes away', async () => {
    const { service, clock } = setup(['running']);
    const aborted = new AbortController();
    const stream = containerStats(service, 'web', { stream: true, oneShot: false, signal: aborted.signal }, clock);
    assert.ok((await stream.next()).value);
    aborted.abort();
    assert.equal((await stream.next()).done, true);
  });
});
