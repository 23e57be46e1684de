import { EngineError } from '../protocol/errors.ts';
import { SHIM_PROTOCOL_VERSION, protocolMajor, type ExecStatus, type ShimConfig } from '../protocol/shim.ts';
import { killContainer, pauseContainer, resumeContainer } from '../runtime/oci-runtime.ts';
import { replyOn, TAKEN_OVER, type RequestHandler } from './control-server.ts';
import { runExec, socketOutput } from './exec.ts';
import type { Log } from './log.ts';
import type { ShimLifecycle } from './lifecycle.ts';
import type { StateFeed } from './state-feed.ts';

export interface RequestContext {
  config: ShimConfig;
  lifecycle: ShimLifecycle;
  feed: StateFeed;
  /** Cuts a restart back-off short. */
  cancelBackoff: () => void;
  /** Ends the shim, once the daemon has acknowledged the final exit. */
  exit: () => void;
  log: Log;
}

/** The daemon's requests on the control socket; which ones each phase allows is the lifecycle's call. */
export function requestHandler({ config, lifecycle, feed, cancelBackoff, exit, log }: RequestContext): RequestHandler {
  const { state } = lifecycle;
  const execs = new Map<string, ExecStatus>();
  return async (request, socket) => {
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
        return feed.after(request.params.generation);
      case 'kill':
        switch (lifecycle.kill(request.params.signal, Boolean(request.params.stop))) {
          case 'signal':
            await killContainer(config.runtime, config.id, request.params.signal);
            break;
          case 'cancel-backoff':
            cancelBackoff();
            break;
          case 'none':
            break;
        }
        return {};
      case 'wait':
        return feed.exit();
      case 'pause':
        lifecycle.requireRunning();
        await pauseContainer(config.runtime, config.id);
        return {};
      case 'resume':
        await resumeContainer(config.runtime, config.id);
        return {};
      case 'exec': {
        lifecycle.requireRunning();
        const { execId, process: proc } = request.params;
        execs.set(execId, { running: true, pid: 0 });
        void runExec(config, execId, proc, socketOutput(socket), (pid) => {
          execs.set(execId, { running: true, pid });
          replyOn(socket, request.id, { pid });
        }).then((ended) => {
          execs.set(execId, { running: false, pid: execs.get(execId)?.pid ?? 0, exit: ended });
          log('info', 'exec exited', { execId, exitCode: ended.exitCode });
        });
        return TAKEN_OVER;
      }
      case 'execs':
        return Object.fromEntries(execs);
      case 'shutdown':
        lifecycle.requireExited();
        setImmediate(exit);
        return {};
      default:
        throw new EngineError('NotImplemented', `unknown method ${(request as { method: string }).method}`);
    }
  };
}
