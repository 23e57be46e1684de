/**
 * Lets a thing happen at most once per `intervalMs` for each key: for warnings that a full
 * disk would otherwise repeat for every line or every event.
 */
export class Throttle {
  readonly #intervalMs: number;
  readonly #last = new Map<string, number>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** True (and the clock for `key` restarts) when `key` last passed at least the interval ago. */
  allow(key = ''): boolean {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    this.#last.set(key, now);
    return true;
  }

  /** `key` may pass at once next time. */
  reset(key = ''): void {
    this.#last.delete(key);
  }
}
