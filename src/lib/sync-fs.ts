import { run } from './exec.ts';

const SYNC = '/usr/bin/sync';

/**
 * Flush everything written to the filesystem that holds `path` (syncfs(2), through coreutils'
 * `sync -f`: Node has no syncfs). One call makes a whole unpacked tree durable, far cheaper
 * than an fsync per file; it also reports writeback errors (Linux 5.8+).
 */
export async function syncFilesystemOf(path: string): Promise<void> {
  await run(SYNC, ['-f', path], { timeoutMs: 10 * 60_000 });
}
