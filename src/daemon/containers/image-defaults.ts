import type { ContainerRecord, ImageRecord } from '../../protocol/records.ts';
import type { HealthcheckSpec } from '../../protocol/shim.ts';

type HealthConfig = ContainerRecord['config']['Healthcheck'];

const NS_PER_MS = 1_000_000;

/**
 * What Docker copies from the image into the container's config at create time: labels
 * (the container's win), the stop signal, exposed ports and volumes. Env, Cmd, Entrypoint,
 * WorkingDir, User and Healthcheck are resolved when the process is set up.
 */
export function withImageDefaults(config: ContainerRecord['config'], image: ImageRecord['config']): ContainerRecord['config'] {
  return {
    ...config,
    Labels: { ...image.Labels, ...config.Labels },
    ...(config.StopSignal || image.StopSignal ? { StopSignal: config.StopSignal || image.StopSignal } : {}),
    ...(config.ExposedPorts || image.ExposedPorts ? { ExposedPorts: { ...image.ExposedPorts, ...config.ExposedPorts } } : {}),
    ...(config.Volumes || image.Volumes ? { Volumes: { ...image.Volumes, ...config.Volumes } } : {}),
  };
}

/** The container's --health-* settings over the image's HEALTHCHECK: an empty test inherits the image's. */
export function mergeHealthcheck(container: HealthConfig, image: HealthConfig): HealthConfig {
  if (!container) return image;
  if (!image || container.Test.length > 0 && container.Test[0] === 'NONE') return container;
  return {
    ...image,
    ...Object.fromEntries(Object.entries(container).filter(([, v]) => v !== undefined && v !== 0 && !(Array.isArray(v) && v.length === 0))),
  } as HealthConfig;
}

/** Docker's HEALTHCHECK with its defaults (30 s interval and timeout, 3 retries); NONE or no test → none. */
export function healthcheckSpec(config: HealthConfig): { healthcheck?: HealthcheckSpec } {
  if (!config || config.Test.length === 0 || config.Test[0] === 'NONE') return {};
  const ms = (ns: number | undefined, fallback: number) => (ns ? Math.round(ns / NS_PER_MS) : fallback);
  return {
    healthcheck: {
      test: config.Test,
      intervalMs: ms(config.Interval, 30_000),
      timeoutMs: ms(config.Timeout, 30_000),
      startPeriodMs: ms(config.StartPeriod, 0),
      retries: config.Retries || 3,
    },
  };
}
