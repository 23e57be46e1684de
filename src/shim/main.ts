/**
 * berth-shim: one per container. Started detached by the daemon, it runs the OCI runtime in
 * the foreground (so it is the runtime's parent and gets the exit status), writes the
 * container's output to its json-file log itself, records the exit atomically and serves a
 * control socket. It never needs the daemon to be alive.
 *
 *   berth-shim serve  --config <bundle>/shim.json   (fd 3: sync pipe for the ready line)
 *   berth-shim delete --config <bundle>/shim.json   (kill what is left, remove runtime state)
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../protocol/errors.ts';
import { encodeJsonLine } from '../protocol/json-lines.ts';
import { RUN_HISTORY, SHIM_PROTOCOL_VERSION, protocolMajor, type ExitRecord, type ExecStatus, type ShimConfig, type ShimReady, type ShimRequest, type ShimState } from '../protocol/shim.ts';
import { writeJsonAtomic } from '../lib/atomic-file.ts';
import { childEnv } from '../lib/exec.ts';
import { readProcStat, isProcessAlive } from '../lib/proc.ts';
import { deleteContainer, killContainer, lastRuntimeError, pauseContainer, resumeContainer, runArgs } from '../runtime/oci-runtime.ts';
import { JsonLogWriter, nowRFC3339Nano, type LogDropStats } from './json-log-writer.ts';
import { LogDropReporter } from './log-drop-reporter.ts';
import { serveControlSocket, replyOn, TAKEN_OVER } from './control-server.ts';
import { runExec, socketOutput } from './exec.ts';
import { nextBackoff, shouldRestart } from './restart-policy.ts';
import { HealthMonitor, LimitedOutput, probeCommand } from './health.ts';
import type { Socket } from 'node:net';
import { signalNumber, signalName } from '../protocol/signals.ts';

function log(level: string, msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), component: 'shim', pid: process.pid, msg, ...extra }) + '\n');
}

function readConfig(argv: string[]): ShimConfig {
  const at = argv.indexOf('--config');
  const path = at >= 0 ? argv[at + 1] : undefined;
  if (!path) throw new Error('usage: berth-shim serve|delete --config <bundle>/shim.json');
  return JSON.parse(readFileSync(path, 'utf8')) as ShimConfig;
}

interface RunResult {
  /** False when the runtime failed before the container's process existed. */
  started: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

async function serve(config: ShimConfig): Promise<void> {
  const syncPipe = createWriteStream('', { fd: 3 });
  let readySent = false;
  const sendReady = (message: ShimReady) => {
    if (readySent) return;
    readySent = true;
    syncPipe.end(encodeJsonLine(message));
  };
  const runtimeLog = join(config.bundle, 'runtime.log');
  const pidFile = join(config.bundle, 'init.pid');
  const state: ShimState = { status: 'starting', pid: 0, pidStartTime: 0, startedAt: '', restartCount: 0, generation: 0, history: [] };
  let manuallyStopped = false;
  let cancelBackoff: (() => void) | undefined;
  const exitWaiters: Array<(exit: ExitRecord) => void> = [];
  const changeWaiters: Array<() => void> = [];
  const changed = () => {
    const drops = logWriter.stats();
    if (drops.droppedLines > 0) state.logDroppedLines = drops.droppedLines;
    if (drops.failing) state.logWriteError = drops.failing;
    else delete state.logWriteError;
    state.generation = (state.generation ?? 0) + 1;
    for (const wake of changeWaiters.splice(0)) wake();
  };
  const dropReporter: LogDropReporter = new LogDropReporter((): LogDropStats => logWriter.stats(), changed, log);
  const logWriter: JsonLogWriter = new JsonLogWriter({ path: config.logPath, maxSize: config.logMaxSize, maxFiles: config.logMaxFiles, onWriteError: dropReporter.onWriteError });
  /** exit.json is for a daemon that finds the shim gone; until it is written (a full disk), the exit lives in `state`. */
  const persistExit = (exit: ExitRecord, retryMs = 0): void => {
    try {
      writeJsonAtomic(config.exitPath, exit);
      if (retryMs) log('info', 'exit record written', { exitCode: exit.exitCode });
    } catch (err) {
      if (!retryMs) log('warn', 'cannot write the exit record; keeping the exit in memory and retrying', { exitCode: exit.exitCode, error: (err as Error).message });
      const next = Math.min(Math.max(retryMs * 2, 100), 10_000);
      setTimeout(() => persistExit(exit, next), next);
    }
  };

  const execs = new Map<string, ExecStatus>();
  const handle = async (request: ShimRequest, socket: Socket): Promise<unknown> => {
    switch (request.method) {
      case 'hello':
        if (protocolMajor(request.params.version) !== protocolMajor(SHIM_PROTOCOL_VERSION)) {
          log('warn', 'daemon speaks another protocol major version', { daemon: request.params.version });
        }
        return { version: SHIM_PROTOCOL_VERSION, shimPid: process.pid, state };
      case 'state':
        return state;
      case 'watch':
        // Long poll: answers once the state has moved past what the daemon has seen.
        if ((state.generation ?? 0) <= request.params.generation) await new Promise<void>((wake) => changeWaiters.push(wake));
        return state;
      case 'kill':
        if (state.status === 'exited') throw new EngineError('FailedPrecondition', `container ${config.id} is not running`);
        signalNumber(request.params.signal); // validates
        if (request.params.stop) manuallyStopped = true;
        if (state.status === 'restarting') {
          cancelBackoff?.();
          return {};
        }
        await killContainer(config.runtime, config.id, request.params.signal);
        return {};
      case 'wait':
        return state.exit ?? new Promise<ExitRecord>((resolve) => exitWaiters.push(resolve));
      case 'pause':
        if (state.status !== 'running') throw new EngineError('FailedPrecondition', `container ${config.id} is not running`);
        await pauseContainer(config.runtime, config.id);
        return {};
      case 'resume':
        await resumeContainer(config.runtime, config.id);
        return {};
      case 'exec': {
        if (state.status !== 'running') throw new EngineError('FailedPrecondition', `container ${config.id} is not running`);
        const { execId, process: proc } = request.params;
        execs.set(execId, { running: true, pid: 0 });
        void runExec(config, execId, proc, socketOutput(socket), (pid) => {
          execs.set(execId, { running: true, pid });
          replyOn(socket, request.id, { pid });
        }).then((exit) => {
          execs.set(execId, { running: false, pid: execs.get(execId)?.pid ?? 0, exit });
          log('info', 'exec exited', { execId, exitCode: exit.exitCode });
        });
        return TAKEN_OVER;
      }
      case 'execs':
        return Object.fromEntries(execs);
      case 'shutdown':
        if (state.status !== 'exited') throw new EngineError('FailedPrecondition', `container ${config.id} is still running`);
        setImmediate(() => process.exit(0));
        return {};
      default:
        throw new EngineError('NotImplemented', `unknown method ${(request as { method: string }).method}`);
    }
  };

  const server = await serveControlSocket(config.socketPath, handle);
  // For operators and test harnesses: which process owns this bundle.
  writeFileSync(join(config.bundle, 'shim.pid'), `${process.pid}\n`);

  let probes = 0;
  const probe = async (args: string[], timeoutMs: number) => {
    const output = new LimitedOutput();
    const exit = await runExec(config, `health-${process.pid}-${++probes}`, { args }, {
      write: (stream, payload) => {
        if (stream === 1 || stream === 2) output.append(payload);
      },
      end: () => undefined,
    }, () => undefined, timeoutMs);
    return { exitCode: exit.exitCode, output: output.toString() };
  };
  const healthCommand = config.healthcheck ? probeCommand(config.healthcheck.test) : undefined;
  const health = config.healthcheck && healthCommand ? new HealthMonitor(config.healthcheck, healthCommand, probe, changed) : undefined;
  if (health) state.health = health.state;

  /** One `runtime run`: resolves when the process has exited and its output is drained. */
  const runOnce = (): Promise<RunResult> => new Promise((resolve) => {
    rmSync(pidFile, { force: true });
    const child = spawn(config.runtime.path, runArgs(config.runtime, config.bundle, config.id, pidFile, runtimeLog), {
      cwd: config.bundle,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = false;
    let openStreams = 2;
    let poll: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    // The runtime writes the pid file once the container's init exists.
    const noteStarted = () => {
      if (started || !existsSync(pidFile)) return;
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
      if (!pid) return;
      started = true;
      clearInterval(poll);
      state.pid = pid;
      state.pidStartTime = readProcStat(pid)?.startTime ?? 0;
      state.startedAt = nowRFC3339Nano();
      state.status = 'running';
      health?.start();
      changed();
      sendReady({ ok: true, version: SHIM_PROTOCOL_VERSION, shimPid: process.pid, socketPath: config.socketPath, state: { ...state } });
      log('info', 'container started', { containerPid: pid, restartCount: state.restartCount });
    };
    poll = setInterval(noteStarted, 5);
    const finish = () => {
      if (!exit || openStreams > 0) return;
      clearInterval(poll);
      health?.stop();
      noteStarted(); // a process that exits at once may never have been seen running
      logWriter.flush();
      resolve({ started, ...exit, ...(started ? {} : { error: lastRuntimeError(runtimeLog) ?? `runtime exited with code ${exit.code}` }) });
    };
    child.stdout.on('data', (chunk: Buffer) => logWriter.write('stdout', chunk));
    child.stderr.on('data', (chunk: Buffer) => logWriter.write('stderr', chunk));
    child.stdout.on('close', () => { openStreams--; finish(); });
    child.stderr.on('close', () => { openStreams--; finish(); });
    child.on('error', (err) => {
      exit = { code: 127, signal: null };
      openStreams = 0;
      resolve({ started: false, code: 127, signal: null, error: `cannot run ${config.runtime.path}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      finish();
    });
  });

  let backoffMs = 0;
  for (;;) {
    const result = await runOnce();
    if (!result.started && !readySent) {
      // The first start failed: the daemon reports the runtime's error to the client.
      const message = result.error ?? 'the container did not start';
      sendReady({ ok: false, error: { kind: classifyStartError(message), message } });
      log('error', 'container failed to start', { error: message });
      logWriter.close();
      server.close();
      setImmediate(() => process.exit(1));
      return;
    }
    const exit = exitRecordFrom(result.code, result.signal);
    if (result.error) exit.error = result.error;
    const ranForMs = result.started ? Date.now() - Date.parse(state.startedAt) : 0;
    const restart = shouldRestart(config.restartPolicy, exit.exitCode, state.restartCount ?? 0, manuallyStopped);
    state.history = [...(state.history ?? []), { generation: (state.generation ?? 0) + 1, pid: state.pid, startedAt: state.startedAt, finishedAt: exit.finishedAt, exitCode: exit.exitCode, restarted: restart }].slice(-RUN_HISTORY);
    log('info', 'container exited', { exitCode: exit.exitCode, restart });
    if (!restart) {
      logWriter.close();
      dropReporter.stop();
      persistExit(exit);
      state.exit = exit;
      state.status = 'exited';
      state.pid = 0;
      changed();
      for (const resolve of exitWaiters.splice(0)) resolve(exit);
      return;
    }
    backoffMs = nextBackoff(backoffMs, ranForMs);
    state.status = 'restarting';
    state.pid = 0;
    changed();
    await new Promise<void>((resume) => {
      const timer = setTimeout(resume, backoffMs);
      cancelBackoff = () => {
        clearTimeout(timer);
        resume();
      };
    });
    cancelBackoff = undefined;
    if (manuallyStopped) {
      // Stopped while waiting to restart: the last exit is the final one.
      logWriter.close();
      dropReporter.stop();
      persistExit(exit);
      state.history = state.history.map((run, i, all) => (i === all.length - 1 ? { ...run, restarted: false } : run));
      state.exit = exit;
      state.status = 'exited';
      changed();
      for (const resolve of exitWaiters.splice(0)) resolve(exit);
      return;
    }
    state.restartCount = (state.restartCount ?? 0) + 1;
  }
}

function exitRecordFrom(code: number | null, signal: NodeJS.Signals | null): ExitRecord {
  // The runtime reports a container killed by signal N as 128+N.
  const exitCode = code ?? (signal ? 128 + signalNumber(signal) : 255);
  const record: ExitRecord = { schemaVersion: 1, exitCode, oomKilled: false, finishedAt: nowRFC3339Nano() };
  const name = exitCode > 128 ? signalName(exitCode - 128) : undefined;
  if (name) record.signal = name;
  return record;
}

function classifyStartError(message: string): 'InvalidArgument' | 'Internal' {
  return /executable file not found|no such file or directory|permission denied|not a directory/i.test(message) ? 'InvalidArgument' : 'Internal';
}

async function deleteAll(config: ShimConfig): Promise<void> {
  const pidFile = join(config.bundle, 'init.pid');
  const pid = existsSync(pidFile) ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10) : 0;
  try {
    await killContainer(config.runtime, config.id, 'SIGKILL', true);
  } catch {
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await deleteContainer(config.runtime, config.id);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const config = readConfig(rest);
  if (command === 'serve') return serve(config);
  if (command === 'delete') return deleteAll(config);
  throw new Error(`unknown command ${command}`);
}

main().catch((err: unknown) => {
  log('error', 'shim failed', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
