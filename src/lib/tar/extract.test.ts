import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync, closeSync, constants, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync,
  rmSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EngineError } from '../../protocol/errors.ts';
import { extractToDirectory, type ExtractOptions } from './extract.ts';
import { TreePacker, type PackOptions } from './pack.ts';
import { readTar } from './reader.ts';
import { blockPadding, encodeHeader, END_OF_ARCHIVE, type HeaderFields } from './writer.ts';

const MTIME = new Date('2022-02-02T02:02:02Z');

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-extract-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function pack(dir: string, name: string, options?: PackOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for await (const chunk of new TreePacker(options).entry(fd, name, name)) chunks.push(chunk);
  } finally {
    closeSync(fd);
  }
  return Buffer.concat([...chunks, END_OF_ARCHIVE]);
}

const entries = (data: Buffer) => readTar(Readable.from([data])[Symbol.asyncIterator]());
const extract = (dir: string, data: Buffer, options?: ExtractOptions) => extractToDirectory(dir, entries(data), options);

function raw(list: (Omit<HeaderFields, 'mode' | 'mtime'> & { body?: string })[]): Buffer {
  const parts = list.flatMap(({ body = '', ...fields }) => [
    encodeHeader({ mode: fields.kind === 'dir' ? 0o755 : 0o644, mtime: MTIME, ...fields, size: body.length }),
    Buffer.from(body), Buffer.alloc(blockPadding(body.length)),
  ]);
  return Buffer.concat([...parts, END_OF_ARCHIVE]);
}

const invalid = (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument';

test('a tree packed and extracted again: contents, modes, mtimes, symlinks, hard links, renamed first element', async (t) => {
  const from = tempDir(t);
  const to = tempDir(t);
  mkdirSync(join(from, 'src/sub'), { recursive: true });
  writeFileSync(join(from, 'src/a'), 'alpha');
  chmodSync(join(from, 'src/a'), 0o664);
  writeFileSync(join(from, 'src/sub/b'), 'beta');
  chmodSync(join(from, 'src/sub/b'), 0o600);
  linkSync(join(from, 'src/a'), join(from, 'src/hard'));
  symlinkSync('/nowhere', join(from, 'src/link'));
  for (const p of ['src/a', 'src/sub', 'src']) utimesSync(join(from, p), MTIME, MTIME);

  const data = await pack(from, 'src', { portable: true, rename: (n) => n.replace(/^src/, 'dst') });
  const names: string[] = [];
  for await (const entry of entries(data)) {
    names.push(entry.path);
    assert.deepEqual([entry.uid, entry.gid], [0, 0], 'portable: no owners');
  }
  assert.deepEqual(names, ['dst/', 'dst/a', 'dst/hard', 'dst/link', 'dst/sub/', 'dst/sub/b']);

  await extract(to, data);
  assert.equal(readFileSync(join(to, 'dst/a'), 'utf8'), 'alpha');
  assert.equal(lstatSync(join(to, 'dst/a')).mode & 0o7777, 0o664, 'modes exact, whatever the umask');
  assert.equal(lstatSync(join(to, 'dst/sub/b')).mode & 0o7777, 0o600);
  assert.equal(lstatSync(join(to, 'dst/hard')).ino, lstatSync(join(to, 'dst/a')).ino);
  assert.equal(readlinkSync(join(to, 'dst/link')), '/nowhere');
  assert.equal(lstatSync(join(to, 'dst')).mtimeMs, MTIME.getTime(), 'directory times set after their contents');
  assert.equal(lstatSync(join(to, 'dst/sub')).mtimeMs, MTIME.getTime());

  // Extracting again replaces files and merges directories; a rename applies to hard link targets too.
  writeFileSync(join(to, 'dst/a'), 'changed');
  await extract(to, data, { rename: (n) => n.replace(/^dst/, 'again') });
  assert.equal(readFileSync(join(to, 'again/a'), 'utf8'), 'alpha');
  assert.equal(lstatSync(join(to, 'again/hard')).ino, lstatSync(join(to, 'again/a')).ino);
  await extract(to, data);
  assert.equal(readFileSync(join(to, 'dst/a'), 'utf8'), 'alpha');
});

test('names stay inside the directory: absolute names contained, .. that climbs out and writes through symlinks refused', async (t) => {
  const parent = tempDir(t);
  const dir = join(parent, 'dest');
  mkdirSync(dir);
  await extract(dir, raw([{ path: '/abs', kind: 'file', body: 'contained' }]));
  assert.equal(readFileSync(join(dir, 'abs'), 'utf8'), 'contained');

  await assert.rejects(extract(dir, raw([{ path: '../escape', kind: 'file', body: 'x' }])), invalid);
  await assert.rejects(extract(dir, raw([
    { path: 'up', kind: 'symlink', linkpath: parent },
    { path: 'up/pwned', kind: 'file', body: 'x' },
  ])), invalid);
  await assert.rejects(extract(dir, raw([{ path: 'hl', kind: 'hardlink', linkpath: '../../etc/passwd' }])), invalid);
  await assert.rejects(extract(dir, raw([{ path: 'hl', kind: 'hardlink', linkpath: '/etc/passwd' }])), invalid);
  assert.deepEqual(readdirSync(parent), ['dest']);
  assert.equal(existsSync(join(dir, 'hl')), false);
});

test('noOverwriteDirNonDir refuses to swap a directory and a non-directory; devices and FIFOs are skipped', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'f'), 'file');
  const noSwap = { noOverwriteDirNonDir: true };
  await assert.rejects(extract(dir, raw([{ path: 'd', kind: 'file', body: 'x' }]), noSwap), invalid);
  await assert.rejects(extract(dir, raw([{ path: 'f/', kind: 'dir' }]), noSwap), invalid);
  assert.ok(lstatSync(join(dir, 'd')).isDirectory());
  assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'file');

  await extract(dir, raw([
    { path: 'null', kind: 'char', devmajor: 1, devminor: 3 },
    { path: 'fifo', kind: 'fifo' },
    { path: 'd', kind: 'file', body: 'replaced' },
  ]));
  assert.deepEqual(readdirSync(dir).sort(), ['d', 'f']);
  assert.equal(readFileSync(join(dir, 'd'), 'utf8'), 'replaced');
});
