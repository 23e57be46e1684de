import { conflict } from '../../protocol/errors.ts';
import { followOutput, type LogPaths } from '../logs/logs-service.ts';
import type { LogLine } from '../../api/routes/containers.ts';
import type { ContainerStore } from './container-store.ts';

export interface AttachTarget {
  readonly store: Pick<ContainerStore, 'resolve'>;
  nextExit(id: string): Promise<void>;
  emitAttach(id: string): void;
}

/**
 * POST /containers/{id}/attach: the container's output (from the start of its log with `logs`)
 * until its next exit. Refused at once for a container being removed or dead.
 */
export function attachContainer(service: AttachTarget, paths: LogPaths, ref: string, options: { logs: boolean; signal: AbortSignal }): AsyncGenerator<LogLine> {
  const record = service.store.resolve(ref);
  // A stopped container may be attached to: `start -a` attaches first, then starts it (as with dockerd).
  if (record.state.Status === 'removing' || record.state.Status === 'dead') throw conflict(`You cannot attach to a container that is ${record.state.Status === 'dead' ? 'dead' : 'being removed'}`);
  let exited = false;
  void service.nextExit(record.id).then(() => (exited = true));
  service.emitAttach(record.id);
  return followOutput(paths, record, options.logs, () => !exited, options.signal);
}
