import { invalidArgument } from '../../protocol/errors.ts';
import { isActive, type ContainerRecord } from '../../protocol/records.ts';
import { parseLogOpts } from '../../protocol/json-file-log.ts';
import { readLogs, parseDockerTimestamp, type ReadLogsOptions } from './json-log-reader.ts';
import type { LogLine, LogsOptions } from '../../api/routes/containers.ts';
import type { ContainerStore } from '../containers/container-store.ts';
import type { DaemonPaths } from '../host/paths.ts';

export type LogPaths = Pick<DaemonPaths, 'containerLog'>;

export interface LogsSource {
  readonly store: Pick<ContainerStore, 'resolve' | 'find'>;
}

/**
 * GET /containers/{id}/logs. An unknown container throws here, before any output; a bad
 * since/until when reading starts.
 */
export function containerLogs(service: LogsSource, paths: LogPaths, ref: string, options: LogsOptions): AsyncGenerator<LogLine> {
  return readContainerLogs(service.store, paths, service.store.resolve(ref).id, options);
}

async function* readContainerLogs(store: LogsSource['store'], paths: LogPaths, id: string, options: LogsOptions): AsyncGenerator<LogLine> {
  const files = logFiles(paths, store.resolve(id));
  const sinceNanos = logTimeBound(options.since);
  const untilNanos = logTimeBound(options.until);
  yield* logLines({
    ...files,
    ...(options.tail !== undefined ? { tail: options.tail } : {}),
    ...(sinceNanos !== undefined ? { sinceNanos } : {}),
    ...(untilNanos !== undefined ? { untilNanos } : {}),
    follow: options.follow && untilNanos === undefined,
    isRunning: () => { const r = store.find(id); return r !== undefined && isActive(r.state.Status); },
    signal: options.signal,
  });
}

/** The container's output as it is written (from the start of its log with `fromStart`), while `isRunning`. */
export async function* followOutput(paths: LogPaths, record: ContainerRecord, fromStart: boolean, isRunning: () => boolean, signal: AbortSignal): AsyncGenerator<LogLine> {
  yield* logLines({ ...logFiles(paths, record), follow: true, isRunning, signal, pollMs: 50, ...(fromStart ? {} : { tail: 0 }) });
}

/** A since/until query value in nanoseconds; absent or "0" means no bound. */
export function logTimeBound(value: string | undefined, now?: Date): bigint | undefined {
  if (value === undefined || value === '0') return undefined;
  try {
    return parseDockerTimestamp(value, now);
  } catch {
    throw invalidArgument(`invalid value for since/until: ${value}`);
  }
}

function logFiles(paths: LogPaths, record: ContainerRecord): Pick<ReadLogsOptions, 'path' | 'maxFiles'> {
  return { path: paths.containerLog(record.id), maxFiles: parseLogOpts(record.hostConfig.LogConfig.Config).maxFiles };
}

async function* logLines(options: ReadLogsOptions): AsyncGenerator<LogLine> {
  for await (const entry of readLogs(options)) yield { stream: entry.stream, time: entry.time, log: entry.log };
}
