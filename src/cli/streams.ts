/** Output streams from the daemon: docker's stdcopy framing, and the attach-and-wait dance of run/start -a/attach. */
import { FrameDecoder } from '../protocol/stdcopy.ts';
import type { WaitResult } from '../client/client.ts';
import { normalizeSignal } from '../protocol/signals.ts';
import { CliExit, errorText, type Cli } from './context.ts';

/**
 * Copies a daemon stream to stdout/stderr until it ends: demultiplexed (8-byte frame
 * headers) unless the container or exec has a TTY, in which case the bytes are raw.
 */
export function pumpOutput(stream: NodeJS.ReadableStream, tty: boolean): Promise<void> {
  const decoder = new FrameDecoder();
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve();
    };
    stream.on('data', (chunk: Buffer) => {
      if (tty) process.stdout.write(chunk);
      else decoder.push(chunk, (id, payload) => (id === 2 ? process.stderr : process.stdout).write(payload));
    });
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? undefined : err));
  });
}

/** Signals that `--sig-proxy` forwards to the container (docker proxies all but SIGCHLD/SIGPIPE/SIGURG/SIGWINCH). */
const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Forwards the CLI's signals to the container while attached; returns the undo. */
export function proxySignals(cli: Cli, id: string): () => void {
  const handlers = PROXIED_SIGNALS.map((signal) => {
    const handler = () => void cli.client.killContainer(id, normalizeSignal(signal)).catch(() => undefined);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

export interface AttachOptions {
  id: string;
  tty: boolean;
  /** The wait condition whose StatusCode is the exit status (`removed` for --rm). */
  condition: 'next-exit' | 'removed' | 'not-running';
  /** Runs once the attach and the wait are in place (run and start -a start the container here). */
  start?: () => Promise<void>;
  sigProxy: boolean;
}

/**
 * docker run / start -a / attach: attach to stdout+stderr (hijacked), arm the wait, start,
 * stream until the daemon closes the attach, and resolve with the container's exit status.
 */
export async function attachAndWait(cli: Cli, o: AttachOptions): Promise<number> {
  const { socket } = await cli.client.attachContainer(o.id, { stdout: true, stderr: true });
  let waiting: { result: Promise<WaitResult> };
  try {
    waiting = await cli.client.waitContainerArmed(o.id, o.condition);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  const streamed = pumpOutput(socket, o.tty);
  const unproxy = o.sigProxy ? proxySignals(cli, o.id) : () => undefined;
  try {
    if (o.start) {
      try {
        await o.start();
      } catch (err) {
        socket.destroy();
        throw err;
      }
    }
    // The attach ends when the container's output is drained after its exit. Should the wait
    // answer first, give the stream a moment to deliver what it still has.
    let result: WaitResult | undefined;
    const waited = waiting.result.then((r) => (result = r));
    await Promise.race([streamed, waited.then(() => new Promise((r) => setTimeout(r, 2000).unref()))]);
    socket.destroy();
    result ??= await waiting.result;
    if (result.Error?.Message) {
      cli.err(`Error waiting for container: ${result.Error.Message}\n`);
      return 125;
    }
    return result.StatusCode;
  } finally {
    unproxy();
  }
}

/** What docker run/start exit with when the container could not start (runStartContainerErr). */
export function startFailureCode(err: unknown): number {
  const message = errorText(err);
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

/** docker's `docker: <error>\n\nRun 'docker <cmd> --help' for more information` (exit 125 unless told). */
export function withHelp(command: string, err: unknown, code = 125): CliExit {
  return new CliExit(code, `berth: ${errorText(err)}\n\nRun 'berth ${command} --help' for more information`);
}
