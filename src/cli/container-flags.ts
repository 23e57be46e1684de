import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EngineError } from '../protocol/errors.ts';
import { parseGoDuration } from '../protocol/timestamps.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options `create` and `run` share, with docker's names. */
export function addContainerOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <KEY=VALUE>', 'set environment variables', collect)
    .option('--env-file <file>', 'read in a file of environment variables', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--entrypoint <cmd>', 'overwrite the default ENTRYPOINT of the image')
    .option('-u, --user <user>', 'username or UID (format: <name|uid>[:<group|gid>])')
    .option('-l, --label <key=value>', 'set metadata on a container', collect)
    .option('--restart <policy>', 'restart policy (no, always, unless-stopped, on-failure[:N])', 'no')
    .option('--network <mode>', 'network mode: none or host')
    .option('-h, --hostname <name>', 'container host name')
    .option('-v, --volume <HOST:CTR[:ro]>', 'bind mount a host path', collect)
    .option('--stop-timeout <seconds>', 'timeout (in seconds) to stop a container')
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--log-opt <key=value>', 'log driver options', collect)
    .option('--log-driver <driver>', 'logging driver for the container')
    .option('--rm', 'automatically remove the container when it exits')
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--pull <policy>', 'pull image before running ("always", "missing", "never")', 'missing')
    .option('--health-cmd <command>', 'command to run to check health')
    .option('--health-interval <duration>', 'time between running the check (ms|s|m|h)')
    .option('--health-timeout <duration>', 'maximum time to allow one check to run (ms|s|m|h)')
    .option('--health-start-period <duration>', 'start period for the container to initialize before counting retries (ms|s|m|h)')
    .option('--health-retries <n>', 'consecutive failures needed to report unhealthy')
    .option('--no-healthcheck', 'disable any container-specified HEALTHCHECK')
    .option('--cap-add <cap>', 'add Linux capabilities (name with or without CAP_, or ALL)', collect)
    .option('--cap-drop <cap>', 'drop Linux capabilities (name with or without CAP_, or ALL)', collect)
    .option('--privileged', 'give extended privileges to this container (all capabilities and devices)')
    .option('--read-only', "mount the container's root filesystem as read only")
    .option('--device <HOST[:CTR[:rwm]]>', 'add a host device to the container', collect)
    .option('--group-add <group>', 'add additional groups to join (name or GID)', collect)
    .option('--sysctl <key=value>', 'namespaced kernel parameters', collect)
    .option('--security-opt <option>', 'security options: seccomp=<file>|unconfined, no-new-privileges', collect);
}

export interface ContainerOptions {
  name?: string;
  securityOpt?: string[];
  env?: string[];
  envFile?: string[];
  workdir?: string;
  entrypoint?: string;
  user?: string;
  label?: string[];
  restart: string;
  network?: string;
  hostname?: string;
  volume?: string[];
  stopTimeout?: string;
  stopSignal?: string;
  logOpt?: string[];
  logDriver?: string;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  pull: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: string;
  /** commander's negation of --no-healthcheck: false when given. */
  healthcheck: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  device?: string[];
  groupAdd?: string[];
  sysctl?: string[];
}

const isDeviceMode = (mode: string) => mode !== '' && /^[rwm]+$/.test(mode) && new Set(mode).size === mode.length;

/** `--device HOST[:CTR][:rwm]` → Docker's DeviceMapping, as the docker CLI parses it. */
export function parseDeviceFlag(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  if (parts.length > 3 || parts[0] === '') throw new EngineError('InvalidArgument', `invalid argument "${spec}" for "--device" flag: invalid device specification: ${spec}`);
  const [host = '', second, third] = parts;
  let permissions = third ?? 'rwm';
  let container = '';
  if (second !== undefined) {
    if (isDeviceMode(second)) permissions = second;
    else container = second;
  }
  container ||= host;
  if (!container.startsWith('/')) throw new EngineError('InvalidArgument', `invalid argument "${spec}" for "--device" flag: bad format for path: ${container}`);
  if (!isDeviceMode(permissions)) throw new EngineError('InvalidArgument', `invalid argument "${spec}" for "--device" flag: invalid device mode: ${permissions}`);
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}

function sysctls(items: string[]): Record<string, string> {
  for (const item of items) {
    if (!item.includes('=') || item.startsWith('=')) throw new EngineError('InvalidArgument', `invalid argument "${item}" for "--sysctl" flag: sysctl '${item}' is not allowed`);
  }
  return keyValues(items, '=');
}

/** docker's --health-* flags → HealthConfig (durations in nanoseconds); undefined when none is given. */
export function healthConfig(o: ContainerOptions): Record<string, unknown> | undefined {
  const given = [o.healthCmd, o.healthInterval, o.healthTimeout, o.healthStartPeriod, o.healthRetries].some((v) => v !== undefined);
  if (!o.healthcheck) {
    if (given) throw new EngineError('InvalidArgument', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return undefined;
  const duration = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const seconds = parseGoDuration(value);
    if (seconds === undefined || seconds < 0) throw new EngineError('InvalidArgument', `invalid argument "${value}" for "--${flag}" flag: time: invalid duration "${value}"`);
    return Math.round(seconds * 1e9);
  };
  const retries = o.healthRetries === undefined ? undefined : Number(o.healthRetries);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new EngineError('InvalidArgument', `invalid argument "${o.healthRetries}" for "--health-retries" flag`);
  const config: Record<string, unknown> = { Test: o.healthCmd === undefined ? [] : ['CMD-SHELL', o.healthCmd] };
  const fields = { Interval: duration('health-interval', o.healthInterval), Timeout: duration('health-timeout', o.healthTimeout), StartPeriod: duration('health-start-period', o.healthStartPeriod), Retries: retries };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) config[key] = value;
  return config;
}

/** CLI options → the Docker API's create body. */
export function createBody(image: string, command: string[], o: ContainerOptions): Record<string, unknown> {
  const env = [...(o.envFile ?? []).flatMap(readEnvFile), ...(o.env ?? []).map(expandEnv)];
  const [policy = 'no', retries] = o.restart.split(':');
  const stopTimeout = o.stopTimeout === undefined ? undefined : Number(o.stopTimeout);
  if (stopTimeout !== undefined && !Number.isInteger(stopTimeout)) throw new EngineError('InvalidArgument', `invalid argument "${o.stopTimeout}" for "--stop-timeout" flag`);
  if (retries !== undefined && !/^\d+$/.test(retries)) throw new EngineError('InvalidArgument', `invalid restart policy format: maximum retry count must be an integer`);
  return {
    Image: image,
    Cmd: command.length ? command : null,
    Entrypoint: o.entrypoint === undefined ? null : o.entrypoint === '' ? [''] : [o.entrypoint],
    Env: env,
    WorkingDir: o.workdir ?? '',
    User: o.user ?? '',
    Hostname: o.hostname ?? '',
    Labels: keyValues(o.label ?? [], '='),
    ...(o.stopSignal ? { StopSignal: o.stopSignal } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    ...(healthConfig(o) ? { Healthcheck: healthConfig(o) } : {}),
    AttachStdin: Boolean(o.interactive),
    AttachStdout: true,
    AttachStderr: true,
    Tty: Boolean(o.tty),
    OpenStdin: Boolean(o.interactive),
    StdinOnce: Boolean(o.interactive),
    HostConfig: {
      Binds: o.volume ?? null,
      NetworkMode: o.network ?? 'default',
      RestartPolicy: { Name: policy, MaximumRetryCount: retries ? Number(retries) : 0 },
      LogConfig: { Type: o.logDriver ?? '', Config: keyValues(o.logOpt ?? [], '=') },
      AutoRemove: Boolean(o.rm),
      CapAdd: o.capAdd ?? null,
      CapDrop: o.capDrop ?? null,
      Privileged: Boolean(o.privileged),
      ReadonlyRootfs: Boolean(o.readOnly),
      Devices: (o.device ?? []).map(parseDeviceFlag),
      GroupAdd: o.groupAdd ?? null,
      Sysctls: sysctls(o.sysctl ?? []),
      ...(o.securityOpt ? { SecurityOpt: o.securityOpt.map(readSeccompFile) } : {}),
    },
  };
}

/**
 * `seccomp=<file>` is read here and its content sent, as the docker CLI does (the daemon may
 * not see the client's files); `unconfined`, `builtin` and inline JSON pass through.
 */
function readSeccompFile(opt: string): string {
  const at = opt.includes('=') ? opt.indexOf('=') : opt.indexOf(':');
  if (at < 0) return opt;
  const [key, value] = [opt.slice(0, at), opt.slice(at + 1)];
  if (key !== 'seccomp' || value === 'unconfined' || value === 'builtin' || value.trimStart().startsWith('{')) return opt;
  let content: string;
  try {
    content = readFileSync(value, 'utf8');
  } catch (err) {
    throw new EngineError('InvalidArgument', `opening seccomp profile (${value}) failed: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  return `seccomp=${content}`;
}

function keyValues(items: string[], sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf(sep);
    if (at < 0) out[item] = '';
    else out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/** `-e NAME` takes NAME's value from the caller's environment, as docker does. */
function expandEnv(entry: string): string {
  if (entry.includes('=')) return entry;
  const value = process.env[entry];
  return value === undefined ? entry : `${entry}=${value}`;
}

function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EngineError('InvalidArgument', `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map(expandEnv);
}
