import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What an unpacked layer looks like on disk, cheaply: every name with its kind and, for
 * regular files, its size. Recorded when a layer is unpacked and compared before the layer
 * is trusted again, so files cut short (a power loss before writeback, or someone truncating
 * them) or gone are noticed. Contents are not read: same-size damage is not detected.
 */
export interface LayerSummary {
  /** Names below the layer root (directories, files, links, devices). */
  entries: number;
  /** Sum of the sizes of regular files (a hard-linked file counts once per name). */
  fileBytes: number;
  /** sha256 over the sorted "kind size path" lines. */
  digest: string;
}

export async function summarizeLayer(dir: string): Promise<LayerSummary> {
  const lines: string[] = [];
  let fileBytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(join(dir, rel), { withFileTypes: true });
    const sizes = await Promise.all(entries.map((e) => (e.isFile() ? fsp.lstat(join(dir, rel, e.name)).then((st) => st.size) : Promise.resolve(0))));
    const subdirs: string[] = [];
    entries.forEach((entry, i) => {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const size = sizes[i]!;
      fileBytes += size;
      lines.push(`${kindOf(entry)} ${size} ${path}`);
      if (entry.isDirectory()) subdirs.push(path);
    });
    for (const sub of subdirs) await walk(sub);
  };
  await walk('');
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line).update('\n');
  return { entries: lines.length, fileBytes, digest: `sha256:${hash.digest('hex')}` };
}

export function sameSummary(a: LayerSummary, b: LayerSummary): boolean {
  return a.entries === b.entries && a.fileBytes === b.fileBytes && a.digest === b.digest;
}

function kindOf(entry: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isFIFO(): boolean }): string {
  if (entry.isFile()) return 'f';
  if (entry.isDirectory()) return 'd';
  if (entry.isSymbolicLink()) return 'l';
  if (entry.isCharacterDevice()) return 'c';
  if (entry.isBlockDevice()) return 'b';
  if (entry.isFIFO()) return 'p';
  return 's';
}
