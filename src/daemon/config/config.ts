/** daemon.json and the flags → one DaemonConfig, with dockerd's rules and messages. */
import { readFileSync } from 'node:fs';
import { ConfigError, OPTION_LIST, type DaemonConfig, type FileValueType } from './options.ts';

export { ConfigError, DEFAULTS, type DaemonConfig } from './options.ts';

/** Flag values by the flag's long name ('data-root', 'host', 'log-opt', …), as commander gave them. */
export type FlagValues = Partial<Record<string, string | string[] | boolean>>;

/** What the command line says about the configuration: its flags, and where daemon.json is. */
export interface CommandLine {
  flags: FlagValues;
  configFile: string;
  configFileGiven: boolean;
}

const FILE_OPTIONS = new Map(OPTION_LIST.flatMap(([, option]) => (option.file ? [[option.file.key, option.file] as const] : [])));

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
  const unknown = Object.keys(parsed).filter((k) => !FILE_OPTIONS.has(k));
  if (unknown.length) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    const { type } = FILE_OPTIONS.get(key)!;
    if (!hasType(value, type)) throw new ConfigError(`unable to configure the daemon with file ${path}: "${key}" must be a ${type}`);
  }
  return parsed as Record<string, unknown>;
}

function hasType(value: unknown, type: FileValueType): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'number': return typeof value === 'number';
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'object': return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

/**
 * Flags + file → config. An option set both ways is refused, naming the directives, as
 * dockerd does ("the following directives are specified both as a flag and in the configuration file").
 */
export function mergeConfig(flags: FlagValues, file: Record<string, unknown>, configFile: string): DaemonConfig {
  const both: string[] = [];
  for (const [, option] of OPTION_LIST) {
    if (option.file && option.file.key in file && option.flag && flags[option.flag.name] !== undefined) {
      both.push(`${option.file.key}: (from flag: ${formatFlag(flags[option.flag.name])}, from file: ${JSON.stringify(file[option.file.key])})`);
    }
  }
  if (both.length) {
    throw new ConfigError(`unable to configure the daemon with file ${configFile}: the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  }
  const values = OPTION_LIST.map(([field, option]) => {
    const raw = option.file && option.file.key in file ? file[option.file.key] : option.flag ? flags[option.flag.name] : undefined;
    if (raw === undefined) return [field, option.default];
    return [field, option.parse ? option.parse(raw) : raw];
  });
  const config = { ...Object.fromEntries(values), configFile } as DaemonConfig;
  for (const [field, option] of OPTION_LIST) option.check?.(config[field], config);
  return config;
}

/** daemon.json (where the command line says) merged with the flags: at start and on each SIGHUP. */
export function loadConfig(cli: CommandLine): DaemonConfig {
  return mergeConfig(cli.flags, readConfigFile(cli.configFile, cli.configFileGiven), cli.configFile);
}

function formatFlag(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}
