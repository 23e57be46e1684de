import { isAbsolute } from 'node:path';
import { invalidArgument, EngineError } from '../../protocol/errors.ts';
import type { ContainerConfig, HostConfig, RestartPolicy } from '../../protocol/records.ts';
import { normalizeSignal } from '../../protocol/signals.ts';
import { parseLogOpts } from '../../protocol/json-file-log.ts';
import { parseDevices, validateCapabilities, validateGroupAdd, validateSysctls } from './confinement.ts';
import { refuseUnsupportedFields } from './create-fields.ts';
import { parseSecurityOpts } from './security-opts.ts';

/** The parts of Docker's POST /containers/create body that berth uses, validated. */
export interface CreateRequest {
  config: ContainerConfig;
  hostConfig: HostConfig;
}

const RESTART_POLICIES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];
export const NETWORK_MODES = ['', 'default', 'bridge', 'none', 'host'];

function field<T>(body: Record<string, unknown>, key: string, check: (v: unknown) => boolean, type: string): T | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!check(value)) throw invalidArgument(`json: cannot unmarshal ${typeof value} into Go struct field .${key} of type ${type}`);
  return value as T;
}

const isString = (v: unknown) => typeof v === 'string';
const isStringArray = (v: unknown) => Array.isArray(v) && v.every(isString);
const isStringMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInteger = (v: unknown) => Number.isInteger(v);
const isBoolean = (v: unknown) => typeof v === 'boolean';
/** Docker accepts Cmd/Entrypoint as a string or a list of strings. */
const isStrSlice = (v: unknown) => isString(v) || isStringArray(v);
const toStrSlice = (v: string | string[] | undefined): string[] | null => (v === undefined ? null : typeof v === 'string' ? [v] : v);

export function parseCreateRequest(raw: unknown, daemonLogOpts: Record<string, string>): CreateRequest {
  if (!isObject(raw)) throw invalidArgument('invalid JSON: the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  refuseUnsupportedFields(body);
  const image = field<string>(body, 'Image', isString, 'string');
  if (!image) throw invalidArgument('invalid reference format: image name is required');
  const stopSignal = field<string>(body, 'StopSignal', isString, 'string');
  if (stopSignal) normalizeSignal(stopSignal);
  const stopTimeout = field<number>(body, 'StopTimeout', isInteger, 'int');
  const env = field<string[]>(body, 'Env', isStringArray, '[]string') ?? [];
  const healthcheck = parseHealthcheck(body.Healthcheck);
  for (const e of env) if (e === '' || e.startsWith('=')) throw invalidArgument(`invalid environment variable: ${e}`);

  const config: ContainerConfig = {
    Hostname: field<string>(body, 'Hostname', isString, 'string') ?? '',
    Domainname: field<string>(body, 'Domainname', isString, 'string') ?? '',
    User: field<string>(body, 'User', isString, 'string') ?? '',
    Env: env,
    Cmd: toStrSlice(field(body, 'Cmd', isStrSlice, 'strslice.StrSlice')),
    Entrypoint: toStrSlice(field(body, 'Entrypoint', isStrSlice, 'strslice.StrSlice')),
    WorkingDir: field<string>(body, 'WorkingDir', isString, 'string') ?? '',
    Labels: field<Record<string, string>>(body, 'Labels', isStringMap, 'map[string]string') ?? {},
    Image: image,
    Tty: field<boolean>(body, 'Tty', isBoolean, 'bool') ?? false,
    OpenStdin: field<boolean>(body, 'OpenStdin', isBoolean, 'bool') ?? false,
    AttachStdin: field<boolean>(body, 'AttachStdin', isBoolean, 'bool') ?? false,
    AttachStdout: field<boolean>(body, 'AttachStdout', isBoolean, 'bool') ?? false,
    AttachStderr: field<boolean>(body, 'AttachStderr', isBoolean, 'bool') ?? false,
    ...(stopSignal ? { StopSignal: stopSignal } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    ...objectField(body, 'ExposedPorts'),
  };
  if (config.WorkingDir && !isAbsolute(config.WorkingDir)) throw invalidArgument(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  return { config, hostConfig: parseHostConfig(body.HostConfig, daemonLogOpts) };
}

/** ExposedPorts: Go's map[string]struct{}; only the keys count. */
function objectField(body: Record<string, unknown>, key: 'ExposedPorts'): Partial<Record<typeof key, Record<string, object>>> {
  const value = body[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidArgument(`json: cannot unmarshal ${key}: must be an object`);
  return { [key]: Object.fromEntries(Object.keys(value).map((k) => [k, {}])) };
}

function parseHostConfig(raw: unknown, daemonLogOpts: Record<string, string>): HostConfig {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw invalidArgument('json: cannot unmarshal HostConfig: must be an object');
  const body = (raw ?? {}) as Record<string, unknown>;
  const binds = field<string[]>(body, 'Binds', isStringArray, '[]string') ?? null;
  for (const bind of binds ?? []) parseBind(bind);
  const networkMode = field<string>(body, 'NetworkMode', isString, 'string') ?? 'default';
  if (!NETWORK_MODES.includes(networkMode)) {
    throw new EngineError('NotFound', `network ${networkMode} not found`);
  }
  const restartRaw = field<Record<string, unknown>>(body, 'RestartPolicy', isObject, 'container.RestartPolicy') ?? {};
  const restartName = field<string>(restartRaw, 'Name', isString, 'string') ?? '';
  if (!RESTART_POLICIES.includes(restartName)) throw invalidArgument(`invalid restart policy: ${restartName}`);
  const maxRetry = field<number>(restartRaw, 'MaximumRetryCount', isInteger, 'int') ?? 0;
  if (maxRetry < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
  if (maxRetry > 0 && restartName !== 'on-failure') throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  const logRaw = field<Record<string, unknown>>(body, 'LogConfig', isObject, 'container.LogConfig') ?? {};
  const logType = field<string>(logRaw, 'Type', isString, 'string') || 'json-file';
  if (logType !== 'json-file') throw invalidArgument(`logging driver ${logType} is not supported; berth supports json-file`);
  const logOpts = { ...daemonLogOpts, ...(field<Record<string, string>>(logRaw, 'Config', isStringMap, 'map[string]string') ?? {}) };
  try {
    parseLogOpts(logOpts);
  } catch (err) {
    throw invalidArgument((err as Error).message);
  }
  const autoRemove = field<boolean>(body, 'AutoRemove', isBoolean, 'bool') ?? false;
  if (autoRemove && restartName !== '' && restartName !== 'no') throw invalidArgument('conflicting options: cannot specify both --restart and --rm');
  const securityOpt = field<string[]>(body, 'SecurityOpt', isStringArray, '[]string') ?? null;
  parseSecurityOpts(securityOpt);
  return {
    Binds: binds,
    NetworkMode: networkMode,
    RestartPolicy: { Name: restartName as RestartPolicy['Name'], MaximumRetryCount: maxRetry },
    LogConfig: { Type: 'json-file', Config: logOpts },
    AutoRemove: autoRemove,
    SecurityOpt: securityOpt,
    ...parseConfinement(body, networkMode),
  };
}

/** CapAdd, CapDrop, Privileged, ReadonlyRootfs, Devices, GroupAdd, Sysctls (only those set are kept). */
function parseConfinement(body: Record<string, unknown>, networkMode: string): Partial<HostConfig> {
  const capAdd = toStrSlice(field(body, 'CapAdd', isStrSlice, 'strslice.StrSlice'));
  const capDrop = toStrSlice(field(body, 'CapDrop', isStrSlice, 'strslice.StrSlice'));
  validateCapabilities(capAdd ?? [], capDrop ?? []);
  const privileged = field<boolean>(body, 'Privileged', isBoolean, 'bool') ?? false;
  const readonlyRootfs = field<boolean>(body, 'ReadonlyRootfs', isBoolean, 'bool') ?? false;
  const devices = parseDevices(body.Devices);
  const groupAdd = field<string[]>(body, 'GroupAdd', isStringArray, '[]string') ?? null;
  validateGroupAdd(groupAdd ?? []);
  const sysctls = field<Record<string, string>>(body, 'Sysctls', isStringMap, 'map[string]string') ?? {};
  validateSysctls(sysctls, networkMode);
  const containerIdFile = field<string>(body, 'ContainerIDFile', isString, 'string') ?? '';
  return {
    ...(capAdd?.length ? { CapAdd: capAdd } : {}),
    ...(capDrop?.length ? { CapDrop: capDrop } : {}),
    ...(privileged ? { Privileged: true } : {}),
    ...(readonlyRootfs ? { ReadonlyRootfs: true } : {}),
    ...(devices.length ? { Devices: devices } : {}),
    ...(groupAdd?.length ? { GroupAdd: groupAdd } : {}),
    ...(Object.keys(sysctls).length ? { Sysctls: sysctls } : {}),
    ...(containerIdFile ? { ContainerIDFile: containerIdFile } : {}),
  };
}

export interface ParsedBind {
  source: string;
  destination: string;
  readOnly: boolean;
}

export function parseBind(spec: string): ParsedBind {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [source, destination, mode = 'rw'] = parts as [string, string, string?];
  if (!isAbsolute(source)) throw invalidArgument(`invalid volume specification: '${spec}': named volumes are not supported yet; use an absolute host path`);
  if (!isAbsolute(destination)) throw invalidArgument(`invalid volume specification: '${spec}': mount path must be absolute`);
  if (destination === '/') throw invalidArgument(`invalid volume specification: '${spec}': destination can't be '/'`);
  const modes = mode.split(',');
  if (!modes.every((m) => ['ro', 'rw', 'z', 'Z', 'rprivate', 'private'].includes(m))) throw invalidArgument(`invalid mode: ${mode}`);
  return { source, destination, readOnly: modes.includes('ro') };
}

function parseHealthcheck(raw: unknown): ContainerConfig['Healthcheck'] {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalidArgument('json: cannot unmarshal Healthcheck: must be an object');
  const body = raw as Record<string, unknown>;
  const test = field<string[]>(body, 'Test', isStringArray, '[]string') ?? [];
  if (test.length && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) throw invalidArgument(`invalid Healthcheck.Test: the first element must be CMD, CMD-SHELL or NONE`);
  const duration = (key: string) => {
    const v = field<number>(body, key, isInteger, 'time.Duration');
    if (v !== undefined && v !== 0 && v < 1_000_000) throw invalidArgument(`Interval in Healthcheck cannot be less than 1ms`.replace('Interval', key));
    return v;
  };
  const retries = field<number>(body, 'Retries', isInteger, 'int');
  if (retries !== undefined && retries < 0) throw invalidArgument('Retries in Healthcheck cannot be negative');
  const result: NonNullable<ContainerConfig['Healthcheck']> = { Test: test };
  for (const key of ['Interval', 'Timeout', 'StartPeriod'] as const) {
    const v = duration(key);
    if (v !== undefined) result[key] = v;
  }
  if (retries !== undefined) result.Retries = retries;
  return result;
}
