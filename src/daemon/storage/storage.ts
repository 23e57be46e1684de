import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative as relativePath } from 'node:path';
import { applyLayerByCopy } from './layer-copy.ts';
import { run } from '../../lib/exec.ts';

export type StorageDriver = 'overlay' | 'copy';

/** Container root filesystems: an overlay of the image's rootfs, or a full copy where overlay is unavailable. */
export class RootfsStorage {
  readonly driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.driver = driver;
  }

  /** overlay if the kernel has it and a probe mount under `scratchDir` works. */
  static async detect(scratchDir: string, forced?: StorageDriver): Promise<RootfsStorage> {
    if (forced) return new RootfsStorage(forced);
    if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return new RootfsStorage('copy');
    const probe = join(scratchDir, `.overlay-probe-${process.pid}`);
    const dirs = ['lower', 'upper', 'work', 'merged'].map((d) => join(probe, d));
    try {
      for (const d of dirs) mkdirSync(d, { recursive: true });
      const [lower, upper, work, merged] = dirs as [string, string, string, string];
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
      await run('umount', [merged]);
      return new RootfsStorage('overlay');
    } catch {
      return new RootfsStorage('copy');
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  }

  /** Mount (or, for copy, build) a container's root: `lowers` are the image's layers, top first. */
  async mount(lowers: readonly string[], upper: string, work: string, target: string): Promise<void> {
    mkdirSync(target, { recursive: true });
    if (this.driver === 'copy') {
      if (!existsSync(join(target, '.berth-copied'))) {
        for (const layer of [...lowers].reverse()) await applyLayerByCopy(layer, target);
        await run('touch', [join(target, '.berth-copied')]);
      }
      return;
    }
    if (await isMountPoint(target)) return;
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    // The mount options must fit in a page (4 KiB): with many layers, name each by a short link
    // in their common parent (l/<26 hex> → ../<chain>/diff, as overlay2 does), ~30 bytes a layer.
    const absolute = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
    const parent = commonParent(lowers);
    if (absolute.length < 3800 || parent === undefined) {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', absolute, target]);
    } else {
      const short = lowers.map((l) => shortLink(parent, l)).join(':');
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${short},upperdir=${upper},workdir=${work}`, target], { cwd: parent });
    }
  }

  /** Unmount whatever is mounted there, whichever driver mounted it. */
  async unmount(target: string): Promise<void> {
    if (await isMountPoint(target)) await run('umount', [target]);
  }
}

export async function isMountPoint(path: string): Promise<boolean> {
  return mountPoints().has(path);
}

/** Every mount point of this mount namespace, from /proc/self/mountinfo. */
export function mountPoints(): Set<string> {
  return new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]!).filter(Boolean));
}

/** `l/<first 26 characters of the layer's directory name>` in `parent`, made if missing. */
function shortLink(parent: string, lower: string): string {
  const rel = relativePath(parent, lower);
  const link = join('l', rel.split('/')[0]!.slice(0, 26));
  mkdirSync(join(parent, 'l'), { recursive: true });
  try {
    symlinkSync(join('..', rel), join(parent, link));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return link;
}

function commonParent(dirs: readonly string[]): string | undefined {
  const parents = new Set(dirs.map((d) => dirname(dirname(d))));
  return parents.size === 1 ? [...parents][0] : undefined;
}
