import { readFileSync } from 'node:fs';
import { EngineError } from '../protocol/errors.ts';
import { LOG_LEVELS, type LogLevel } from '../lib/logger.ts';
import { RUNTIME_NAMES } from '../runtime/oci-runtime.ts';
import { parseLogOpts } from '../protocol/json-file-log.ts';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  configFile: string;
  liveRestore: boolean;
  pidFile: string | undefined;
  logLevel: LogLevel;
  defaultRuntime: string | undefined;
  runtimes: Record<string, { path: string }>;
  logOpts: Record<string, string>;
  storageDriver: 'overlay' | 'copy' | undefined;
  /** Registries reached over plain HTTP (host[:port] or CIDR), besides loopback which always is. */
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** The group (name or numeric gid) that may use the API socket besides root; none by default. */
  group: string | undefined;
}

export const DEFAULTS = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  host: 'unix:///run/berth/berth.sock',
  configFile: '/etc/berth/daemon.json',
};

/** daemon.json keys (dockerd's names) → the config field and the flag that also sets it. */
const FILE_KEYS = {
  'data-root': { field: 'dataRoot', flag: 'data-root', type: 'string' },
  'exec-root': { field: 'execRoot', flag: 'exec-root', type: 'string' },
  hosts: { field: 'hosts', flag: 'host', type: 'string[]' },
  'live-restore': { field: 'liveRestore', flag: 'live-restore', type: 'boolean' },
  pidfile: { field: 'pidFile', flag: 'pidfile', type: 'string' },
  'log-level': { field: 'logLevel', flag: 'log-level', type: 'string' },
  'default-runtime': { field: 'defaultRuntime', flag: 'default-runtime', type: 'string' },
  runtimes: { field: 'runtimes', flag: undefined, type: 'object' },
  'log-opts': { field: 'logOpts', flag: 'log-opt', type: 'object' },
  'storage-driver': { field: 'storageDriver', flag: 'storage-driver', type: 'string' },
  'insecure-registries': { field: 'insecureRegistries', flag: 'insecure-registry', type: 'string[]' },
  'max-concurrent-downloads': { field: 'maxConcurrentDownloads', flag: 'max-concurrent-downloads', type: 'number' },
  'max-concurrent-uploads': { field: 'maxConcurrentUploads', flag: 'max-concurrent-uploads', type: 'number' },
  group: { field: 'group', flag: 'group', type: 'string' },
} as const;

/** Options dockerd can change on SIGHUP without a restart (the ones berth has). */
export const RELOADABLE_KEYS = ['live-restore', 'log-level', 'log-opts', 'insecure-registries', 'max-concurrent-downloads', 'max-concurrent-uploads'] as const;

export type FlagValues = Partial<Record<string, string | string[] | boolean>>;

export class ConfigError extends EngineError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

/** Reads daemon.json; a missing file is an empty config unless it was named explicitly. */
export function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new ConfigError(`unable to read configuration file ${path}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: the top level must be a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((k) => !(k in FILE_KEYS));
  if (unknown.length) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    const spec = FILE_KEYS[key as keyof typeof FILE_KEYS];
    const ok = spec.type === 'string' ? typeof value === 'string'
      : spec.type === 'boolean' ? typeof value === 'boolean'
      : spec.type === 'number' ? typeof value === 'number'
      : spec.type === 'string[]' ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!ok) throw new ConfigError(`unable to configure the daemon with file ${path}: "${key}" must be a ${spec.type}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Flags + file → config. An option set both ways is refused, naming the directives, as
 * dockerd does ("the following directives are specified both as a flag and in the configuration file").
 */
export function mergeConfig(flags: FlagValues, file: Record<string, unknown>, configFile: string): DaemonConfig {
  const both: string[] = [];
  for (const [key, spec] of Object.entries(FILE_KEYS)) {
    if (key in file && spec.flag && flags[spec.flag] !== undefined) {
      both.push(`${key}: (from flag: ${formatFlag(flags[spec.flag])}, from file: ${JSON.stringify(file[key])})`);
    }
  }
  if (both.length) {
    throw new ConfigError(`unable to configure the daemon with file ${configFile}: the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  }
  const pick = <T>(key: keyof typeof FILE_KEYS, fallback: T): T => {
    const spec = FILE_KEYS[key];
    if (key in file) return file[key] as T;
    if (spec.flag && flags[spec.flag] !== undefined) return flags[spec.flag] as T;
    return fallback;
  };
  const hostsRaw = pick<string | string[]>('hosts', []);
  const hosts = (Array.isArray(hostsRaw) ? hostsRaw : [hostsRaw]).filter(Boolean);
  const logOptsRaw = pick<string[] | Record<string, string>>('log-opts', {});
  const config: DaemonConfig = {
    dataRoot: pick('data-root', DEFAULTS.dataRoot),
    execRoot: pick('exec-root', DEFAULTS.execRoot),
    hosts: hosts.length ? hosts : [DEFAULTS.host],
    configFile,
    liveRestore: pick('live-restore', false),
    pidFile: pick<string | undefined>('pidfile', undefined),
    logLevel: pick('log-level', 'info'),
    defaultRuntime: pick<string | undefined>('default-runtime', undefined),
    runtimes: pick('runtimes', {}),
    logOpts: Array.isArray(logOptsRaw) ? parseKeyValues(logOptsRaw, '--log-opt') : logOptsRaw,
    storageDriver: pick<'overlay' | 'copy' | undefined>('storage-driver', undefined),
    insecureRegistries: pick<string[]>('insecure-registries', []),
    maxConcurrentDownloads: Number(pick<number | string>('max-concurrent-downloads', 3)),
    maxConcurrentUploads: Number(pick<number | string>('max-concurrent-uploads', 5)),
    // dockerd's `-G ""` means no group: so it does here.
    group: pick<string | undefined>('group', undefined) || undefined,
  };
  validate(config);
  return config;
}

function formatFlag(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

export function parseKeyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid ${what} '${item}': expected key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function validate(config: DaemonConfig): void {
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) {
    throw new ConfigError(`invalid log level: ${config.logLevel} (use one of ${LOG_LEVELS.join(', ')})`);
  }
  for (const host of config.hosts) {
    if (!host.startsWith('unix://') || host.length <= 'unix://'.length) {
      throw new ConfigError(`invalid host ${host}: berthd listens on unix sockets only (unix:///path)`);
    }
  }
  const runtimeNames = [...RUNTIME_NAMES, ...Object.keys(config.runtimes)];
  if (config.defaultRuntime !== undefined && !runtimeNames.includes(config.defaultRuntime)) {
    throw new ConfigError(`default runtime ${config.defaultRuntime} is not configured (known: ${runtimeNames.join(', ')})`);
  }
  if (config.storageDriver !== undefined && !['overlay', 'copy'].includes(config.storageDriver)) {
    throw new ConfigError(`unknown storage driver ${config.storageDriver} (use overlay or copy)`);
  }
  for (const [key, value] of [['max-concurrent-downloads', config.maxConcurrentDownloads], ['max-concurrent-uploads', config.maxConcurrentUploads]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 64) throw new ConfigError(`invalid ${key}: ${value} (an integer from 1 to 64)`);
  }
  for (const registry of config.insecureRegistries) {
    if (!/^[A-Za-z0-9.\-:[\]]+(?:\/\d{1,3})?$/.test(registry) || registry.includes('://')) throw new ConfigError(`insecure registry ${registry} should not contain '://' and must be host[:port] or a CIDR`);
  }
  if (config.group !== undefined && !/^[^:\s]+$/.test(config.group)) {
    throw new ConfigError(`invalid group ${JSON.stringify(config.group)}: a group name or numeric gid, without ':' or spaces`);
  }
  if (config.group !== undefined && /^\d+$/.test(config.group) && Number(config.group) > 0xfffffffe) {
    throw new ConfigError(`invalid group ${config.group}: a numeric gid is at most 4294967294`);
  }
  for (const [name, rt] of Object.entries(config.runtimes)) {
    if (typeof rt !== 'object' || rt === null || typeof rt.path !== 'string') throw new ConfigError(`runtime ${name}: "path" must be a string`);
  }
  try {
    parseLogOpts(config.logOpts);
  } catch (err) {
    throw new ConfigError(`invalid log-opts: ${(err as Error).message}`);
  }
}
