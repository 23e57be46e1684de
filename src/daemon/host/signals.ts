/**
 * Signal handling from the daemon's first moment. Node's default action for SIGTERM, SIGINT
 * and SIGHUP is to exit at once, so the handlers are installed before anything else; a signal
 * that arrives before the daemon can act on it is held and acted on as soon as it can.
 */
export type DaemonSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export class SignalGate {
  readonly #handlers = new Map<DaemonSignal, (signal: DaemonSignal) => void>();
  readonly #held = new Set<DaemonSignal>();

  constructor(signals: readonly DaemonSignal[]) {
    for (const signal of signals) process.on(signal, () => this.#deliver(signal));
  }

  #deliver(signal: DaemonSignal): void {
    const handler = this.#handlers.get(signal);
    if (handler) handler(signal);
    else this.#held.add(signal);
  }

  /** From now on `handler` acts on `signal`; one that came earlier is handed to it right away. */
  handle(signal: DaemonSignal, handler: (signal: DaemonSignal) => void): void {
    this.#handlers.set(signal, handler);
    if (this.#held.delete(signal)) handler(signal);
  }
}
