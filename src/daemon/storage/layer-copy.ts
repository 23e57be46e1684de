import { lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from '../../lib/exec.ts';

/**
 * Apply one overlay-format layer (from the layer store) onto a plain directory, for the copy
 * storage driver. The image is a stranger: a lower layer may have left symlinks anywhere in
 * `target`, pointing at the host. So before anything is written, every path the layer touches
 * is made safe without following a link: what the layer replaces (file, link, whiteout) is
 * removed, a directory it enters is a real directory, and opaque directories are emptied.
 * Only then does `cp -a` copy the layer, and the copied whiteout devices go.
 */
export async function applyLayerByCopy(layer: string, target: string): Promise<void> {
  const opaque = await opaqueDirs(layer);
  const whiteouts: string[] = [];
  prepare(layer, target, '', opaque, whiteouts);
  await run('cp', ['-a', `${layer}/.`, target], { timeoutMs: 600_000 });
  for (const rel of whiteouts) remove(join(target, rel));
}

/** `target/rel` is a real directory here (the root, or one this walk made sure of). */
function prepare(layer: string, target: string, rel: string, opaque: ReadonlySet<string>, whiteouts: string[]): void {
  if (rel && opaque.has(rel)) {
    for (const name of readdirSync(join(target, rel))) remove(join(target, rel, name));
  }
  for (const entry of readdirSync(join(layer, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name);
    const destination = join(target, path);
    const existing = lstatSync(destination, { throwIfNoEntry: false });
    if (entry.isDirectory()) {
      if (existing && !existing.isDirectory()) remove(destination);
      if (!existing?.isDirectory()) mkdirSync(destination);
      prepare(layer, target, path, opaque, whiteouts);
      continue;
    }
    if (entry.isCharacterDevice() && lstatSync(join(layer, path)).rdev === 0) whiteouts.push(path);
    if (existing) remove(destination);
  }
}

/** Remove a path itself, never what a symlink there points to (dangling or not). */
function remove(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) rmSync(path, { recursive: true, force: true });
  else unlinkSync(path);
}

/** Directories of the layer marked opaque (trusted.overlay.opaque=y), relative to it. */
async function opaqueDirs(layer: string): Promise<Set<string>> {
  const { stdout } = await run('getfattr', ['-R', '-P', '-h', '--absolute-names', '-m', '^trusted\\.overlay\\.opaque$', '-d', layer], { timeoutMs: 600_000 });
  const dirs = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) dirs.add(relative(layer, line.slice('# file: '.length)));
  }
  return dirs;
}
