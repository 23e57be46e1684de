import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../../protocol/errors.ts';
import type { ContainerRecord, ImageRecord } from '../../protocol/records.ts';
import { buildSpec, type BindMount } from '../../runtime/spec.ts';
import type { DaemonPaths } from '../paths.ts';
import { parseBind } from './create-request.ts';
import { containerSeccomp, parseSecurityOpts } from './security-opts.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../lib/private-paths.ts';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Image config + create request → the process the container runs (Docker's merge rules). */
export function resolveCommand(record: Pick<ContainerRecord, 'config'>, image: ImageRecord): { path: string; args: string[] } {
  const entrypoint = record.config.Entrypoint ?? image.config.Entrypoint ?? [];
  // An entrypoint given at create time drops the image's CMD, as in Docker.
  const cmd = record.config.Cmd ?? (record.config.Entrypoint ? [] : (image.config.Cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0 || argv[0] === '') throw invalidArgument('No command specified');
  return { path: argv[0]!, args: argv.slice(1) };
}

export function mergeEnv(imageEnv: string[] = [], containerEnv: string[]): string[] {
  const env = new Map<string, string>();
  for (const entry of [...imageEnv, ...containerEnv]) {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), entry);
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  return [...env.values()].filter((e) => e.includes('='));
}

/** "-u name[:group]" or "uid[:gid]", resolved against the container's /etc/passwd and /etc/group. */
export function resolveUser(user: string, rootfs: string): { uid: number; gid: number; additionalGids: number[] } {
  if (!user) return { uid: 0, gid: 0, additionalGids: [] };
  const [userPart = '', groupPart] = user.split(':');
  const passwd = readColonFile(join(rootfs, 'etc/passwd'));
  const groups = readColonFile(join(rootfs, 'etc/group'));
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p[2] === userPart);
    if (entry) gid = Number(entry[3]);
  } else {
    const entry = passwd.find((p) => p[0] === userPart);
    if (!entry) throw invalidArgument(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = groups.find((g) => g[0] === groupPart);
      if (!entry) throw invalidArgument(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid, additionalGids: [] };
}

function readColonFile(path: string): string[][] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** The hard RLIMIT_NOFILE of this process: a spec must never ask for more (the runtime would fail with EPERM). */
export function hardNofileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? 1048576 : Math.min(Number(hard), 1048576);
}

export function writeEtcFiles(paths: DaemonPaths, record: ContainerRecord): void {
  const hostname = record.config.Hostname;
  writeFileSync(paths.containerEtc(record.id, 'hostname'), `${hostname}\n`);
  const hosts = record.hostConfig.NetworkMode === 'host' && existsSync('/etc/hosts')
    ? readFileSync('/etc/hosts', 'utf8')
    : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`;
  writeFileSync(paths.containerEtc(record.id, 'hosts'), hosts);
  const resolv = paths.containerEtc(record.id, 'resolv.conf');
  if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', resolv);
  else writeFileSync(resolv, '');
}

export function writeBundleSpec(paths: DaemonPaths, record: ContainerRecord, image: ImageRecord, cgroupsPath: string | undefined): void {
  const rootfs = paths.containerRootfs(record.id);
  const binds: BindMount[] = (record.hostConfig.Binds ?? []).map((spec) => {
    const bind = parseBind(spec);
    mkdirSync(bind.source, { recursive: true });
    return bind;
  });
  const security = parseSecurityOpts(record.hostConfig.SecurityOpt);
  const spec = buildSpec({
    rootfs,
    args: [record.path, ...record.args],
    env: mergeEnv(image.config.Env, record.config.Env),
    cwd: record.config.WorkingDir || image.config.WorkingDir || '/',
    ...resolveUser(record.config.User || image.config.User || '', rootfs),
    hostname: record.config.Hostname,
    network: record.hostConfig.NetworkMode === 'host' ? 'host' : 'none',
    binds,
    etcFiles: {
      hosts: paths.containerEtc(record.id, 'hosts'),
      hostname: paths.containerEtc(record.id, 'hostname'),
      resolvConf: paths.containerEtc(record.id, 'resolv.conf'),
    },
    ...(cgroupsPath ? { cgroupsPath } : {}),
    nofileLimit: hardNofileLimit(),
    seccomp: containerSeccomp(security),
    noNewPrivileges: security.noNewPrivileges,
  });
  const bundle = paths.bundle(record.id);
  mkdirSync(bundle, { recursive: true, mode: PRIVATE_DIR_MODE });
  // The spec holds the container's environment: owner-only, as every record.
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec), { mode: PRIVATE_FILE_MODE });
}
