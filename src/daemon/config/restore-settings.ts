/** The restore-critical settings, recorded at each start and compared with the last one's. */
import type { RestoreSettings } from '../../protocol/records.ts';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/atomic-file.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DaemonPaths } from '../host/paths.ts';
import { OPTION_LIST } from './options.ts';

type Setting = Exclude<keyof RestoreSettings, 'schemaVersion'>;

/** The options marked restore-critical, and the host's cgroup version, which matters as much. */
const CRITICAL = [...OPTION_LIST.filter(([, option]) => option.restoreCritical).map(([field]) => field as Setting), 'cgroupVersion'] as const;

/**
 * Compares the restore-critical settings with those recorded at the last start, warns about
 * each change, and records the new ones. Containers keep their own shim and runtime
 * locations, so a change here is reported rather than silently orphaning them.
 */
export function checkRestoreSettings(paths: DaemonPaths, current: RestoreSettings, log: Logger): string[] {
  const previous = readJsonIfExists<RestoreSettings>(paths.settingsFile);
  const warnings: string[] = [];
  if (previous) {
    for (const key of CRITICAL) {
      if (previous[key] !== current[key]) {
        const message = `restore-critical setting ${key} changed from ${previous[key]} to ${current[key]}: containers started before keep their recorded shim socket and runtime; new containers use the new setting`;
        warnings.push(message);
        log.warn({ setting: key, from: previous[key], to: current[key] }, message);
      }
    }
  }
  writeJsonAtomic(paths.settingsFile, current);
  return warnings;
}
