import type { ContainerRecord } from '../../protocol/records.ts';
import type { ExitRecord, HelloResult } from '../../protocol/shim.ts';
import type { ExitRecordLike } from '../containers/types.ts';

/** What the daemon found out about a container it had recorded as running. */
export interface RestoreFacts {
  /** This boot's id. */
  bootId: string;
  /** When the facts were taken. */
  now: string;
  /** The shim's answer, when it is alive and answered. */
  hello?: HelloResult;
  /** The exit the shim wrote to disk for the current run, when no live shim answered. */
  exitOnDisk?: ExitRecord;
}

export type RestoreDecision =
  /** The shim answers and the container still runs: follow it again, same PID, same StartedAt. */
  | { kind: 'reattach' }
  /** The container ended while the daemon was away: record its real exit. */
  | { kind: 'exited'; exit: ExitRecordLike }
  /** The host rebooted since the container started: it is gone, exit 255. */
  | { kind: 'rebooted'; exit: ExitRecordLike }
  /** Nothing tells how it ended: kill what is left (when a shim was recorded) and record exit 255 with why. */
  | { kind: 'lost'; why: string; shimRecorded: boolean };

/** Restore's decision for one container, from the facts alone. */
export function classify(record: ContainerRecord, facts: RestoreFacts): RestoreDecision {
  const shim = record.shim;
  if (!shim) return { kind: 'lost', why: 'no shim was recorded for this container', shimRecorded: false };
  if (shim.bootId !== facts.bootId) {
    return { kind: 'rebooted', exit: { exitCode: 255, finishedAt: record.state.StartedAt, oomKilled: false, error: 'the host rebooted while the container was running' } };
  }
  if (facts.hello) return facts.hello.state.exit ? { kind: 'exited', exit: facts.hello.state.exit } : { kind: 'reattach' };
  if (facts.exitOnDisk) return { kind: 'exited', exit: facts.exitOnDisk };
  return { kind: 'lost', why: `shim process (pid ${shim.shimPid}) was gone when the daemon started; the container was stopped`, shimRecorded: true };
}
