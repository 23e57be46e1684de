import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readTar, type TarEntry } from './reader.ts';
import { blockPadding, encodeHeader, END_OF_ARCHIVE, splitName, type HeaderFields } from './writer.ts';

const MTIME = new Date('2021-03-04T05:06:07Z');

interface Written extends HeaderFields {
  body?: Buffer;
}

function archive(entries: Written[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.body ?? Buffer.alloc(0);
    parts.push(encodeHeader({ ...entry, size: body.length }), body, Buffer.alloc(blockPadding(body.length)));
  }
  return Buffer.concat([...parts, END_OF_ARCHIVE]);
}

type Read = Omit<TarEntry, 'body'> & { data: Buffer };

async function read(data: Buffer): Promise<Read[]> {
  const out: Read[] = [];
  for await (const { body, ...entry } of readTar(Readable.from([data])[Symbol.asyncIterator]())) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    out.push({ ...entry, data: Buffer.concat(chunks) });
  }
  return out;
}

test('entries of every kind read back as written', async () => {
  const entries: Written[] = [
    { path: 'dir/', kind: 'dir', mode: 0o755, uid: 1, gid: 2, mtime: MTIME },
    { path: 'dir/file', kind: 'file', mode: 0o4755, uid: 1000, gid: 1000, mtime: MTIME, body: Buffer.alloc(1000, 9) },
    { path: 'dir/link', kind: 'symlink', linkpath: '/etc/passwd', mode: 0o777, mtime: MTIME },
    { path: 'dir/hard', kind: 'hardlink', linkpath: 'dir/file', mode: 0o755, mtime: MTIME },
    { path: 'dev/null', kind: 'char', mode: 0o666, devmajor: 1, devminor: 3, mtime: MTIME },
    { path: 'dev/sda', kind: 'block', mode: 0o660, devmajor: 8, devminor: 0, mtime: MTIME },
    { path: 'run/fifo', kind: 'fifo', mode: 0o600, mtime: MTIME },
  ];
  const got = await read(archive(entries));
  assert.deepEqual(got.map((e) => [e.path, e.kind, e.linkpath, e.mode, e.uid, e.gid, e.size, e.mtime.getTime(), e.devmajor, e.devminor]), entries.map((e) => [
    e.path, e.kind, e.linkpath ?? '', e.mode, e.uid ?? 0, e.gid ?? 0, e.body?.length ?? 0, MTIME.getTime(), e.devmajor ?? 0, e.devminor ?? 0,
  ]));
  assert.deepEqual(got[1]!.data, Buffer.alloc(1000, 9));
  assert.ok(got.every((e) => e.xattrs.size === 0));
});

test('a name up to 256 bytes is split into ustar prefix and name; longer ones, link targets over 100 and non-ASCII names go to PAX', async () => {
  const split = `${'p'.repeat(150)}/${'n'.repeat(99)}`;
  assert.deepEqual(splitName(split), { prefix: 'p'.repeat(150), name: 'n'.repeat(99) });
  assert.equal(splitName(`${'p'.repeat(160)}/n`), undefined, 'prefix too long');
  assert.equal(splitName('n'.repeat(101)), undefined, 'no slash to split at');
  assert.equal(encodeHeader({ path: split, kind: 'file', mode: 0o644, mtime: MTIME }).length, 512, 'no PAX header needed');

  const deep = `${'d'.repeat(200)}/${'e'.repeat(200)}/file`;
  const dirWithSlash = `${'s'.repeat(60)}/${'t'.repeat(60)}/`;
  const linkTarget = `/${'l'.repeat(300)}`;
  const entries: Written[] = [
    { path: deep, kind: 'file', mode: 0o644, mtime: MTIME, body: Buffer.from('deep') },
    { path: dirWithSlash, kind: 'dir', mode: 0o755, mtime: MTIME },
    { path: 'link', kind: 'symlink', linkpath: linkTarget, mode: 0o777, mtime: MTIME },
    { path: 'héllo/wörld', kind: 'file', mode: 0o644, mtime: MTIME, body: Buffer.from('utf8') },
  ];
  const data = archive(entries);
  const got = await read(data);
  assert.deepEqual(got.map((e) => e.path), [deep, dirWithSlash, 'link', 'héllo/wörld']);
  assert.equal(got[2]!.linkpath, linkTarget);
  assert.deepEqual(got.map((e) => e.data.toString()), ['deep', '', '', 'utf8']);
  // Three PAX headers (deep, link, héllo): each is one header block plus one of records.
  assert.equal(data.length, 512 * (3 * 2 + 4 + 2) + 512 * 2);
});

test('numbers beyond ustar\'s octal fields go to PAX: uid, gid, size, a negative mtime', async () => {
  const before1970 = new Date('1960-01-01T00:00:00Z');
  const got = await read(archive([
    { path: 'big-ids', kind: 'file', mode: 0o644, uid: 3_000_000_000, gid: 2_097_152, mtime: MTIME },
    { path: 'old', kind: 'dir', mode: 0o755, mtime: before1970 },
  ]));
  assert.deepEqual([got[0]!.uid, got[0]!.gid], [3_000_000_000, 2_097_152]);
  assert.equal(got[1]!.mtime.getTime(), before1970.getTime());

  // A 10 GiB file: its header alone, read without the body.
  const size = 10 * 2 ** 30;
  const header = encodeHeader({ path: 'huge', kind: 'file', mode: 0o644, size, mtime: MTIME });
  assert.equal(header.length, 512 * 3);
  const entries = readTar(Readable.from([header])[Symbol.asyncIterator]());
  const first = await entries.next();
  assert.equal(first.done, false);
  assert.equal((first.value as TarEntry).size, size);
  await entries.return();
});

test('xattrs are PAX SCHILY.xattr records, binary values byte for byte', async () => {
  const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x0a, 0x3d, 0x00]);
  const xattrs = new Map([['security.capability', capability], ['user.note', Buffer.from('a=b\nc')]]);
  const [entry] = await read(archive([{ path: 'bin/ping', kind: 'file', mode: 0o755, mtime: MTIME, xattrs, body: Buffer.from('elf') }]));
  assert.deepEqual([...entry!.xattrs], [...xattrs]);
  assert.equal(entry!.data.toString(), 'elf');
});

test('GNU tar reads what the writer writes: long names, long link targets, ids', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const deep = `${'a'.repeat(120)}/${'b'.repeat(120)}/${'c'.repeat(120)}`;
  const target = `/${'t'.repeat(150)}`;
  writeFileSync(join(dir, 'out.tar'), archive([
    { path: deep, kind: 'file', mode: 0o640, uid: 4_000_000, gid: 7, mtime: MTIME, body: Buffer.from('x'.repeat(700)) },
    { path: 'link', kind: 'symlink', linkpath: target, mode: 0o777, mtime: MTIME },
  ]));
  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', join(dir, 'out.tar')], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  const [file, link] = listing.trim().split('\n');
  assert.match(file!, new RegExp(`^-rw-r----- 4000000/7 +700 2021-03-04 05:06 ${deep}$`));
  assert.match(link!, new RegExp(`^lrwxrwxrwx 0/0 +0 2021-03-04 05:06 link -> ${target}$`));
});
