import { randomBytes } from 'node:crypto';
import { EngineError, conflict, invalidArgument, notFound } from '../../protocol/errors.ts';
import type { ExecExit, ExecProcess, ExecStatus } from '../../protocol/shim.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import { ShimClient, startExec } from '../shims/shim-client.ts';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/atomic-file.ts';
import { isActive } from '../../protocol/records.ts';
import type { ContainerService } from './container-service.ts';
import type { ImageStore } from '../../images/image-store.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { EventBus } from '../events/events.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ExecBackend } from '../../api/routes/exec.ts';
import { mergeEnv, resolveContainerUser } from './process-setup.ts';

export interface ExecConfig {
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Privileged: boolean;
  DetachKeys: string;
}

interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
}

interface ExecsFile {
  schemaVersion: 1;
  execs: ExecInstance[];
}

/** Execs kept per container (the oldest finished ones are dropped beyond this). */
const KEEP_PER_CONTAINER = 50;

/** Execs: created by the API, run by the container's shim, remembered for inspect. */
export class ExecService implements ExecBackend {
  readonly #execs = new Map<string, ExecInstance>();
  /** Processes resolved by checkStartable, waiting for their start. */
  readonly #resolved = new Map<string, ExecProcess>();
  readonly #containers: ContainerService;
  readonly #images: ImageStore;
  readonly #paths: DaemonPaths;
  readonly #events: EventBus;
  readonly #log: Logger;

  constructor(deps: { containers: ContainerService; images: ImageStore; paths: DaemonPaths; events: EventBus; log: Logger }) {
    this.#containers = deps.containers;
    this.#images = deps.images;
    this.#paths = deps.paths;
    this.#events = deps.events;
    this.#log = deps.log;
  }

  create(containerRef: string, body: unknown): { Id: string } {
    const { record } = this.#containers.shimSocket(containerRef);
    const shimVersion = record.shim?.protocolVersion ?? '0.0';
    if (shimVersion === '1.0') {
      throw new EngineError('NotImplemented', `container ${record.id.slice(0, 12)} runs under a shim of protocol ${shimVersion}, which cannot exec; restart the container to move it to the current shim`);
    }
    const config = parseExecConfig(body);
    if (config.Tty) throw new EngineError('NotImplemented', 'exec with a TTY (-t) is not supported yet');
    if (config.AttachStdin) throw new EngineError('NotImplemented', 'exec with stdin (-i) is not supported yet');
    const id = randomBytes(32).toString('hex');
    this.#execs.set(id, { id, containerId: record.id, config, running: false, started: false, exitCode: null, pid: 0 });
    this.#persist(record.id);
    this.#emit(record, `exec_create: ${config.Cmd.join(' ')}`, { execID: id });
    return { Id: id };
  }

  idsFor(containerId: string): string[] {
    return [...this.#execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  /**
   * What would keep the exec from starting, found before the client's stream is taken over
   * (an unknown user, say). The process it resolves is kept for `start`, so the container's
   * /etc/passwd is read once per exec.
   */
  async checkStartable(execId: string): Promise<void> {
    const exec = this.#get(execId);
    if (exec.started) throw conflict(`Error: Exec command ${execId} has already run`);
    const { record } = this.#containers.shimSocket(exec.containerId);
    this.#resolved.set(execId, await this.#process(record, exec.config));
  }

  /**
   * Start the exec. Output goes to `onOutput` (unless detached); resolves once the exit is
   * recorded, so an inspect right after sees the exit code.
   */
  async start(execId: string, onOutput: ((stream: 1 | 2, payload: Buffer) => Promise<void> | void) | undefined, onStarted?: () => void): Promise<ExecExit> {
    const exec = this.#get(execId);
    if (exec.started) throw conflict(`Error: Exec command ${execId} has already run`);
    const { record, socketPath } = this.#containers.shimSocket(exec.containerId);
    exec.started = true;
    exec.running = true;
    let process = this.#resolved.get(execId);
    this.#resolved.delete(execId);
    try {
      process ??= await this.#process(record, exec.config);
    } catch (err) {
      exec.running = false;
      throw err;
    }
    const session = await startExec(socketPath, execId, process, (stream, payload) => onOutput?.(stream, payload)).catch((err: unknown) => {
      exec.running = false;
      throw err;
    });
    exec.pid = session.pid;
    onStarted?.();
    this.#persist(record.id);
    this.#emit(record, `exec_start: ${exec.config.Cmd.join(' ')}`, { execID: execId });
    const exit = await session.exit.catch((err: unknown): ExecExit => {
      this.#log.warn({ execId, err }, 'lost the exec stream');
      return { exitCode: 126, error: EngineError.from(err).message };
    });
    exec.running = false;
    exec.exitCode = exit.exitCode;
    this.#persist(record.id);
    this.#emit(record, 'exec_die', { execID: execId, exitCode: String(exit.exitCode) });
    return exit;
  }

  #persist(containerId: string): void {
    const mine = [...this.#execs.values()].filter((e) => e.containerId === containerId);
    const finished = mine.filter((e) => !e.running);
    for (const old of finished.slice(0, Math.max(0, mine.length - KEEP_PER_CONTAINER))) this.#execs.delete(old.id);
    const kept = mine.filter((e) => this.#execs.has(e.id));
    try {
      writeJsonAtomic(join(this.#paths.containerDir(containerId), 'execs.json'), { schemaVersion: 1, execs: kept } satisfies ExecsFile);
    } catch (err) {
      this.#log.warn({ containerId, err }, 'cannot persist exec records');
    }
  }

  /**
   * At daemon start, before containers are restored: reload the exec records and ask each
   * container's shim how the execs that were running when the daemon went away ended.
   */
  async restore(records: ContainerRecord[]): Promise<void> {
    for (const record of records) {
      const file = readJsonIfExists<ExecsFile>(join(this.#paths.containerDir(record.id), 'execs.json'));
      if (!file) continue;
      for (const exec of file.execs) this.#execs.set(exec.id, exec);
      const pending = file.execs.filter((e) => e.running);
      if (pending.length === 0) continue;
      const statuses = await this.#askShim(record);
      for (const exec of pending) {
        const status = statuses?.[exec.id];
        if (status?.running) continue;
        exec.running = false;
        exec.exitCode = status?.exit?.exitCode ?? null;
        const attrs: Record<string, string> = { execID: exec.id, ...(exec.exitCode === null ? {} : { exitCode: String(exec.exitCode) }) };
        this.#emit(record, 'exec_die', attrs, status?.exit?.finishedAt);
        if (status?.running) continue;
      }
      // Execs still running are watched until they end.
      for (const exec of pending.filter((e) => statuses?.[e.id]?.running)) void this.#watchDetached(record, exec);
      this.#persist(record.id);
    }
  }

  async #askShim(record: ContainerRecord): Promise<Record<string, ExecStatus> | undefined> {
    const shim = record.shim;
    if (!shim || !isActive(record.state.Status)) return undefined;
    try {
      const client = await ShimClient.connect(shim.socketPath, 1000);
      try {
        return await client.execs();
      } finally {
        client.close();
      }
    } catch {
      return undefined;
    }
  }

  /** Poll the shim for an exec that outlived a daemon restart, and record its end. */
  async #watchDetached(record: ContainerRecord, exec: ExecInstance): Promise<void> {
    for (;;) {
      await sleep(500);
      const current = this.#containers.store.find(record.id);
      const status = current ? (await this.#askShim(current))?.[exec.id] : undefined;
      if (status?.running) continue;
      exec.running = false;
      exec.exitCode = status?.exit?.exitCode ?? null;
      if (current) {
        this.#persist(current.id);
        this.#emit(current, 'exec_die', { execID: exec.id, ...(exec.exitCode === null ? {} : { exitCode: String(exec.exitCode) }) }, status?.exit?.finishedAt);
      }
      return;
    }
  }

  inspect(execId: string): Record<string, unknown> {
    const exec = this.#get(execId);
    const [entrypoint = '', ...args] = exec.config.Cmd;
    return {
      ID: exec.id,
      Running: exec.running,
      ExitCode: exec.exitCode,
      ProcessConfig: { tty: exec.config.Tty, entrypoint, arguments: args, privileged: exec.config.Privileged, user: exec.config.User },
      OpenStdin: exec.config.AttachStdin,
      OpenStderr: exec.config.AttachStderr,
      OpenStdout: exec.config.AttachStdout,
      CanRemove: false,
      ContainerID: exec.containerId,
      DetachKeys: exec.config.DetachKeys,
      Pid: exec.pid,
    };
  }

  #get(execId: string): ExecInstance {
    const exec = this.#execs.get(execId);
    if (!exec) throw notFound(`No such exec instance: ${execId}`);
    return exec;
  }

  async #process(record: ContainerRecord, config: ExecConfig): Promise<ExecProcess> {
    const image = this.#images.find(record.imageId);
    const rootfs = this.#paths.containerRootfs(record.id);
    return {
      args: config.Cmd,
      env: mergeEnv([...(image?.config.Env ?? []), ...record.config.Env], config.Env),
      cwd: config.WorkingDir || record.config.WorkingDir || image?.config.WorkingDir || '/',
      user: await resolveContainerUser(config.User || record.config.User || image?.config.User || '', record.hostConfig.GroupAdd ?? [], rootfs),
    };
  }

  #emit(record: ContainerRecord, action: string, extra: Record<string, string>, at?: string): void {
    this.#events.publish('container', action, record.id, { ...record.config.Labels, image: record.config.Image, name: record.name, ...extra }, at);
  }
}

function parseExecConfig(raw: unknown): ExecConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidArgument('invalid JSON: the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const strings = (v: unknown, key: string): string[] => {
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`json: cannot unmarshal ${key}: expected a list of strings`);
    return v as string[];
  };
  const string = (key: string) => {
    const v = body[key];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw invalidArgument(`json: cannot unmarshal ${key}: expected a string`);
    return v;
  };
  const bool = (key: string) => body[key] === true;
  const cmd = strings(body.Cmd, 'Cmd');
  if (cmd.length === 0) throw invalidArgument('No exec command specified');
  return {
    Cmd: cmd,
    Env: strings(body.Env, 'Env'),
    WorkingDir: string('WorkingDir'),
    User: string('User'),
    Tty: bool('Tty'),
    AttachStdin: bool('AttachStdin'),
    AttachStdout: bool('AttachStdout'),
    AttachStderr: bool('AttachStderr'),
    Privileged: bool('Privileged'),
    DetachKeys: string('DetachKeys'),
  };
}
