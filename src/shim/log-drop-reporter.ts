/**
 * Tells the daemon and the shim's own log that container log lines are being dropped (a
 * full disk), without a report per line: the first failure is reported at once, later ones
 * at most every `publishEveryMs` (the daemon sees them through `watch`), and the shim's log
 * repeats the warning at most every `warnEveryMs` while writes keep failing.
 */
import { Throttle } from '../lib/throttle.ts';
import type { LogDropStats } from './json-log-writer.ts';

type Log = (level: 'info' | 'warn', msg: string, extra: Record<string, unknown>) => void;

export class LogDropReporter {
  readonly #stats: () => LogDropStats;
  readonly #publish: () => void;
  readonly #log: Log;
  readonly #publishEveryMs: number;
  readonly #warnings: Throttle;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(stats: () => LogDropStats, publish: () => void, log: Log, publishEveryMs = 1000, warnEveryMs = 30_000) {
    this.#stats = stats;
    this.#publish = publish;
    this.#log = log;
    this.#publishEveryMs = publishEveryMs;
    this.#warnings = new Throttle(warnEveryMs);
  }

  /** The log writer's onWriteError: an error for a dropped line, undefined when writing works again. */
  onWriteError = (error: NodeJS.ErrnoException | undefined): void => {
    const { droppedLines } = this.#stats();
    if (!error) {
      this.#failing = false;
      this.#warnings.reset();
      this.#log('info', 'container log writes resumed', { droppedLines });
      this.#publishNow();
      return;
    }
    if (this.#warnings.allow()) {
      this.#log('warn', 'cannot write the container log; dropping lines until it can be written', { droppedLines, error: error.message });
    }
    if (!this.#failing) {
      this.#failing = true;
      this.#publishNow();
      return;
    }
    this.#timer ??= setTimeout(() => this.#publishNow(), this.#publishEveryMs);
  };

  #publishNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#publish();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
