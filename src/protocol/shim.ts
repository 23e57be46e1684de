/**
 * The daemon ↔ shim control protocol: newline-delimited JSON over a unix stream socket.
 * Both sides import this module; bump MINOR for additive changes, MAJOR for breaking ones.
 * Every request carries an `id`; the reply echoes it. `wait` replies once the container has
 * exited (immediately if it already has).
 */
import type { SerializedError } from './errors.ts';

/**
 * 1.1 added pause, resume and exec. `exec` turns its connection into a stream of Docker
 * stdcopy frames (1 = stdout, 2 = stderr) ended by one EXEC_EXIT_FRAME (protocol/stdcopy.ts)
 * whose payload is a JSON ExecExit; the shim then closes the connection.
 * 1.2 added restart policies applied by the shim (ShimConfig.restartPolicy), the `watch`
 * method, `kill` with `stop`, and restartCount/generation/history in ShimState.
 * 1.3 added logDroppedLines/logWriteError in ShimState: lines of the json-file log the shim
 * could not write (a full disk) are dropped and counted, and a change of the count bumps the
 * generation (at most about once a second), so `watch` reports it. Absent from older shims.
 */
export const SHIM_PROTOCOL_VERSION = '1.3';

export interface ExecExit {
  exitCode: number;
  /** Set when the process could not be started at all. */
  error?: string;
  /** 1.2: when it ended (RFC 3339). */
  finishedAt?: string;
}

/** 1.2: what the shim knows of the execs it ran, for a daemon that restarted meanwhile. */
export interface ExecStatus {
  running: boolean;
  pid: number;
  exit?: ExecExit;
}

export interface ExecProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
}

export function protocolMajor(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}

/** What the shim knows about its container. */
export interface ShimState {
  status: 'starting' | 'running' | 'restarting' | 'exited';
  pid: number;
  /** /proc start time of the container's init, guards against PID reuse. */
  pidStartTime: number;
  startedAt: string;
  /** The final exit: set once the shim will not start the container again. */
  exit?: ExitRecord;
  /** 1.2: restarts this shim has done under the restart policy. */
  restartCount?: number;
  /** 1.2: bumped on every start and every exit, so a watcher knows what it has seen. */
  generation?: number;
  /** 1.2: the most recent runs that ended (oldest first, at most RUN_HISTORY). */
  history?: RunRecord[];
  /** 1.2: the health check's state, when the container has one. */
  health?: HealthState;
  /** 1.3: log lines dropped because they could not be written (ENOSPC, EDQUOT, EIO…), since the shim started. */
  logDroppedLines?: number;
  /** 1.3: the error of the last failed log write, while writes keep failing. */
  logWriteError?: string;
}

export const RUN_HISTORY = 20;

/** One run of the container's process that has ended. */
export interface RunRecord {
  /** The generation at which this exit happened. */
  generation: number;
  pid: number;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** Whether the shim restarted the container after it. */
  restarted: boolean;
}

/** Docker's HEALTHCHECK, in milliseconds. test: ["CMD", ...], ["CMD-SHELL", "cmd"] or ["NONE"]. */
export interface HealthcheckSpec {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

/** Docker's State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthResult[];
}

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface RestartPolicySpec {
  name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  maximumRetryCount: number;
}

export interface ExitRecord {
  schemaVersion: 1;
  exitCode: number;
  /** Signal name when the container was killed by a signal (exitCode is then 128+N). */
  signal?: string;
  oomKilled: boolean;
  finishedAt: string;
  /** Set when the container never ran properly, e.g. the runtime failed. */
  error?: string;
}

export interface HelloResult {
  version: string;
  shimPid: number;
  state: ShimState;
}

export type ShimRequest =
  | { id: number; method: 'hello'; params: { version: string } }
  | { id: number; method: 'state' }
  | { id: number; method: 'kill'; params: { signal: string; stop?: boolean } }
  | { id: number; method: 'watch'; params: { generation: number } }
  | { id: number; method: 'execs' }
  | { id: number; method: 'wait' }
  | { id: number; method: 'shutdown' }
  | { id: number; method: 'pause' }
  | { id: number; method: 'resume' }
  | { id: number; method: 'exec'; params: { execId: string; process: ExecProcess } };

export type ShimMethod = ShimRequest['method'];

export type ShimResponse =
  | { id: number; result: unknown }
  | { id: number; error: SerializedError };

/** Written by the daemon into the bundle before the shim starts; the shim's whole configuration. */
export interface ShimConfig {
  schemaVersion: 1;
  id: string;
  bundle: string;
  runtime: { name: string; path: string; root: string };
  socketPath: string;
  logPath: string;
  logMaxSize: number;
  logMaxFiles: number;
  exitPath: string;
  /** 1.2; absent means "no". */
  restartPolicy?: RestartPolicySpec;
  /** 1.2; run by the shim, so health keeps being checked while the daemon is down. */
  healthcheck?: HealthcheckSpec;
}

/** One JSON line the shim writes to its sync pipe (fd 3) once the container runs, or fails to. */
export type ShimReady =
  | { ok: true; version: string; shimPid: number; socketPath: string; state: ShimState }
  | { ok: false; error: SerializedError };
