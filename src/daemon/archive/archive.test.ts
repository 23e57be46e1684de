import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync,
  symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readTar } from '../../lib/tar/reader.ts';
import { encodeHeader, END_OF_ARCHIVE } from '../../lib/tar/writer.ts';
import { archiveFromRootfs, encodePathStat, extractIntoRootfs, resolveInRootfs, statInRootfs } from './archive.ts';
import { EngineError } from '../../protocol/errors.ts';

const isKind = (kind: string) => (err: unknown) => EngineError.is(err) && err.kind === kind;

function tempDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-archive-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface TestEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  linkpath?: string;
  body?: string;
}

const KINDS = { File: 'file', Directory: 'dir', SymbolicLink: 'symlink', Link: 'hardlink' } as const;

/** A tar built header by header, so that it can say things a careful tar writer would refuse to write. */
function tarball(entries: TestEntry[]): Readable {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    blocks.push(encodeHeader({
      path: entry.path,
      kind: KINDS[entry.type ?? 'File'],
      linkpath: entry.linkpath ?? '',
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      size: body.length,
      mtime: new Date(),
    }), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(END_OF_ARCHIVE);
  return Readable.from([Buffer.concat(blocks)]);
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function entryNames(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of readTar(Readable.from([archive])[Symbol.asyncIterator]())) names.push(entry.path);
  return names;
}

test('a tree survives archiveFromRootfs → extractIntoRootfs: contents, modes, owners, mtimes, symlinks, hard links', async (t) => {
  const from = tempDir(t, 'from');
  const to = tempDir(t, 'to');
  const mtime = new Date('2020-01-02T03:04:05Z');
  mkdirSync(join(from, 'data/sub'), { recursive: true });
  writeFileSync(join(from, 'data/a.txt'), 'alpha', { mode: 0o640 });
  chownSync(join(from, 'data/a.txt'), 1234, 5678);
  writeFileSync(join(from, 'data/sub/b'), 'beta');
  linkSync(join(from, 'data/a.txt'), join(from, 'data/hard'));
  symlinkSync('a.txt', join(from, 'data/link'));
  symlinkSync('/etc/passwd', join(from, 'data/abs'));
  utimesSync(join(from, 'data/a.txt'), mtime, mtime);
  utimesSync(join(from, 'data/sub'), mtime, mtime);
  chmodSync(join(from, 'data/sub'), 0o750);

  const archive = await collect(archiveFromRootfs(from, '/data'));
  assert.deepEqual(await entryNames(archive), ['data/', 'data/a.txt', 'data/abs', 'data/hard', 'data/link', 'data/sub/', 'data/sub/b']);
  await extractIntoRootfs(to, '/', Readable.from([archive]));

  assert.equal(readFileSync(join(to, 'data/a.txt'), 'utf8'), 'alpha');
  assert.equal(readFileSync(join(to, 'data/sub/b'), 'utf8'), 'beta');
  const a = lstatSync(join(to, 'data/a.txt'));
  assert.equal(a.mode & 0o7777, 0o640);
  assert.equal(a.uid, 1234);
  assert.equal(a.gid, 5678);
  assert.equal(a.mtimeMs, mtime.getTime());
  assert.equal(lstatSync(join(to, 'data/hard')).ino, a.ino);
  const sub = lstatSync(join(to, 'data/sub'));
  assert.equal(sub.mode & 0o7777, 0o750);
  assert.equal(sub.mtimeMs, mtime.getTime());
  assert.equal(readlinkSync(join(to, 'data/link')), 'a.txt');
  assert.equal(readlinkSync(join(to, 'data/abs')), '/etc/passwd');

  // A trailing '/.' copies the contents, as './…'.
  const contents = await collect(archiveFromRootfs(from, '/data/.'));
  assert.deepEqual((await entryNames(contents)).slice(0, 2), ['./', './a.txt']);
  mkdirSync(join(to, 'copy'));
  await extractIntoRootfs(to, '/copy', Readable.from([contents]));
  assert.equal(readFileSync(join(to, 'copy/sub/b'), 'utf8'), 'beta');

  // A final symlink is archived as itself, not followed.
  assert.deepEqual(await entryNames(await collect(archiveFromRootfs(from, 'data/abs'))), ['abs']);
});

test('resolveInRootfs keeps absolute and relative symlinks and .. inside rootfs', (t) => {
  const rootfs = tempDir(t, 'resolve');
  mkdirSync(join(rootfs, 'etc'));
  symlinkSync('/', join(rootfs, 'root'));
  symlinkSync('../../..', join(rootfs, 'up'));
  symlinkSync('../../../etc', join(rootfs, 'etc/loop'));

  assert.equal(resolveInRootfs(rootfs, '/root'), rootfs);
  assert.equal(resolveInRootfs(rootfs, '/root/../../etc'), join(rootfs, 'etc'));
  assert.equal(resolveInRootfs(rootfs, '/up/etc'), join(rootfs, 'etc'));
  assert.equal(resolveInRootfs(rootfs, 'up/etc/loop/missing/file'), join(rootfs, 'etc/missing/file'));
  assert.equal(resolveInRootfs(rootfs, '../../..'), rootfs);
  assert.equal(resolveInRootfs(rootfs, '/up', { followFinalSymlink: false }), join(rootfs, 'up'));
  assert.equal(resolveInRootfs(rootfs, '/up/', { followFinalSymlink: false }), rootfs);
});

test('a hostile archive writes nothing outside rootfs', async (t) => {
  const rootfs = tempDir(t, 'rootfs');
  const outside = tempDir(t, 'outside');
  mkdirSync(join(rootfs, 'dest'));

  await assert.rejects(extractIntoRootfs(rootfs, '/dest', tarball([{ path: '../escape', body: 'x' }])), isKind('InvalidArgument'));
  await assert.rejects(extractIntoRootfs(rootfs, '/dest', tarball([{ path: 'hl', type: 'Link', linkpath: '../../../etc/passwd' }])), isKind('InvalidArgument'));

  await extractIntoRootfs(rootfs, '/dest', tarball([
    { path: '/abs', body: 'abs' },
    { path: 'link', type: 'SymbolicLink', linkpath: outside },
    { path: 'link/pwned', body: 'pwned' },
    { path: 'up', type: 'SymbolicLink', linkpath: '../../../../../..' },
    { path: 'up/pwned2', body: 'pwned2' },
  ]));

  assert.deepEqual(readdirSync(outside), []);
  assert.equal(existsSync(join(rootfs, 'escape')) || existsSync(join(rootfs, '..', 'escape')), false);
  assert.equal(readFileSync(join(rootfs, 'dest/abs'), 'utf8'), 'abs');
  assert.equal(readFileSync(join(rootfs, outside, 'pwned'), 'utf8'), 'pwned'); // the link, as the container sees it
  assert.equal(readFileSync(join(rootfs, 'pwned2'), 'utf8'), 'pwned2');
});

test('symlinks already in rootfs are followed inside it only, and replaced rather than written through', async (t) => {
  const rootfs = tempDir(t, 'rootfs');
  const outside = tempDir(t, 'outside');
  mkdirSync(join(rootfs, 'etc'));
  symlinkSync(outside, join(rootfs, 'etc/evil'));
  symlinkSync(join(outside, 'file'), join(rootfs, 'etc/evilfile'));

  // As a destination: outside's path does not exist inside rootfs.
  await assert.rejects(extractIntoRootfs(rootfs, '/etc/evil', tarball([{ path: 'x' }])), isKind('NotFound'));

  await extractIntoRootfs(rootfs, '/etc', tarball([
    { path: 'evil/passwd', body: 'root::0:0::/:/bin/sh\n' },
    { path: 'evilfile', body: 'replaced' },
  ]));

  assert.deepEqual(readdirSync(outside), []);
  assert.equal(readFileSync(join(rootfs, outside, 'passwd'), 'utf8'), 'root::0:0::/:/bin/sh\n');
  assert.ok(lstatSync(join(rootfs, 'etc/evilfile')).isFile());
  assert.equal(readFileSync(join(rootfs, 'etc/evilfile'), 'utf8'), 'replaced');
});

test('extraction point must be a directory; noOverwriteDirNonDir refuses to swap kinds', async (t) => {
  const rootfs = tempDir(t, 'rootfs');
  writeFileSync(join(rootfs, 'file'), '');
  mkdirSync(join(rootfs, 'dir'));
  mkdirSync(join(rootfs, 'dir/d'));

  await assert.rejects(extractIntoRootfs(rootfs, '/file', tarball([{ path: 'x' }])), isKind('InvalidArgument'));
  await assert.rejects(extractIntoRootfs(rootfs, '/nope', tarball([{ path: 'x' }])), isKind('NotFound'));
  await assert.rejects(
    extractIntoRootfs(rootfs, '/dir', tarball([{ path: 'd', body: 'file now' }]), { noOverwriteDirNonDir: true }),
    isKind('InvalidArgument'),
  );
  assert.ok(lstatSync(join(rootfs, 'dir/d')).isDirectory());
});

test('statInRootfs: NotFound when missing, symlinks not followed but resolved in linkTarget', (t) => {
  const rootfs = tempDir(t, 'stat');
  mkdirSync(join(rootfs, 'etc'));
  chmodSync(join(rootfs, 'etc'), 0o755);
  writeFileSync(join(rootfs, 'etc/hostname'), 'box\n');
  chmodSync(join(rootfs, 'etc/hostname'), 0o644);
  symlinkSync('../../../etc/hostname', join(rootfs, 'etc/link'));

  assert.throws(() => statInRootfs(rootfs, '/etc/missing'), (err: unknown) =>
    isKind('NotFound')(err) && (err as Error).message === 'Could not find the file /etc/missing in container');
  assert.throws(() => statInRootfs(rootfs, '/etc/hostname/'), isKind('NotFound'));

  const file = statInRootfs(rootfs, '/etc/hostname');
  assert.equal(file.name, 'hostname');
  assert.equal(file.size, 4);
  assert.equal(file.mode, 0o644);
  assert.match(file.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(statInRootfs(rootfs, '/etc').mode, 2 ** 31 + 0o755);

  const link = statInRootfs(rootfs, '/etc/link');
  assert.equal(link.mode, 2 ** 27 + 0o777);
  assert.equal(link.linkTarget, '/etc/hostname');
});

test('encodePathStat is base64 of the JSON Docker sends', () => {
  const stat = { name: 'hostname', size: 4, mode: 420, mtime: '2024-01-02T03:04:05.5Z', linkTarget: '' };
  assert.deepEqual(JSON.parse(Buffer.from(encodePathStat(stat), 'base64').toString('utf8')), stat);
});
