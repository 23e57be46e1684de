/**
 * The daemon's options, listed once: each one's flag, daemon.json key and type, default,
 * parsing and checks, and whether SIGHUP reloads it or restore depends on it. The flags
 * (flags.ts), the daemon.json reader and the merge (config.ts), the reload (reload.ts) and
 * the restore-settings check (restore-settings.ts) are all derived from this table.
 */
import { EngineError } from '../../protocol/errors.ts';
import { LOG_LEVELS, type LogLevel } from '../../lib/logger.ts';
import { RUNTIME_NAMES } from '../../runtime/oci-runtime.ts';
import { parseLogOpts } from '../../protocol/json-file-log.ts';

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

export type FileValueType = 'string' | 'boolean' | 'number' | 'string[]' | 'object';

export interface DaemonOption<T> {
  /** The command-line flag; `name` is also its key in FlagValues. */
  flag?: { name: string; short?: string; arg?: string; description: string; choices?: readonly string[]; repeatable?: true };
  /** The daemon.json directive (dockerd's name) and the JSON type it must have. */
  file?: { key: string; type: FileValueType };
  /** The value when neither the flag nor the file sets the option. */
  default: T;
  /** The flag's or the file's raw value → the config's; the raw value as it is without one. */
  parse?(raw: unknown): T;
  /** Throws a ConfigError for a value the daemon cannot run with. */
  check?(value: T, config: DaemonConfig): void;
  /** SIGHUP applies a new value without a restart (dockerd's reloadable options that berth has). */
  reloadable?: true;
  /** Recorded at each start; a change is reported, since running containers keep the old one. */
  restoreCritical?: true;
}

export class ConfigError extends EngineError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

function parseKeyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`invalid ${what} '${item}': expected key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

const transferLimit = (key: string) => (value: number) => {
  if (!Number.isInteger(value) || value < 1 || value > 64) throw new ConfigError(`invalid ${key}: ${value} (an integer from 1 to 64)`);
};

/** In the order of `berthd --help`; the merge reports directives given twice in this order too. */
export const OPTIONS: { readonly [F in keyof DaemonConfig]: DaemonOption<DaemonConfig[F]> } = {
  dataRoot: {
    flag: { name: 'data-root', arg: '<dir>', description: `persistent state (default ${DEFAULTS.dataRoot})` },
    file: { key: 'data-root', type: 'string' },
    default: DEFAULTS.dataRoot,
  },
  execRoot: {
    flag: { name: 'exec-root', arg: '<dir>', description: `runtime state (default ${DEFAULTS.execRoot})` },
    file: { key: 'exec-root', type: 'string' },
    default: DEFAULTS.execRoot,
    restoreCritical: true,
  },
  hosts: {
    flag: { name: 'host', short: 'H', arg: '<unix:///path>', description: `API socket (default ${DEFAULTS.host})`, repeatable: true },
    file: { key: 'hosts', type: 'string[]' },
    default: [DEFAULTS.host],
    parse: (raw) => {
      const hosts = (Array.isArray(raw) ? (raw as string[]) : [raw as string]).filter(Boolean);
      return hosts.length ? hosts : [DEFAULTS.host];
    },
    check: (hosts) => {
      for (const host of hosts) {
        if (!host.startsWith('unix://') || host.length <= 'unix://'.length) {
          throw new ConfigError(`invalid host ${host}: berthd listens on unix sockets only (unix:///path)`);
        }
      }
    },
  },
  configFile: {
    flag: { name: 'config-file', arg: '<file>', description: `daemon configuration file (default ${DEFAULTS.configFile})` },
    default: DEFAULTS.configFile,
  },
  liveRestore: {
    flag: { name: 'live-restore', description: 'keep containers running while the daemon is down' },
    file: { key: 'live-restore', type: 'boolean' },
    default: false,
    reloadable: true,
  },
  pidFile: {
    flag: { name: 'pidfile', short: 'p', arg: '<file>', description: 'daemon pid file' },
    file: { key: 'pidfile', type: 'string' },
    default: undefined,
  },
  logLevel: {
    flag: { name: 'log-level', short: 'l', arg: '<level>', description: 'log level', choices: LOG_LEVELS },
    file: { key: 'log-level', type: 'string' },
    default: 'info',
    check: (level) => {
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`invalid log level: ${level} (use one of ${LOG_LEVELS.join(', ')})`);
    },
    reloadable: true,
  },
  defaultRuntime: {
    flag: { name: 'default-runtime', arg: '<name>', description: 'OCI runtime for containers (crun|runc)' },
    file: { key: 'default-runtime', type: 'string' },
    default: undefined,
    check: (name, config) => {
      const known = [...RUNTIME_NAMES, ...Object.keys(config.runtimes)];
      if (name !== undefined && !known.includes(name)) throw new ConfigError(`default runtime ${name} is not configured (known: ${known.join(', ')})`);
    },
    restoreCritical: true,
  },
  runtimes: {
    file: { key: 'runtimes', type: 'object' },
    default: {},
    check: (runtimes) => {
      for (const [name, rt] of Object.entries(runtimes)) {
        if (typeof rt !== 'object' || rt === null || typeof rt.path !== 'string') throw new ConfigError(`runtime ${name}: "path" must be a string`);
      }
    },
  },
  logOpts: {
    flag: { name: 'log-opt', arg: '<key=value>', description: 'default json-file log options', repeatable: true },
    file: { key: 'log-opts', type: 'object' },
    default: {},
    parse: (raw) => (Array.isArray(raw) ? parseKeyValues(raw as string[], '--log-opt') : (raw as Record<string, string>)),
    check: (opts) => {
      try {
        parseLogOpts(opts);
      } catch (err) {
        throw new ConfigError(`invalid log-opts: ${(err as Error).message}`);
      }
    },
    reloadable: true,
  },
  storageDriver: {
    flag: { name: 'storage-driver', short: 's', arg: '<driver>', description: 'overlay or copy', choices: ['overlay', 'copy'] },
    file: { key: 'storage-driver', type: 'string' },
    default: undefined,
    check: (driver) => {
      if (driver !== undefined && !['overlay', 'copy'].includes(driver)) throw new ConfigError(`unknown storage driver ${driver} (use overlay or copy)`);
    },
    restoreCritical: true,
  },
  insecureRegistries: {
    flag: { name: 'insecure-registry', arg: '<host>', description: 'a registry reached over plain HTTP (host[:port] or CIDR); repeatable', repeatable: true },
    file: { key: 'insecure-registries', type: 'string[]' },
    default: [],
    check: (registries) => {
      for (const registry of registries) {
        if (!/^[A-Za-z0-9.\-:[\]]+(?:\/\d{1,3})?$/.test(registry) || registry.includes('://')) throw new ConfigError(`insecure registry ${registry} should not contain '://' and must be host[:port] or a CIDR`);
      }
    },
    reloadable: true,
  },
  maxConcurrentDownloads: {
    flag: { name: 'max-concurrent-downloads', arg: '<n>', description: 'layers downloaded at once per pull' },
    file: { key: 'max-concurrent-downloads', type: 'number' },
    default: 3,
    parse: Number,
    check: transferLimit('max-concurrent-downloads'),
    reloadable: true,
  },
  maxConcurrentUploads: {
    flag: { name: 'max-concurrent-uploads', arg: '<n>', description: 'layers uploaded at once per push' },
    file: { key: 'max-concurrent-uploads', type: 'number' },
    default: 5,
    parse: Number,
    check: transferLimit('max-concurrent-uploads'),
    reloadable: true,
  },
  group: {
    flag: { name: 'group', short: 'G', arg: '<group>', description: 'group (name or gid) that may use the API socket besides root; none by default' },
    file: { key: 'group', type: 'string' },
    default: undefined,
    // dockerd's `-G ""` means no group: so it does here.
    parse: (raw) => (raw as string) || undefined,
    check: (group) => {
      if (group !== undefined && !/^[^:\s]+$/.test(group)) {
        throw new ConfigError(`invalid group ${JSON.stringify(group)}: a group name or numeric gid, without ':' or spaces`);
      }
      if (group !== undefined && /^\d+$/.test(group) && Number(group) > 0xfffffffe) {
        throw new ConfigError(`invalid group ${group}: a numeric gid is at most 4294967294`);
      }
    },
  },
};

export type OptionField = keyof DaemonConfig;

/** The table as a list, in its order. */
export const OPTION_LIST = Object.entries(OPTIONS) as Array<[OptionField, DaemonOption<unknown>]>;
