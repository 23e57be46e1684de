import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ShimConfig } from '../protocol/shim.ts';
import { childEnv } from '../lib/exec.ts';
import { lastRuntimeError, runArgs } from '../runtime/oci-runtime.ts';
import type { JsonLogWriter } from './json-log-writer.ts';
import type { RunOutcome } from './lifecycle.ts';

export function initPidFile(config: ShimConfig): string {
  return join(config.bundle, 'init.pid');
}

/**
 * One `runtime run` in the foreground, its output to the json-file log. `onStarted` gets the
 * init's PID once the runtime has written the pid file; the promise resolves when the process
 * has exited and its output is drained.
 */
export function runContainer(config: ShimConfig, logWriter: JsonLogWriter, onStarted: (pid: number) => void): Promise<RunOutcome> {
  const runtimeLog = join(config.bundle, 'runtime.log');
  const pidFile = initPidFile(config);
  return new Promise((resolve) => {
    rmSync(pidFile, { force: true });
    const child = spawn(config.runtime.path, runArgs(config.runtime, config.bundle, config.id, pidFile, runtimeLog), {
      cwd: config.bundle,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = false;
    let openStreams = 2;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const noteStarted = () => {
      if (started || !existsSync(pidFile)) return;
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
      if (!pid) return;
      started = true;
      clearInterval(poll);
      onStarted(pid);
    };
    const poll = setInterval(noteStarted, 5);
    const finish = () => {
      if (!exit || openStreams > 0) return;
      clearInterval(poll);
      noteStarted(); // a process that exits at once may never have been seen running
      logWriter.flush();
      resolve({ started, ...exit, ...(started ? {} : { error: lastRuntimeError(runtimeLog) ?? `runtime exited with code ${exit.code}` }) });
    };
    child.stdout.on('data', (chunk: Buffer) => logWriter.write('stdout', chunk));
    child.stderr.on('data', (chunk: Buffer) => logWriter.write('stderr', chunk));
    child.stdout.on('close', () => { openStreams--; finish(); });
    child.stderr.on('close', () => { openStreams--; finish(); });
    child.on('error', (err) => {
      clearInterval(poll);
      exit = { code: 127, signal: null };
      openStreams = 0;
      resolve({ started: false, code: 127, signal: null, error: `cannot run ${config.runtime.path}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      finish();
    });
  });
}
