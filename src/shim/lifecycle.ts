/**
 * The shim's own lifecycle, without I/O: which phase the container's process is in, what the
 * shim does after each event (a start, an exit, the end of a back-off, a kill), and which
 * control requests each phase allows. `main.ts` runs the runtime and the timers and applies
 * the decisions; the state it publishes (`ShimState`) is the one kept here.
 *
 *   starting ──started──▶ running ──exit, restart──▶ backoff ──over──▶ respawning ──started──▶ running
 *      │                     │                          │                  │
 *      │ no start            │ exit, no restart         │ stopped          │ exit before start: as from running
 *      ▼                     ▼                          ▼                  │
 *   failed                exited ◀──────────────────────┘◀─────────────────┘
 */
import { EngineError } from '../protocol/errors.ts';
import { RUN_HISTORY, type ExitRecord, type RestartPolicySpec, type ShimState } from '../protocol/shim.ts';
import { signalNumber } from '../protocol/signals.ts';
import { exitRecordFrom } from './exit-record.ts';
import { nextBackoff, shouldRestart } from './restart-policy.ts';

export type Phase = 'starting' | 'running' | 'backoff' | 'respawning' | 'exited' | 'failed';

/** What the wire shows for each phase: a back-off and the start after it are both "restarting". */
const STATUS: Record<Phase, ShimState['status']> = {
  starting: 'starting',
  running: 'running',
  backoff: 'restarting',
  respawning: 'restarting',
  exited: 'exited',
  // The shim exits right after it reports the failure; the state is never read again.
  failed: 'starting',
};

const MOVES: Record<Phase, readonly Phase[]> = {
  starting: ['running', 'failed'],
  running: ['backoff', 'exited'],
  backoff: ['respawning', 'exited'],
  respawning: ['running', 'backoff', 'exited'],
  exited: [],
  failed: [],
};

/** How one `runtime run` ended. */
export interface RunOutcome {
  /** False when the runtime failed before the container's process existed. */
  started: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

export interface Clock {
  now(): number;
  /** RFC 3339 with nanoseconds, as Docker writes times. */
  timestamp(): string;
}

/** What the shim does next. */
export type Decision =
  /** Run the container (again). */
  | { next: 'run' }
  /** Wait `delayMs` (a stop cuts it short), then ask `backoffOver()`. */
  | { next: 'backoff'; delayMs: number; exit: ExitRecord }
  /** The container is done: record `exit` and keep serving until the daemon's `shutdown`. */
  | { next: 'final'; exit: ExitRecord }
  /** The first start failed: tell the daemon on the sync pipe, then quit. */
  | { next: 'report-start-failure'; error: { kind: 'InvalidArgument' | 'Internal'; message: string } };

export type AfterExit = Extract<Decision, { next: 'backoff' | 'final' | 'report-start-failure' }>;
export type AfterBackoff = Extract<Decision, { next: 'run' | 'final' }>;

/** What a `kill` request does in the current phase. */
export type KillAction = 'signal' | 'cancel-backoff' | 'none';

export class ShimLifecycle {
  readonly state: ShimState = { status: 'starting', pid: 0, pidStartTime: 0, startedAt: '', restartCount: 0, generation: 0, history: [] };
  readonly #id: string;
  readonly #policy: RestartPolicySpec | undefined;
  readonly #clock: Clock;
  #phase: Phase = 'starting';
  #manuallyStopped = false;
  #backoffMs = 0;
  /** The exit that led to the current back-off: final if the back-off is stopped. */
  #pendingExit: ExitRecord | undefined;

  constructor(id: string, policy: RestartPolicySpec | undefined, clock: Clock) {
    this.#id = id;
    this.#policy = policy;
    this.#clock = clock;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** The runtime wrote the pid file: the container's init exists. */
  started(pid: number, pidStartTime: number): void {
    this.#move('running');
    this.state.pid = pid;
    this.state.pidStartTime = pidStartTime;
    this.state.startedAt = this.#clock.timestamp();
  }

  /** The runtime has exited and its output is drained. */
  exited(run: RunOutcome): AfterExit {
    if (!run.started && this.#phase === 'starting') {
      // The daemon reports the runtime's error to the client.
      const message = run.error ?? 'the container did not start';
      this.#move('failed');
      return { next: 'report-start-failure', error: { kind: classifyStartError(message), message } };
    }
    const exit = exitRecordFrom(run.code, run.signal, this.#clock.timestamp());
    if (run.error) exit.error = run.error;
    const ranForMs = run.started ? this.#clock.now() - Date.parse(this.state.startedAt) : 0;
    const restart = shouldRestart(this.#policy, exit.exitCode, this.state.restartCount ?? 0, this.#manuallyStopped);
    this.#move(restart ? 'backoff' : 'exited');
    const { state } = this;
    // The generation the publication of this exit will carry.
    const generation = (state.generation ?? 0) + 1;
    state.history = [...(state.history ?? []), { generation, pid: state.pid, startedAt: state.startedAt, finishedAt: exit.finishedAt, exitCode: exit.exitCode, restarted: restart }].slice(-RUN_HISTORY);
    if (!restart) return this.#final(exit);
    this.#backoffMs = nextBackoff(this.#backoffMs, ranForMs);
    this.#pendingExit = exit;
    state.pid = 0;
    return { next: 'backoff', delayMs: this.#backoffMs, exit };
  }

  /** The back-off has ended, by its timer or cut short by a kill. */
  backoffOver(): AfterBackoff {
    const exit = this.#pendingExit;
    if (this.#phase !== 'backoff' || !exit) throw new EngineError('FailedPrecondition', `shim lifecycle: no back-off in phase ${this.#phase}`);
    this.#pendingExit = undefined;
    if (this.#manuallyStopped) {
      // Stopped while waiting to restart: the last exit is the final one.
      this.#move('exited');
      const history = this.state.history ?? [];
      this.state.history = history.map((run, i) => (i === history.length - 1 ? { ...run, restarted: false } : run));
      return this.#final(exit);
    }
    this.#move('respawning');
    this.state.restartCount = (this.state.restartCount ?? 0) + 1;
    return { next: 'run' };
  }

  /** A `kill` request; `stop` means no restart policy applies to the exit it causes. */
  kill(signal: string, stop: boolean): KillAction {
    if (this.#phase === 'exited') throw new EngineError('FailedPrecondition', `container ${this.#id} is not running`);
    signalNumber(signal); // validates
    if (stop) this.#manuallyStopped = true;
    if (this.#phase === 'backoff') return 'cancel-backoff';
    // Between the back-off and the new start there is no process to signal.
    if (this.#phase === 'respawning') return 'none';
    return 'signal';
  }

  /** pause and exec need a running process. */
  requireRunning(): void {
    if (this.#phase !== 'running') throw new EngineError('FailedPrecondition', `container ${this.#id} is not running`);
  }

  /** shutdown is the daemon's acknowledgement of the final exit. */
  requireExited(): void {
    if (this.#phase !== 'exited') throw new EngineError('FailedPrecondition', `container ${this.#id} is still running`);
  }

  #final(exit: ExitRecord): { next: 'final'; exit: ExitRecord } {
    this.state.exit = exit;
    this.state.pid = 0;
    return { next: 'final', exit };
  }

  #move(to: Phase): void {
    if (!MOVES[this.#phase].includes(to)) throw new EngineError('FailedPrecondition', `shim lifecycle: cannot move from ${this.#phase} to ${to}`);
    this.#phase = to;
    this.state.status = STATUS[to];
  }
}

export function classifyStartError(message: string): 'InvalidArgument' | 'Internal' {
  return /executable file not found|no such file or directory|permission denied|not a directory/i.test(message) ? 'InvalidArgument' : 'Internal';
}
