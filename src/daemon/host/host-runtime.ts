import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../protocol/errors.ts';

export type CgroupMode = 'v2' | 'hybrid' | 'v1';

export function cgroupMode(): CgroupMode {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'v2';
  return existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'v1';
}

export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RuntimeChoice {
  name: string;
  path: string;
  /** Why this runtime: shown by `info` so an operator knows. */
  reason: string;
  /** Whether containers get a cgroup (crun 1.8 cannot manage cgroups on hybrid hosts). */
  useCgroups: boolean;
}

/**
 * The configured default runtime, or the one that works on this host: crun on pure cgroup v2,
 * runc on v1/hybrid hosts, where Debian's crun 1.8 refuses containers ("cgroups in hybrid mode not supported").
 */
export function chooseRuntime(configured: string | undefined, extra: Record<string, { path: string }>, mode: CgroupMode): RuntimeChoice {
  const locate = (name: string) => findExecutable(extra[name]?.path ?? name);
  if (configured) {
    const path = locate(configured);
    if (!path) throw new EngineError('FailedPrecondition', `default runtime ${configured} not found in PATH; install it (apt-get install ${configured}) or choose another`);
    return { name: configured, path, reason: 'configured with --default-runtime', useCgroups: !(configured === 'crun' && mode !== 'v2') };
  }
  const preferred = mode === 'v2' ? ['crun', 'runc'] : ['runc', 'crun'];
  for (const name of preferred) {
    const path = locate(name);
    if (!path) continue;
    const reason = mode === 'v2'
      ? name === 'crun' ? 'crun: default on cgroup v2' : 'runc: crun is not installed'
      : name === 'runc' ? `runc: cgroup ${mode} host, where crun 1.8 refuses containers with cgroups` : `crun: runc is not installed; containers run without cgroups on this cgroup ${mode} host`;
    return { name, path, reason, useCgroups: !(name === 'crun' && mode !== 'v2') };
  }
  throw new EngineError('FailedPrecondition', 'no OCI runtime found: install crun or runc (apt-get install crun runc)');
}
