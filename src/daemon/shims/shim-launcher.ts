import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../protocol/errors.ts';
import { JsonLineDecoder } from '../../protocol/json-lines.ts';
import type { ShimConfig, ShimReady } from '../../protocol/shim.ts';
import { writeJsonAtomic } from '../../lib/atomic-file.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../lib/private-paths.ts';
import { childEnv, run } from '../../lib/exec.ts';

/** Node flags that keep each shim small: it holds a few buffers, never a big heap. */
const SHIM_NODE_FLAGS = ['--max-old-space-size=16', '--max-semi-space-size=1', '--stack-size=512'];

export interface ShimBinary {
  node: string;
  entry: string;
}

export interface LaunchedShim {
  shimPid: number;
  ready: Extract<ShimReady, { ok: true }>;
}

/**
 * Two-step shim birth: start the shim detached (own session, stdio to its own log), then read
 * one ready line from its sync pipe (fd 3). The shim answers once the container runs or the
 * runtime has failed.
 */
export async function launchShim(binary: ShimBinary, config: ShimConfig, timeoutMs = 30_000): Promise<LaunchedShim> {
  mkdirSync(config.bundle, { recursive: true, mode: PRIVATE_DIR_MODE });
  const configPath = join(config.bundle, 'shim.json');
  writeJsonAtomic(configPath, config);
  const logFd = openSync(join(config.bundle, 'shim.log'), 'a', PRIVATE_FILE_MODE);
  let child;
  try {
    child = spawn(binary.node, [...SHIM_NODE_FLAGS, binary.entry, 'serve', '--config', configPath], {
      cwd: config.bundle,
      detached: true,
      env: childEnv(),
      stdio: ['ignore', logFd, logFd, 'pipe'],
    });
  } finally {
    closeSync(logFd);
  }
  const syncPipe = child.stdio[3] as NodeJS.ReadableStream;
  const ready = await new Promise<ShimReady>((resolve, reject) => {
    const decoder = new JsonLineDecoder();
    const timer = setTimeout(() => reject(new EngineError('DeadlineExceeded', `shim for ${config.id.slice(0, 12)} did not report ready in ${timeoutMs} ms`)), timeoutMs);
    const finish = (value: ShimReady | Error) => {
      clearTimeout(timer);
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    syncPipe.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (value) => finish(value as ShimReady));
      } catch (err) {
        finish(err as Error);
      }
    });
    syncPipe.on('end', () => finish(new EngineError('Internal', `shim for ${config.id.slice(0, 12)} exited before reporting ready; see ${join(config.bundle, 'shim.log')}`)));
    child.on('error', (err) => finish(new EngineError('Internal', `cannot start shim: ${err.message}`)));
  }).catch(async (err: unknown) => {
    // The shim is still our child here: end it too, or it would wait forever for an acknowledgement.
    child.kill('SIGKILL');
    await deleteWithShim(binary, configPath).catch(() => undefined);
    throw err;
  });
  (syncPipe as unknown as { destroy(): void }).destroy();
  child.unref();
  if (!ready.ok) throw EngineError.fromJSON(ready.error);
  return { shimPid: child.pid ?? ready.shimPid, ready };
}

/** Cleanup of a container whose shim is gone goes through the shim binary, which owns the runtime. */
export async function deleteWithShim(binary: ShimBinary, configPath: string): Promise<void> {
  await run(binary.node, [binary.entry, 'delete', '--config', configPath], { timeoutMs: 20_000 });
}
