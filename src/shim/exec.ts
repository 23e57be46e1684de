import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { ExecExit, ExecProcess, ShimConfig } from '../protocol/shim.ts';
import { EXEC_EXIT_FRAME, frame, STREAM_STDERR, STREAM_STDOUT, type FrameStream } from '../protocol/stdcopy.ts';
import { childEnv } from '../lib/exec.ts';
import { PRIVATE_FILE_MODE } from '../lib/private-paths.ts';
import { signalNumber } from '../protocol/signals.ts';
import { execArgs, lastRuntimeError } from '../runtime/oci-runtime.ts';
import { writeOrWait } from '../lib/backpressure.ts';

/** Where an exec's output goes: stdcopy frames on a socket (exec) or a buffer (health checks). */
export interface ExecOutput {
  /** A promise means "backed up": the process's output is held back until it settles. */
  write(stream: FrameStream, payload: Buffer): Promise<void> | void;
  end(): void;
}

/**
 * An exec's output as stdcopy frames on the daemon's connection, held back while the daemon
 * does not read; a gone daemon just drops it (the exec runs on).
 */
export function socketOutput(socket: Socket): ExecOutput {
  socket.on('error', () => undefined);
  return {
    write: (stream, payload) => writeOrWait(socket, frame(stream, payload)),
    end: () => {
      if (!socket.destroyed) socket.end();
    },
  };
}

/**
 * Runs one process in the container through the runtime, as the shim's child, and sends its
 * output to `output`, ending with an exit frame. Fields of `process` override the
 * container's own process spec. With `timeoutMs` the runtime is killed when it runs over
 * (exit code -1, as Docker reports a timed-out health check).
 */
export function runExec(config: ShimConfig, execId: string, process: Partial<ExecProcess> & { args: string[] }, output: ExecOutput, started: (pid: number) => void, timeoutMs?: number): Promise<ExecExit> {
  const spec = JSON.parse(readFileSync(join(config.bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
  const processFile = join(config.bundle, `exec-${execId}.json`);
  const pidFile = join(config.bundle, `exec-${execId}.pid`);
  const logFile = join(config.bundle, `exec-${execId}.log`);
  writeFileSync(processFile, JSON.stringify({ ...spec.process, terminal: false, ...process }), { mode: PRIVATE_FILE_MODE });
  // Output waits until the reply line (with the PID) has gone out: the reply comes first on the wire.
  const pending: Array<[FrameStream, Buffer]> = [];
  let reported = false;
  const send = (stream: FrameStream, payload: Buffer): Promise<void> | void => {
    if (reported) return output.write(stream, payload);
    pending.push([stream, payload]);
  };
  const markStarted = (pid: number) => {
    reported = true;
    started(pid);
    for (const [stream, payload] of pending.splice(0)) output.write(stream, payload);
  };
  return new Promise((resolve) => {
    const child = spawn(config.runtime.path, execArgs(config.runtime, config.id, processFile, pidFile, logFile), { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let ranProcess = false;
    const reportStarted = () => {
      if (reported || !existsSync(pidFile)) return;
      clearInterval(poll);
      ranProcess = true;
      markStarted(Number.parseInt(readFileSync(pidFile, 'utf8'), 10) || 0);
    };
    const poll = setInterval(reportStarted, 5);
    let open = 2;
    let exitCode: number | null = null;
    const finish = () => {
      if (open > 0 || exitCode === null) return;
      clearInterval(poll);
      reportStarted();
      let exit: ExecExit = { exitCode, finishedAt: new Date().toISOString() };
      if (!ranProcess) {
        const message = lastRuntimeError(logFile) ?? `exec failed with code ${exitCode}`;
        exit = { ...exit, exitCode: /not found|no such file/i.test(message) ? 127 : 126, error: `OCI runtime exec failed: ${message}` };
        // The runtime has already written the same error to its stderr, which the client got.
        markStarted(0);
      }
      if (timedOut) exit = { ...exit, exitCode: -1, error: `timed out after ${timeoutMs} ms` };
      send(EXEC_EXIT_FRAME, Buffer.from(JSON.stringify(exit)));
      output.end();
      for (const f of [processFile, pidFile, logFile]) rmSync(f, { force: true });
      resolve(exit);
    };
    // While the output is backed up, the pipes are not read: the process blocks on a full pipe.
    let held = 0;
    const holdBackUntil = (ready: Promise<void> | void) => {
      if (!ready) return;
      if (held++ === 0) {
        child.stdout.pause();
        child.stderr.pause();
      }
      void ready.then(() => {
        if (--held > 0) return;
        child.stdout.resume();
        child.stderr.resume();
      });
    };
    child.stdout.on('data', (chunk: Buffer) => holdBackUntil(send(STREAM_STDOUT, chunk)));
    child.stderr.on('data', (chunk: Buffer) => holdBackUntil(send(STREAM_STDERR, chunk)));
    child.stdout.on('close', () => { open--; finish(); });
    child.stderr.on('close', () => { open--; finish(); });
    child.on('error', () => { exitCode = 126; });
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      // The process runs in the container, not under the runtime: kill it, then the runtime.
      const pid = existsSync(pidFile) ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10) : 0;
      if (pid > 0) {
        try { globalThis.process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      exitCode = code ?? (signal ? 128 + signalNumber(signal) : 126);
      finish();
    });
  });
}
