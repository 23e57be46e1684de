/**
 * What making a layer durable and checkable costs (run as root: `node bench/layer-durability.ts A.tar [B.tar …]`).
 * A script, not a test. For each archive, median of BENCH_RUNS runs of: unpack alone (berth
 * before layers were synced), the content summary walk, `sync -f` (syncfs), and, for
 * comparison, an fsync of every file and directory; then the check at first use (the same walk
 * again, as verify does once per daemon run; caches are warm here, a cold walk after a reboot reads
 * the inodes from disk).
 */
import { createReadStream, mkdtempSync, rmSync, readdirSync, lstatSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { unpackLayer } from '../src/images/layer-unpack.ts';
import { summarizeLayer } from '../src/images/layer-summary.ts';
import { syncFilesystemOf } from '../src/lib/sync-fs.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) fsyncTree(path);
    else if (!st.isFile()) continue;
    const fd = openSync(path, 'r');
    fsyncSync(fd);
    closeSync(fd);
  }
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

async function time(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

console.log('| archive | entries | unpack | + summary | + sync -f | (fsync per file instead) | check at first use |');
console.log('|---|---|---|---|---|---|---|');
for (const archive of process.argv.slice(2)) {
  const rows = { unpack: [] as number[], summary: [] as number[], syncfs: [] as number[], fsync: [] as number[], check: [] as number[] };
  let entries = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const how of ['syncfs', 'fsync'] as const) {
      const dir = mkdtempSync('/var/tmp/berth-bench-layer-');
      try {
        await syncFilesystemOf(dir); // start from a clean writeback state
        const unpack = await time(() => unpackLayer(createReadStream(archive), dir));
        if (how === 'syncfs') {
          rows.unpack.push(unpack);
          let summary;
          rows.summary.push(await time(async () => (summary = await summarizeLayer(dir))));
          entries = summary!.entries;
          rows.syncfs.push(await time(() => syncFilesystemOf(dir)));
          rows.check.push(await time(() => summarizeLayer(dir)));
        } else {
          rows.fsync.push(await time(() => fsyncTree(dir)));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const f = (xs: number[]) => `${Math.round(median(xs))} ms`;
  console.log(`| ${archive.split('/').at(-1)} | ${entries} | ${f(rows.unpack)} | ${f(rows.summary)} | ${f(rows.syncfs)} | ${f(rows.fsync)} | ${f(rows.check)} |`);
}
