import type { HealthcheckSpec, HealthResult, HealthState } from '../protocol/shim.ts';

const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/**
 * A probe's output as Docker keeps it: the first 4 KiB, the rest dropped while it is read, so a
 * probe that prints without end costs the shim nothing.
 */
export class LimitedOutput {
  #chunks: Buffer[] = [];
  #length = 0;

  append(chunk: Buffer): void {
    const room = MAX_OUTPUT - this.#length;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(Buffer.from(kept));
    this.#length += kept.length;
  }

  toString(): string {
    return Buffer.concat(this.#chunks, this.#length).toString();
  }
}

export type Probe = (args: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

/** The command a HEALTHCHECK test runs, or undefined for NONE / an empty test. */
export function probeCommand(test: string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (kind === 'CMD' && rest.length) return rest;
  if (kind === 'CMD-SHELL' && rest.length) return ['/bin/sh', '-c', rest.join(' ')];
  return undefined;
}

/**
 * Docker's health check semantics: probes every interval; a success makes the container
 * healthy; failures count towards `retries` (except during the start period) and then make
 * it unhealthy; the last five results are kept.
 */
export class HealthMonitor {
  readonly state: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  readonly #spec: HealthcheckSpec;
  readonly #command: string[];
  readonly #probe: Probe;
  readonly #onChange: () => void;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #stopped = true;

  constructor(spec: HealthcheckSpec, command: string[], probe: Probe, onChange: () => void) {
    this.#spec = spec;
    this.#command = command;
    this.#probe = probe;
    this.#onChange = onChange;
  }

  /** (Re)start checking a freshly started container: health begins as "starting". */
  start(now = Date.now()): void {
    this.stop();
    this.#stopped = false;
    this.#startedAt = now;
    Object.assign(this.state, { Status: 'starting', FailingStreak: 0 });
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), this.#spec.intervalMs);
    this.#timer.unref?.();
  }

  async #check(): Promise<void> {
    const start = new Date();
    const { exitCode, output } = await this.#probe(this.#command, this.#spec.timeoutMs).catch((err: unknown) => ({ exitCode: -1, output: String(err) }));
    if (this.#stopped) return;
    this.record({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output.slice(0, MAX_OUTPUT) }, start.getTime());
    this.#schedule();
  }

  /** Apply one probe result. */
  record(result: HealthResult, at: number): void {
    this.state.Log = [...this.state.Log, result].slice(-MAX_LOG);
    if (result.ExitCode === 0) {
      this.state.Status = 'healthy';
      this.state.FailingStreak = 0;
    } else if (at - this.#startedAt >= this.#spec.startPeriodMs || this.state.Status !== 'starting') {
      this.state.FailingStreak++;
      if (this.state.FailingStreak >= this.#spec.retries) this.state.Status = 'unhealthy';
    }
    this.#onChange();
  }
}
