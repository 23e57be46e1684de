import type { ExitRecord, ShimState } from '../protocol/shim.ts';
import type { LogDropStats } from './json-log-writer.ts';

/**
 * Publishes the shim's state to the daemon: every change bumps `generation` and answers the
 * `watch` long polls waiting on it; the final exit answers the `wait`s.
 */
export class StateFeed {
  readonly #state: ShimState;
  readonly #logDrops: () => LogDropStats;
  #changeWaiters: Array<() => void> = [];
  #exitWaiters: Array<(exit: ExitRecord) => void> = [];

  constructor(state: ShimState, logDrops: () => LogDropStats) {
    this.#state = state;
    this.#logDrops = logDrops;
  }

  /** Something in the state changed: publish it under the next generation. */
  changed = (): void => {
    withLogDrops(this.#state, this.#logDrops());
    this.#state.generation = (this.#state.generation ?? 0) + 1;
    for (const wake of this.#changeWaiters.splice(0)) wake();
  };

  /** `watch`: the state, once it has moved past the generation the daemon has seen. */
  async after(generation: number): Promise<ShimState> {
    if ((this.#state.generation ?? 0) <= generation) await new Promise<void>((wake) => this.#changeWaiters.push(wake));
    return this.#state;
  }

  /** `wait`: the final exit, now or once there is one. */
  exit(): ExitRecord | Promise<ExitRecord> {
    return this.#state.exit ?? new Promise<ExitRecord>((resolve) => this.#exitWaiters.push(resolve));
  }

  /** The final exit is in the state: answer the `wait`s. */
  settled(exit: ExitRecord): void {
    for (const resolve of this.#exitWaiters.splice(0)) resolve(exit);
  }
}

/** Protocol 1.3: the json-file writer's dropped lines and its current error, in the state. */
export function withLogDrops(state: ShimState, drops: LogDropStats): void {
  if (drops.droppedLines > 0) state.logDroppedLines = drops.droppedLines;
  if (drops.failing) state.logWriteError = drops.failing;
  else delete state.logWriteError;
}
