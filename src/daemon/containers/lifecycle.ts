import { EngineError } from '../../protocol/errors.ts';
import type { ContainerRecord, ContainerState, ContainerStatus } from '../../protocol/records.ts';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Where a container may go from each state. A state listed under itself may be updated in
 * place: a new run reported by the shim, a health result, dropped log lines, a failed start.
 * `removing` is never written to disk: a removal either ends with the record gone or, as
 * dockerd does, with the container `dead` (removable again).
 */
const TRANSITIONS: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['created', 'running', 'removing', 'exited'],
  running: ['running', 'exited', 'dead', 'paused', 'restarting'],
  paused: ['paused', 'running', 'exited', 'dead'],
  restarting: ['restarting', 'running', 'exited', 'dead'],
  exited: ['exited', 'running', 'removing'],
  removing: ['dead'],
  dead: ['dead', 'removing'],
};

/** Fields of the state a transition sets; a field given as undefined is removed. */
export type StatePatch = { [K in keyof Omit<ContainerState, 'Status'>]?: ContainerState[K] | undefined };

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(id: string, from: ContainerStatus, to: ContainerStatus): void {
  if (!canTransition(from, to)) {
    throw new EngineError('FailedPrecondition', `container ${id.slice(0, 12)}: cannot go from ${from} to ${to}`);
  }
}

/** The state of a container that was just created. */
export function createdState(): ContainerState {
  return { Status: 'created', Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, OOMKilled: false };
}

/** The only writer of a container's state: moves `record` to `to` (checked against the table) with `patch` applied. */
export function transition(record: ContainerRecord, to: ContainerStatus, patch: StatePatch = {}): ContainerRecord {
  assertTransition(record.id, record.state.Status, to);
  const next: Record<string, unknown> = { ...record.state, Status: to };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  record.state = next as unknown as ContainerState;
  return record;
}
