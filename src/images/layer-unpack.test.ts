import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, constants, linkSync, openSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync,
  symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { TreePacker } from '../lib/tar/pack.ts';
import { END_OF_ARCHIVE, splitName, ustarBlock } from '../lib/tar/writer.ts';
import { unpackLayer } from './layer-unpack.ts';
import { EngineError } from '../protocol/errors.ts';

const MTIME = new Date('2020-02-02T02:02:02Z');
const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

interface Dirs {
  parent: string;
  layer: string;
  sentinel: string;
}

/** A temp parent holding the layer dir and a sentinel file that must never be touched. */
function dirs(t: TestContext): Dirs {
  const parent = mkdtempSync(join(tmpdir(), 'berth-layer-unpack-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const layer = join(parent, 'layer');
  mkdirSync(layer);
  const sentinel = join(parent, 'sentinel');
  writeFileSync(sentinel, 'untouched');
  utimesSync(sentinel, MTIME, MTIME);
  return { parent, layer, sentinel };
}

function assertOutsideUntouched({ parent, sentinel }: Dirs): void {
  assert.deepEqual(readdirSync(parent).sort(), ['layer', 'sentinel']);
  const st = lstatSync(sentinel);
  assert.ok(st.isFile());
  assert.equal(st.nlink, 1);
  assert.equal(st.mtimeMs, MTIME.getTime());
  assert.equal(readFileSync(sentinel, 'utf8'), 'untouched');
}

interface RawEntry {
  path: string;
  type?: string; // tar type code, '0' by default
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
  pax?: Record<string, string | Buffer>;
  gnu?: boolean; // GNU tar's "ustar  \0" magic instead of POSIX ustar
}

function paxRecord(key: string, value: string | Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function headerBlock(entry: RawEntry, size: number): Buffer {
  const type = entry.type ?? '0';
  const split = splitName(entry.path) ?? { prefix: '', name: entry.path };
  const block = ustarBlock({
    typeflag: type,
    ...split,
    mode: entry.mode ?? (type === '5' ? 0o755 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size,
    mtimeSeconds: MTIME.getTime() / 1000,
    linkname: entry.linkpath ?? '',
    devmajor: entry.devmaj ?? 0,
    devminor: entry.devmin ?? 0,
  });
  if (entry.gnu) {
    // GNU tar has no prefix field: the name field holds the path's first 100 bytes.
    block.fill(0, 0, 100).fill(0, 345, 500).write(entry.path.slice(0, 100), 0);
    block.write('ustar  \0', 257, 'latin1');
    block.fill(0x20, 148, 156);
    const sum = block.reduce((a, b) => a + b, 0);
    block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  }
  return block;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** A tar written header by header, so that it can say what a well-behaved tar writer would not. */
function rawTar(entries: RawEntry[], { end = true } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    if (entry.pax) {
      const data = Buffer.concat(Object.entries(entry.pax).map(([k, v]) => paxRecord(k, v)));
      blocks.push(headerBlock({ path: 'PaxHeader', type: 'x' }, data.length), data, pad(data.length));
    }
    const body = Buffer.from(entry.body ?? '');
    blocks.push(headerBlock(entry, body.length), body, pad(body.length));
  }
  if (end) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** The bytes as a stream of small, oddly sized chunks (exercises buffering across block boundaries). */
function chunked(data: Buffer, size = 333): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks);
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function unpack(data: Buffer, dir: string) {
  return unpackLayer(chunked(data), dir);
}

async function assertRejected(data: Buffer, d: Dirs, message: RegExp): Promise<void> {
  await assert.rejects(unpack(data, d.layer), (err: unknown) => {
    assert.ok(EngineError.is(err), `not an EngineError: ${String(err)}`);
    assert.equal(err.kind, 'InvalidArgument', err.message);
    assert.match(err.message, message);
    return true;
  });
  assertOutsideUntouched(d);
}

function getfattr(path: string, name: string): Buffer {
  return execFileSync('getfattr', ['-h', '-n', name, '--only-values', path], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function assertWhiteout(path: string): void {
  const st = lstatSync(path);
  assert.ok(st.isCharacterDevice(), `${path} is not a whiteout`);
  assert.equal(st.rdev, 0);
}

async function packDir(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for await (const chunk of new TreePacker().entry(dirFd, '.', '.')) chunks.push(chunk);
  } finally {
    closeSync(dirFd);
  }
  return Buffer.concat([...chunks, END_OF_ARCHIVE]);
}

test('a tar made by lib/tar\'s packer: files, dirs, symlinks kept as-is, hard links, owners, mtimes, diffId and size', async (t) => {
  const d = dirs(t);
  const staged = join(d.parent, 'staged');
  const longDir = join('deep', 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(join(staged, 'etc'), { recursive: true });
  mkdirSync(join(staged, 'bin'));
  mkdirSync(join(staged, longDir), { recursive: true });
  writeFileSync(join(staged, 'etc', 'conf'), 'key=value\n');
  chmodSync(join(staged, 'etc', 'conf'), 0o640);
  chownSync(join(staged, 'etc', 'conf'), 1000, 1001);
  writeFileSync(join(staged, 'bin', 'tool'), Buffer.alloc(5000, 7));
  chmodSync(join(staged, 'bin', 'tool'), 0o755);
  linkSync(join(staged, 'bin', 'tool'), join(staged, 'bin', 'tool-link'));
  symlinkSync('/etc/alternatives/editor', join(staged, 'bin', 'absolute'));
  symlinkSync('../../../../../outside', join(staged, 'bin', 'up'));
  symlinkSync('absolute', join(staged, 'bin', 'chain'));
  writeFileSync(join(staged, longDir, 'file'), 'long');
  for (const p of ['etc/conf', 'bin/tool', longDir + '/file', 'etc', 'bin', longDir, '.']) utimesSync(join(staged, p), MTIME, MTIME);
  const archive = await packDir(staged);
  rmSync(staged, { recursive: true });

  const result = await unpack(archive, d.layer);
  assert.equal(result.diffId, sha256(archive));
  assert.equal(result.size, 10 + 5000 + 4);

  const conf = lstatSync(join(d.layer, 'etc', 'conf'));
  assert.equal(readFileSync(join(d.layer, 'etc', 'conf'), 'utf8'), 'key=value\n');
  assert.equal(conf.mode & 0o7777, 0o640);
  assert.deepEqual([conf.uid, conf.gid], [1000, 1001]);
  assert.equal(conf.mtimeMs, MTIME.getTime());
  assert.equal(lstatSync(join(d.layer, 'etc')).mtimeMs, MTIME.getTime(), 'directory mtime restored after its children');
  assert.equal(lstatSync(join(d.layer, 'bin')).mtimeMs, MTIME.getTime());
  assert.equal(lstatSync(join(d.layer, 'bin', 'tool')).mode & 0o7777, 0o755);
  assert.equal(lstatSync(join(d.layer, 'bin', 'tool')).ino, lstatSync(join(d.layer, 'bin', 'tool-link')).ino);
  assert.equal(readlinkSync(join(d.layer, 'bin', 'absolute')), '/etc/alternatives/editor');
  assert.equal(readlinkSync(join(d.layer, 'bin', 'up')), '../../../../../outside');
  assert.equal(readlinkSync(join(d.layer, 'bin', 'chain')), 'absolute');
  assert.equal(readFileSync(join(d.layer, longDir, 'file'), 'utf8'), 'long');
  assertOutsideUntouched(d);
});

test('archives written by GNU tar, in its gnu and posix formats (long names, devices, xattrs)', async (t) => {
  const staged = mkdtempSync(join(tmpdir(), 'berth-layer-unpack-staged-'));
  t.after(() => rmSync(staged, { recursive: true, force: true }));
  // A long path whose first 100 bytes end in '/': the truncated name in a GNU header looks like a directory.
  const longDir = join('x'.repeat(49), 'y'.repeat(49));
  const longFile = join(longDir, 'file-with-a-long-name');
  mkdirSync(join(staged, longDir), { recursive: true });
  writeFileSync(join(staged, longFile), 'long content');
  mkdirSync(join(staged, 'dev'));
  execFileSync('mknod', ['-m', '0620', join(staged, 'dev', 'tty1'), 'c', '4', '1']);
  execFileSync('mknod', [join(staged, 'dev', 'pipe'), 'p']);
  writeFileSync(join(staged, 'suid'), 'x');
  chownSync(join(staged, 'suid'), 1234, 1234);
  chmodSync(join(staged, 'suid'), 0o4750);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', join(staged, 'suid')]);
  linkSync(join(staged, 'suid'), join(staged, 'suid-link'));

  for (const format of [['--format=gnu'], ['--format=posix', '--xattrs', '--xattrs-include=*']]) {
    const archive = execFileSync('tar', [...format, '-cf', '-', '-C', staged, '.'], { maxBuffer: 64 << 20 });
    const d = dirs(t);
    const result = await unpack(archive, d.layer);
    assert.equal(result.diffId, sha256(archive));
    assert.equal(readFileSync(join(d.layer, longFile), 'utf8'), 'long content', format[0]);
    const tty = lstatSync(join(d.layer, 'dev', 'tty1'));
    assert.ok(tty.isCharacterDevice());
    assert.deepEqual([tty.rdev, tty.mode & 0o7777], [(4 << 8) | 1, 0o620]);
    assert.ok(lstatSync(join(d.layer, 'dev', 'pipe')).isFIFO());
    const suid = lstatSync(join(d.layer, 'suid'));
    assert.deepEqual([suid.mode & 0o7777, suid.uid, suid.gid, suid.nlink], [0o4750, 1234, 1234, 2]);
    if (format[0] === '--format=posix') assert.equal(getfattr(join(d.layer, 'suid'), 'user.note').toString(), 'hello');
  }
});

test('a GNU long-name file whose truncated header name ends in "/" is still a file', async (t) => {
  const d = dirs(t);
  const long = `${'a'.repeat(99)}/${'b'.repeat(50)}`;
  const archive = rawTar([
    { path: '././@LongLink', type: 'L', body: `${long}\0`, gnu: true },
    { path: long, body: 'not a directory', gnu: true },
    { path: 'after', body: 'still in sync' },
  ]);
  await unpack(archive, d.layer);
  assert.equal(readFileSync(join(d.layer, long), 'utf8'), 'not a directory');
  assert.equal(readFileSync(join(d.layer, 'after'), 'utf8'), 'still in sync');
});

test('gzip and zstd layers: diffId is the sha256 of the uncompressed tar', async (t) => {
  const archive = rawTar([{ path: 'dir/', type: '5' }, { path: 'dir/file', body: 'hello' }]);
  for (const compressed of [zlib.gzipSync(archive), zlib.zstdCompressSync(archive)]) {
    const d = dirs(t);
    const result = await unpack(compressed, d.layer);
    assert.deepEqual(result, { diffId: sha256(archive), size: 5 });
    assert.equal(readFileSync(join(d.layer, 'dir', 'file'), 'utf8'), 'hello');
  }
});

test('an empty tar (two zero blocks) is a valid empty layer', async (t) => {
  const d = dirs(t);
  assert.deepEqual(await unpack(Buffer.alloc(1024), d.layer), { diffId: EMPTY_LAYER_DIFF_ID, size: 0 });
  assert.deepEqual(readdirSync(d.layer), []);
});

test('modes are exact whatever the umask: setuid/setgid files, 0777 and sticky dirs, owned by non-root', async (t) => {
  const d = dirs(t);
  const umask = process.umask(0o077);
  t.after(() => process.umask(umask));
  await unpack(rawTar([
    { path: 'open/', type: '5', mode: 0o777 },
    { path: 'tmp/', type: '5', mode: 0o1777 },
    { path: 'shared/', type: '5', mode: 0o2775, uid: 1000, gid: 1000 },
    { path: 'bin/su', mode: 0o4755, uid: 1000, gid: 1000, body: 'x' },
    { path: 'bin/sg', mode: 0o2711, uid: 0, gid: 42, body: 'y' },
    { path: 'implicit/parent/file', body: 'z' },
  ]), d.layer);
  const mode = (p: string) => statSync(join(d.layer, p)).mode & 0o7777;
  assert.equal(mode('open'), 0o777);
  assert.equal(mode('tmp'), 0o1777);
  assert.equal(mode('shared'), 0o2775);
  assert.equal(mode('bin/su'), 0o4755);
  assert.equal(statSync(join(d.layer, 'bin/su')).uid, 1000);
  assert.equal(mode('bin/sg'), 0o2711);
  assert.equal(statSync(join(d.layer, 'bin/sg')).gid, 42);
  assert.equal(mode('implicit/parent'), 0o755, 'directories the archive does not list are 0755');
});

test('whiteouts become 0/0 character devices and opaque markers an xattr, wherever they appear', async (t) => {
  const d = dirs(t);
  const result = await unpack(rawTar([
    { path: 'a/.wh..wh..opq' }, // before its directory
    { path: 'a/', type: '5', mode: 0o750 },
    { path: 'a/keep', body: 'kept' },
    { path: 'b/', type: '5' },
    { path: 'b/.wh.gone' },
    { path: 'c/sub/.wh.deep' }, // no directory entries at all
    { path: '.wh.top' },
    { path: 'd/.wh.same' },
    { path: 'd/same', body: 'same layer wins' },
    { path: '.wh..wh.plnk/', type: '5' }, // AUFS metadata
  ]), d.layer);
  assert.equal(result.size, 4 + 15);
  assert.equal(getfattr(join(d.layer, 'a'), 'trusted.overlay.opaque').toString(), 'y');
  assert.equal(statSync(join(d.layer, 'a')).mode & 0o7777, 0o750);
  assert.equal(readFileSync(join(d.layer, 'a', 'keep'), 'utf8'), 'kept');
  assert.throws(() => getfattr(join(d.layer, 'b'), 'trusted.overlay.opaque'));
  assertWhiteout(join(d.layer, 'b', 'gone'));
  assertWhiteout(join(d.layer, 'c', 'sub', 'deep'));
  assertWhiteout(join(d.layer, 'top'));
  assert.equal(readFileSync(join(d.layer, 'd', 'same'), 'utf8'), 'same layer wins');
  assert.deepEqual(readdirSync(d.layer).sort(), ['a', 'b', 'c', 'd', 'top']);
  assert.deepEqual(readdirSync(join(d.layer, 'b')), ['gone']);
  assertOutsideUntouched(d);
});

test('device nodes and FIFOs are created with their numbers, mode and owner (POSIX and GNU headers)', async (t) => {
  const d = dirs(t);
  await unpack(rawTar([
    { path: 'dev/null', type: '3', mode: 0o666, devmaj: 1, devmin: 3 },
    { path: 'dev/console', type: '3', mode: 0o600, devmaj: 5, devmin: 1, gnu: true },
    { path: 'dev/loop0', type: '4', mode: 0o660, gid: 6, devmaj: 7, devmin: 0 },
    { path: 'run/fifo', type: '6', mode: 0o620, uid: 5, gid: 5 },
  ]), d.layer);
  const devnull = lstatSync(join(d.layer, 'dev/null'));
  assert.ok(devnull.isCharacterDevice());
  assert.equal(devnull.rdev, (1 << 8) | 3);
  assert.equal(devnull.mode & 0o7777, 0o666);
  assert.equal(lstatSync(join(d.layer, 'dev/console')).rdev, (5 << 8) | 1);
  const loop = lstatSync(join(d.layer, 'dev/loop0'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, 7 << 8);
  assert.deepEqual([loop.mode & 0o7777, loop.gid], [0o660, 6]);
  const fifo = lstatSync(join(d.layer, 'run/fifo'));
  assert.ok(fifo.isFIFO());
  assert.deepEqual([fifo.mode & 0o7777, fifo.uid, fifo.gid], [0o620, 5, 5]);
  assert.equal(fifo.mtimeMs, MTIME.getTime());
});

test('xattrs from PAX headers, binary values intact; trusted.overlay.* from the archive is ignored', async (t) => {
  const d = dirs(t);
  const binary = Buffer.from([0x00, 0x01, 0x0a, 0xff, 0x3d, 0x20]);
  // VFS_CAP_REVISION_2 with the effective bit, permitted = CAP_NET_RAW.
  const capability = Buffer.alloc(20);
  capability.writeUInt32LE(0x02000001, 0);
  capability.writeUInt32LE(1 << 13, 4);
  await unpack(rawTar([
    {
      path: 'bin/ping', mode: 0o755, uid: 7, body: 'ping',
      pax: { 'SCHILY.xattr.user.foo': 'bar', 'SCHILY.xattr.user.bin': binary, 'SCHILY.xattr.security.capability': capability },
    },
    { path: 'lib/', type: '5', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'LIBARCHIVE.xattr.user.lib': Buffer.from('libval').toString('base64') } },
    { path: 'lib/link', type: '2', linkpath: '/nowhere', pax: { 'SCHILY.xattr.user.denied': 'on a symlink' } },
  ]), d.layer);
  const ping = join(d.layer, 'bin/ping');
  assert.equal(getfattr(ping, 'user.foo').toString(), 'bar');
  assert.deepEqual(getfattr(ping, 'user.bin'), binary);
  assert.deepEqual(getfattr(ping, 'security.capability'), capability, 'capability survives the chown');
  assert.equal(statSync(ping).uid, 7);
  assert.equal(getfattr(join(d.layer, 'lib'), 'user.lib').toString(), 'libval');
  assert.throws(() => getfattr(join(d.layer, 'lib'), 'trusted.overlay.opaque'));
  assert.equal(readlinkSync(join(d.layer, 'lib/link')), '/nowhere');
});

test('absolute entry paths are contained in the layer directory', async (t) => {
  const d = dirs(t);
  await unpack(rawTar([{ path: '/abs/file', body: 'in' }, { path: d.sentinel, body: 'overwritten?' }]), d.layer);
  assert.equal(readFileSync(join(d.layer, 'abs/file'), 'utf8'), 'in');
  assert.equal(readFileSync(join(d.layer, d.sentinel), 'utf8'), 'overwritten?');
  assertOutsideUntouched(d);
});

test("'..' is resolved lexically: allowed inside the layer, rejected when it climbs out", async (t) => {
  const inside = dirs(t);
  await unpack(rawTar([{ path: 'a/../b', body: 'b' }]), inside.layer);
  assert.equal(readFileSync(join(inside.layer, 'b'), 'utf8'), 'b');

  for (const path of ['../sentinel', '../escape', 'a/../../escape', './../escape', '/../escape', 'a/b/../../../escape']) {
    const d = dirs(t);
    await assertRejected(rawTar([{ path, body: 'x' }]), d, new RegExp(`"${path.replace(/\./g, '\\.')}".*escapes`));
  }
  const d = dirs(t);
  await assertRejected(rawTar([{ path: 'ok', type: '5' }, { path: 'ok/.wh...', body: '' }]), d, /whiteout/);
});

test('nothing is written through a symlink from the archive, whatever follows it', async (t) => {
  const follow = (d: Dirs): RawEntry[][] => [
    [{ path: 'a', type: '2', linkpath: d.parent }, { path: 'a/sentinel', body: 'pwned' }],
    [{ path: 'a', type: '2', linkpath: '../../..' + d.parent }, { path: 'a/new', body: 'pwned' }],
    [{ path: 'x/', type: '5' }, { path: 'x/a', type: '2', linkpath: '../..' }, { path: 'x/a/new/', type: '5' }],
    [{ path: 'f', body: 'f' }, { path: 'a', type: '2', linkpath: d.parent }, { path: 'a/new', type: '1', linkpath: 'f' }],
    [{ path: 'a', type: '2', linkpath: d.parent }, { path: 'a/fifo', type: '6' }],
    [{ path: 'a', type: '2', linkpath: d.parent }, { path: 'a/.wh.sentinel' }],
    [{ path: 'a', type: '2', linkpath: d.parent }, { path: 'a/.wh..wh..opq' }],
    [{ path: 'a/.wh.sentinel' }, { path: 'a', type: '2', linkpath: d.parent }], // whiteout first, symlink later
    [{ path: 'a/', type: '5' }, { path: 'a', type: '2', linkpath: d.parent }, { path: 'a/sentinel', body: 'pwned' }],
  ];
  for (let i = 0; i < follow(dirs(t)).length; i++) {
    const d = dirs(t);
    await assertRejected(rawTar(follow(d)[i]!), d, /symlink/);
  }
});

test('an entry replacing a symlink replaces the link, never its target', async (t) => {
  const d = dirs(t);
  await unpack(rawTar([
    { path: 'a', type: '2', linkpath: d.sentinel },
    { path: 'a', body: 'replaced' },
    { path: 'dir', type: '2', linkpath: d.parent },
    { path: 'dir/', type: '5' },
    { path: 'keep', type: '2', linkpath: d.sentinel },
  ]), d.layer);
  assert.equal(readFileSync(join(d.layer, 'a'), 'utf8'), 'replaced');
  assert.ok(lstatSync(join(d.layer, 'dir')).isDirectory());
  assert.equal(readlinkSync(join(d.layer, 'keep')), d.sentinel);
  assertOutsideUntouched(d);
});

test('later entries replace earlier ones of another type', async (t) => {
  const d = dirs(t);
  await unpack(rawTar([
    { path: 'x', body: 'file first' },
    { path: 'x/', type: '5' },
    { path: 'x/y', body: 'y' },
    { path: 'd/', type: '5' },
    { path: 'd/child', body: 'c' },
    { path: 'd', body: 'now a file' },
    { path: 'd2/child', body: 'c' },
    { path: 'd2', type: '2', linkpath: 'x' },
  ]), d.layer);
  assert.equal(readFileSync(join(d.layer, 'x/y'), 'utf8'), 'y');
  assert.equal(readFileSync(join(d.layer, 'd'), 'utf8'), 'now a file');
  assert.equal(readlinkSync(join(d.layer, 'd2')), 'x');
});

test('hard links must point inside the layer', async (t) => {
  for (const linkpath of ['../sentinel', '/etc/passwd', 'a/../../sentinel']) {
    const d = dirs(t);
    await assertRejected(rawTar([{ path: 'link', type: '1', linkpath }]), d, /"link".*(absolute|escapes)/);
  }
  const d = dirs(t);
  await assertRejected(rawTar([{ path: 'link', type: '1', linkpath: d.sentinel }]), d, /absolute/);
  const missing = dirs(t);
  await assertRejected(rawTar([{ path: 'link', type: '1', linkpath: 'nothing' }]), missing, /missing/);
});

/** Gzip with its 8-byte trailer (CRC, length) cut off. */
const gzipTruncated = (data: Buffer) => {
  const gz = zlib.gzipSync(data);
  return gz.subarray(0, gz.length - 8);
};

test('empty, garbage, truncated and corrupt input is rejected as InvalidArgument', async (t) => {
  const good = rawTar([{ path: 'file', body: Buffer.alloc(3000, 1) }, { path: 'other', body: 'o' }]);
  const cases: [string, Buffer, RegExp][] = [
    ['empty stream', Buffer.alloc(0), /empty/],
    ['garbage', Buffer.from('this is certainly not a tar archive'.repeat(40)), /not a tar/],
    ['truncated in a body', good.subarray(0, 1500), /truncated/],
    ['truncated in a header', good.subarray(0, 512 + 3072 + 100), /truncated/],
    ['corrupt second header', Buffer.concat([good.subarray(0, 3584), Buffer.alloc(512, 0x41), good.subarray(4096)]), /corrupt.*after entry "file"/],
    ['extended header without its entry', rawTar([{ path: 'p', pax: { path: 'long' } }]).subarray(0, 1024), /truncated/],
    ['truncated gzip', gzipTruncated(good), /decompression/],
    ['corrupt gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(600, 0x55)]), /decompression/],
    ['corrupt zstd', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600, 0x55)]), /decompression/],
    ['sparse file', rawTar([{ path: 's', type: 'S', body: 'x' }]), /unsupported/],
  ];
  for (const [name, data, message] of cases) {
    await t.test(name, async (t) => assertRejected(data, dirs(t), message));
  }
});
