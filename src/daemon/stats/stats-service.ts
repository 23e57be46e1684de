import { setTimeout as sleep } from 'node:timers/promises';
import { isActive } from '../../protocol/records.ts';
import { readCgroupSample, dockerStatsJson, type CgroupSample } from './cgroup-stats.ts';
import type { ContainerStore } from '../containers/container-store.ts';

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  signal: AbortSignal;
}

export interface StatsSource {
  readonly store: Pick<ContainerStore, 'resolve'>;
}

/** How samples are taken and time passes; tests replace them. */
export interface StatsClock {
  readSample(containerId: string): CgroupSample;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  now(): Date;
}

const SYSTEM_CLOCK: StatsClock = {
  readSample: (containerId) => readCgroupSample({ containerId }),
  sleep: async (ms, signal) => { await sleep(ms, undefined, { signal }); },
  now: () => new Date(),
};

/** GET /containers/{id}/stats. An unknown container throws here, before any output. */
export function containerStats(service: StatsSource, ref: string, options: StatsOptions, clock: StatsClock = SYSTEM_CLOCK): AsyncGenerator<Record<string, unknown>> {
  return statsSamples(service.store, service.store.resolve(ref).id, options, clock);
}

/** One sample (stream=0) or one per second until the client goes away or the container stops. */
async function* statsSamples(store: StatsSource['store'], id: string, options: StatsOptions, clock: StatsClock): AsyncGenerator<Record<string, unknown>> {
  let previous: { sample: CgroupSample; at: Date } | undefined;
  const sample = () => {
    const record = store.resolve(id);
    const meta = { id: record.id, name: `/${record.name}`, readAt: clock.now(), ...(previous ? { prereadAt: previous.at } : {}) };
    if (!isActive(record.state.Status)) return { sample: undefined, json: emptyStats(meta) };
    const current = clock.readSample(record.id);
    const json = dockerStatsJson(current, previous?.sample, meta);
    previous = { sample: current, at: meta.readAt };
    return { sample: current, json };
  };
  let first = sample();
  if (!options.stream && !options.oneShot && first.sample) {
    // Like dockerd, a single sample carries a previous one taken a moment earlier, so CPU % means something.
    await clock.sleep(500, options.signal).catch(() => undefined);
    first = sample();
  }
  yield first.json;
  while (options.stream && !options.signal.aborted) {
    try {
      await clock.sleep(1000, options.signal);
    } catch {
      return;
    }
    const next = sample();
    yield next.json;
    if (!next.sample) return;
  }
}

/** What dockerd answers for a container that is not running. */
export function emptyStats(meta: { id: string; name: string }): Record<string, unknown> {
  return { read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', id: meta.id, name: meta.name, pids_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, memory_stats: {}, blkio_stats: {}, networks: {}, num_procs: 0, storage_stats: {} };
}
