/** SIGHUP: the reloadable options take their new values; the others keep the running ones. */
import { OPTION_LIST, type DaemonConfig } from './options.ts';

const RELOADABLE = OPTION_LIST.filter(([, option]) => option.reloadable);

/** The running config with `next`'s reloadable values, and the daemon.json keys of those that changed. */
export function reloadConfig(running: DaemonConfig, next: DaemonConfig): { config: DaemonConfig; changed: string[] } {
  const changed = RELOADABLE.filter(([field]) => JSON.stringify(next[field]) !== JSON.stringify(running[field])).map(([, option]) => option.file!.key);
  const config = { ...running, ...Object.fromEntries(RELOADABLE.map(([field]) => [field, next[field]])) } as DaemonConfig;
  return { config, changed };
}
