import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize } from '../lib/go/units.ts';
import { rfc3339NanoFixed } from '../lib/go/time.ts';
import { apiTimestamp, parseGoDuration } from '../protocol/timestamps.ts';
import { goBase, goClean, prepareArchiveCopy, splitCpArg, splitPathDirEntry } from './commands/cp.ts';
import { statsContext, statsEntry } from './commands/stats.ts';
import { diskUsageRows } from './commands/system.ts';

test('bytesSize is go-units BytesSize (binary, 4 significant digits)', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(659456), '644KiB');
  assert.equal(bytesSize(25276510208), '23.54GiB');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1536), '1.5KiB');
});

test('Go durations and docker timestamps for --since/--until', () => {
  assert.equal(parseGoDuration('10m'), 600);
  assert.equal(parseGoDuration('1h30m'), 5400);
  assert.equal(parseGoDuration('1.5s'), 1.5);
  assert.equal(parseGoDuration('10'), undefined);
  const now = new Date('2026-01-01T00:10:00Z');
  assert.equal(apiTimestamp('10m', now), String(Date.parse('2026-01-01T00:00:00Z') / 1000));
  assert.equal(apiTimestamp('1577836800', now), '1577836800');
  assert.equal(apiTimestamp('1577836800.5', now), '1577836800.5');
  assert.equal(apiTimestamp('0', now), '0');
  assert.equal(apiTimestamp('2020-01-01T00:00:00Z', now), '1577836800.000000000');
  assert.equal(apiTimestamp('2020-01-01T01:00:00+01:00', now), '1577836800.000000000');
  assert.equal(apiTimestamp('2020-01-01T00:00:00.25Z', now), '1577836800.250000000');
  assert.equal(apiTimestamp('2020-01-01Z', now), '1577836800.000000000');
  assert.throws(() => apiTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  assert.throws(() => apiTimestamp('2020-13-01', now), /parsing time/);
});

test('rfc3339NanoFixed keeps nine fraction digits', () => {
  const text = rfc3339NanoFixed(1795328112180010500n);
  assert.match(text, /^2026-11-2\dT\d\d:\d\d:12\.180010500(Z|[+-]\d\d:\d\d)$/);
  assert.match(rfc3339NanoFixed(1795328112000000000n), /:12\.000000000/);
});

test('docker cp path rules', () => {
  assert.equal(goBase('/a/b/'), 'b');
  assert.equal(goBase('/a/b/.'), '.');
  assert.equal(goBase('/'), '/');
  assert.equal(goClean('/a/b/'), '/a/b');
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitCpArg('c1:/x'), { container: 'c1', path: '/x' });
  assert.deepEqual(splitCpArg('/a:b'), { container: '', path: '/a:b' });
  assert.deepEqual(splitCpArg('./a:b'), { container: '', path: './a:b' });
  assert.deepEqual(splitCpArg('file'), { container: '', path: 'file' });
  const file = { path: '/src/f.txt', exists: true, isDir: false, rebaseName: '' };
  const dir = { path: '/src/d', exists: true, isDir: true, rebaseName: '' };
  const existingDir = { path: '/dst', exists: true, isDir: true, rebaseName: '' };
  assert.deepEqual(prepareArchiveCopy(file, existingDir), { dir: '/dst' });
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/new.txt', exists: false, isDir: false, rebaseName: '' }), { dir: '/dst', rename: ['f.txt', 'new.txt'] });
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/old.txt', exists: true, isDir: false, rebaseName: '' }), { dir: '/dst', rename: ['f.txt', 'old.txt'] });
  assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst/newdir', exists: false, isDir: false, rebaseName: '' }), { dir: '/dst', rename: ['d', 'newdir'] });
  assert.deepEqual(prepareArchiveCopy({ ...dir, path: '/src/d/.' }, { path: '/dst/x', exists: false, isDir: false, rebaseName: '' }), { dir: '/dst', rename: ['.', 'x'] });
  assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/f', exists: true, isDir: false, rebaseName: '' }), /cannot copy directory/);
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/nodir/', exists: false, isDir: false, rebaseName: '' }), /no such directory/);
});

test('stats numbers as the docker CLI computes them', () => {
  const entry = statsEntry({
    name: '/web',
    id: 'a'.repeat(64),
    cpu_stats: { cpu_usage: { total_usage: 300 }, system_cpu_usage: 2000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 },
    memory_stats: { usage: 3 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { inactive_file: 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'Write', value: 8192 }, { op: 'total', value: 1 }] },
    pids_stats: { current: 3 },
  });
  assert.deepEqual(statsContext('web', entry, true), {
    Container: 'web',
    Name: 'web',
    ID: 'a'.repeat(12),
    CPUPerc: '40.00%',
    MemUsage: '2MiB / 100MiB',
    MemPerc: '2.00%',
    NetIO: '2kB / 500B',
    BlockIO: '4.1kB / 8.19kB',
    PIDs: '3',
  });
});

test('system df rows', () => {
  const rows = diskUsageRows({
    LayersSize: 2000,
    Images: [{ Size: 2000, SharedSize: 0, Containers: 1 }],
    Containers: [{ State: 'running', SizeRw: 10 }, { State: 'exited', SizeRw: 30 }],
    Volumes: [],
    BuildCache: [],
  });
  assert.deepEqual(rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable]), [
    ['Images', '1', '1', '2kB', '0B (0%)'],
    ['Containers', '2', '1', '40B', '30B (75%)'],
    ['Local Volumes', '0', '0', '0B', '0B'],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]);
});
