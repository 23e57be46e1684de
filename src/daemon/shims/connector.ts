import { readFileSync, rmSync } from 'node:fs';
import { EngineError } from '../../protocol/errors.ts';
import type { ExitRecord, HelloResult, ShimConfig, ShimState } from '../../protocol/shim.ts';
import { bootId, isProcessAlive, readProcStat, waitForProcessExit } from '../../lib/proc.ts';
import { ShimClient } from './shim-client.ts';
import { deleteWithShim, launchShim, type LaunchedShim, type ShimBinary } from './shim-launcher.ts';

/** What the daemon asks of one connection to a container's shim. */
export interface ShimConnection {
  hello(timeoutMs?: number): Promise<HelloResult>;
  /** Protocol 1.2: resolves with the state once its generation is past `generation`. */
  watch(generation: number): Promise<ShimState>;
  wait(): Promise<ExitRecord>;
  kill(signal: string, stop?: boolean): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  shutdown(): Promise<void>;
  close(): void;
}

/** How shims are started, reached and cleaned up after: the seam that lets the lifecycle run without root. */
export interface ShimConnector {
  launch(config: ShimConfig): Promise<LaunchedShim>;
  connect(socketPath: string, timeoutMs?: number): Promise<ShimConnection>;
  /** `berth-shim delete`: the runtime's cleanup for a container whose shim is gone. */
  delete(configPath: string): Promise<void>;
}

/** The processes of this host, as the daemon sees them (read from /proc, against PID reuse). */
export interface HostProcesses {
  bootId(): string;
  alive(pid: number, startTime?: number): boolean;
  startTime(pid: number): number | undefined;
  /** True once the process is gone, false when it outlived `timeoutMs`. */
  waitForExit(pid: number, startTime: number | undefined, timeoutMs: number): Promise<boolean>;
  kill(pid: number, signal: NodeJS.Signals): void;
  /** The process' command line, or undefined once it is gone. */
  cmdline(pid: number): string | undefined;
  removeSocket(path: string): void;
}

export function shimConnector(binary: ShimBinary): ShimConnector {
  return {
    launch: (config) => launchShim(binary, config),
    connect: (socketPath, timeoutMs) => ShimClient.connect(socketPath, timeoutMs),
    delete: (configPath) => deleteWithShim(binary, configPath),
  };
}

export const hostProcesses: HostProcesses = {
  bootId,
  alive: isProcessAlive,
  startTime: (pid) => readProcStat(pid)?.startTime,
  waitForExit: waitForProcessExit,
  kill: (pid, signal) => {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  },
  cmdline: (pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return undefined; }
  },
  removeSocket: (path) => rmSync(path, { force: true }),
};

/** `watch` (and shim-applied restart policies) came with protocol 1.2. */
export function supportsWatch(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 2);
}

/** A busy host can make a live shim slow to accept: try a few times before calling it lost. */
export async function connectWithRetries(connector: ShimConnector, socketPath: string, attempts = 3): Promise<ShimConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connector.connect(socketPath, 2000);
    } catch (err) {
      if (attempt >= attempts || (EngineError.is(err) && /ENOENT/.test(err.message))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
