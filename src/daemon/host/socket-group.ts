import { readFileSync } from 'node:fs';
import { parseColonFile } from '../../lib/colon-file.ts';
import { run } from '../../lib/exec.ts';
import { ConfigError } from '../config/config.ts';

/** The gid of `name` in group-file text (/etc/group's format), if it is there. */
export function gidInGroupFile(text: string, name: string): number | undefined {
  const gid = parseColonFile(text).find(([groupName, , id]) => groupName === name && id !== undefined && /^\d+$/.test(id))?.[2];
  return gid === undefined ? undefined : Number(gid);
}

/**
 * The gid `--group` names, looked up as dockerd does: by name in /etc/group, then through NSS
 * (`getent group`, for LDAP and the like), then as a numeric gid. No match stops the daemon:
 * berth has no default group to fall back from.
 */
export async function resolveSocketGroup(group: string, groupFile = '/etc/group'): Promise<number> {
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fromFile = gidInGroupFile(text, group);
  if (fromFile !== undefined) return fromFile;
  try {
    const { stdout } = await run('getent', ['group', group], { timeoutMs: 10_000 });
    const fromNss = gidInGroupFile(stdout, group);
    if (fromNss !== undefined) return fromNss;
  } catch { /* unknown to NSS, or no getent */ }
  if (/^\d+$/.test(group)) return Number(group);
  throw new ConfigError(`group ${group} not found (--group / "group" in daemon.json): not in ${groupFile}, unknown to getent, and not a numeric gid`);
}
