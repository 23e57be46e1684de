/**
 * berth-shim: one per container. Started detached by the daemon, it runs the OCI runtime in
 * the foreground (so it is the runtime's parent and gets the exit status), writes the
 * container's output to its json-file log itself, records the exit atomically and serves a
 * control socket. It never needs the daemon to be alive.
 *
 *   berth-shim serve  --config <bundle>/shim.json   (fd 3: sync pipe for the ready line)
 *   berth-shim delete --config <bundle>/shim.json   (kill what is left, remove runtime state)
 */
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJsonLine } from '../protocol/json-lines.ts';
import { SHIM_PROTOCOL_VERSION, type ExitRecord, type ShimConfig, type ShimReady } from '../protocol/shim.ts';
import { writeJsonAtomic } from '../lib/atomic-file.ts';
import { readProcStat, isProcessAlive } from '../lib/proc.ts';
import { deleteContainer, killContainer } from '../runtime/oci-runtime.ts';
import { JsonLogWriter, nowRFC3339Nano } from './json-log-writer.ts';
import { LogDropReporter } from './log-drop-reporter.ts';
import { serveControlSocket } from './control-server.ts';
import { runExec } from './exec.ts';
import { HealthMonitor, LimitedOutput, probeCommand, type Probe } from './health.ts';
import { ShimLifecycle, type Decision } from './lifecycle.ts';
import { persistExit } from './exit-record.ts';
import { StateFeed } from './state-feed.ts';
import { requestHandler } from './requests.ts';
import { initPidFile, runContainer } from './container-run.ts';
import { log } from './log.ts';

function readConfig(argv: string[]): ShimConfig {
  const at = argv.indexOf('--config');
  const path = at >= 0 ? argv[at + 1] : undefined;
  if (!path) throw new Error('usage: berth-shim serve|delete --config <bundle>/shim.json');
  return JSON.parse(readFileSync(path, 'utf8')) as ShimConfig;
}

/** The ready line on fd 3: the daemon reads exactly one. */
function readyPipe(): (message: ShimReady) => void {
  const syncPipe = createWriteStream('', { fd: 3 });
  let sent = false;
  return (message) => {
    if (sent) return;
    sent = true;
    syncPipe.end(encodeJsonLine(message));
  };
}

/** A health probe is an exec whose output is kept, as Docker keeps it, to 4 KiB. */
function execProbe(config: ShimConfig): Probe {
  let probes = 0;
  return async (args, timeoutMs) => {
    const output = new LimitedOutput();
    const exit = await runExec(config, `health-${process.pid}-${++probes}`, { args }, {
      write: (stream, payload) => {
        if (stream === 1 || stream === 2) output.append(payload);
      },
      end: () => undefined,
    }, () => undefined, timeoutMs);
    return { exitCode: exit.exitCode, output: output.toString() };
  };
}

async function serve(config: ShimConfig): Promise<void> {
  const sendReady = readyPipe();
  const lifecycle = new ShimLifecycle(config.id, config.restartPolicy, { now: Date.now, timestamp: nowRFC3339Nano });
  const { state } = lifecycle;
  const feed: StateFeed = new StateFeed(state, () => logWriter.stats());
  const dropReporter = new LogDropReporter(() => logWriter.stats(), feed.changed, log);
  const logWriter: JsonLogWriter = new JsonLogWriter({ path: config.logPath, maxSize: config.logMaxSize, maxFiles: config.logMaxFiles, onWriteError: dropReporter.onWriteError });

  let cancelBackoff: (() => void) | undefined;
  const backoff = (ms: number) => new Promise<void>((resume) => {
    const timer = setTimeout(resume, ms);
    cancelBackoff = () => {
      clearTimeout(timer);
      resume();
    };
  });

  const handle = requestHandler({ config, lifecycle, feed, cancelBackoff: () => cancelBackoff?.(), exit: () => process.exit(0), log });
  const server = await serveControlSocket(config.socketPath, handle);
  // For operators and test harnesses: which process owns this bundle.
  writeFileSync(join(config.bundle, 'shim.pid'), `${process.pid}\n`);

  const healthCommand = config.healthcheck ? probeCommand(config.healthcheck.test) : undefined;
  const health = config.healthcheck && healthCommand ? new HealthMonitor(config.healthcheck, healthCommand, execProbe(config), feed.changed) : undefined;
  if (health) state.health = health.state;

  const onStarted = (pid: number) => {
    lifecycle.started(pid, readProcStat(pid)?.startTime ?? 0);
    health?.start();
    feed.changed();
    sendReady({ ok: true, version: SHIM_PROTOCOL_VERSION, shimPid: process.pid, socketPath: config.socketPath, state: { ...state } });
    log('info', 'container started', { containerPid: pid, restartCount: state.restartCount });
  };

  /** The container is done for good; the shim stays until the daemon's `shutdown`. */
  const finish = (exit: ExitRecord) => {
    logWriter.close();
    dropReporter.stop();
    persistExit(exit, { write: (record) => writeJsonAtomic(config.exitPath, record), log, retryAfter: (ms, retry) => setTimeout(retry, ms) });
    feed.changed();
    feed.settled(exit);
  };

  for (let decision: Decision = { next: 'run' }; ;) {
    switch (decision.next) {
      case 'run': {
        const run = await runContainer(config, logWriter, onStarted);
        health?.stop();
        decision = lifecycle.exited(run);
        if (decision.next !== 'report-start-failure') log('info', 'container exited', { exitCode: decision.exit.exitCode, restart: decision.next === 'backoff' });
        break;
      }
      case 'backoff':
        feed.changed();
        await backoff(decision.delayMs);
        cancelBackoff = undefined;
        decision = lifecycle.backoffOver();
        break;
      case 'final':
        finish(decision.exit);
        return;
      case 'report-start-failure':
        // The daemon reports the runtime's error to the client.
        sendReady({ ok: false, error: decision.error });
        log('error', 'container failed to start', { error: decision.error.message });
        logWriter.close();
        server.close();
        setImmediate(() => process.exit(1));
        return;
    }
  }
}

async function deleteAll(config: ShimConfig): Promise<void> {
  const pidFile = initPidFile(config);
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
