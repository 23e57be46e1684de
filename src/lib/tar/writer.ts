import type { EntryKind } from './reader.ts';

/**
 * Tar headers as Go's archive/tar writes them for Docker (ustar, with a PAX extended header
 * in front when a name, a number or an xattr does not fit), read back by `reader.ts`.
 */

export interface HeaderFields {
  path: string;
  kind: EntryKind;
  linkpath?: string;
  mode: number;
  uid?: number;
  gid?: number;
  /** Of a regular file's data; header-only kinds have none. */
  size?: number;
  mtime: Date;
  devmajor?: number;
  devminor?: number;
  /** Written as SCHILY.xattr.<name> PAX records, byte for byte. */
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAGS: Record<EntryKind, string> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(1024);

/** The zero bytes that fill `size` bytes of data up to a whole block. */
export const blockPadding = (size: number): number => (512 - (size % 512)) % 512;

/** The largest value of an octal field of `width` bytes (one is kept for the terminating NUL). */
const octalMax = (width: number) => 8 ** (width - 1) - 1;

const isAscii = (text: string) => /^[\x01-\x7f]*$/.test(text);

/** ustar's split of a long name: prefix (≤155 bytes) + '/' + name (≤100 bytes), or undefined. */
export function splitName(path: string): { prefix: string; name: string } | undefined {
  if (!isAscii(path)) return undefined;
  if (path.length <= 100) return { prefix: '', name: path };
  // The name part may end in '/' (a directory): never split there.
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
    const prefix = path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (prefix.length > 155) return undefined;
    if (name.length <= 100 && name !== '' && name !== '/') return { prefix, name };
  }
  return undefined;
}

/** A PAX record: "<len> <key>=<value>\n", where len counts the whole record. */
export function paxRecord(key: string, value: string | Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
  let length = rest.length + 1;
  while (String(length).length + rest.length !== length) length = String(length).length + rest.length;
  return Buffer.concat([Buffer.from(String(length)), rest]);
}

export interface RawHeader {
  /** The type flag as written: '0', '5', 'x', 'L', … */
  typeflag: string;
  name: string;
  prefix?: string;
  linkname?: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeSeconds: number;
  devmajor?: number;
  devminor?: number;
}

function writeText(block: Buffer, offset: number, width: number, text: string): void {
  block.write(text, offset, width, 'utf8');
}

/** Octal with leading zeros and a NUL; a value too big for that goes in GNU base-256 (and in PAX, by the caller). */
function writeNumber(block: Buffer, offset: number, width: number, value: number): void {
  if (value >= 0 && value <= octalMax(width)) {
    block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
    return;
  }
  let rest = BigInt(Math.max(0, Math.trunc(value)));
  for (let i = width - 1; i > 0; i--) {
    block[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  block[offset] = 0x80;
}

/** One 512-byte ustar header block, exactly as given (no PAX, nothing checked). */
export function ustarBlock(h: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  writeText(block, 0, 100, h.name);
  writeNumber(block, 100, 8, h.mode & 0o7777);
  writeNumber(block, 108, 8, h.uid);
  writeNumber(block, 116, 8, h.gid);
  writeNumber(block, 124, 12, h.size);
  writeNumber(block, 136, 12, h.mtimeSeconds);
  block.write(h.typeflag, 156, 1, 'latin1');
  writeText(block, 157, 100, h.linkname ?? '');
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeNumber(block, 329, 8, h.devmajor ?? 0);
  writeNumber(block, 337, 8, h.devminor ?? 0);
  writeText(block, 345, 155, h.prefix ?? '');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/**
 * The header of one entry: a ustar block, preceded by a PAX extended header (its own block and
 * records) when the path or link target is too long or not ASCII, a number is out of ustar's
 * range, or there are xattrs.
 */
export function encodeHeader(fields: HeaderFields): Buffer {
  const uid = fields.uid ?? 0;
  const gid = fields.gid ?? 0;
  const size = fields.kind === 'file' ? (fields.size ?? 0) : 0;
  const mtimeSeconds = Math.floor(fields.mtime.getTime() / 1000);
  const linkpath = fields.linkpath ?? '';
  const records: Buffer[] = [];

  const split = splitName(fields.path);
  if (!split) records.push(paxRecord('path', fields.path));
  if (!isAscii(linkpath) || linkpath.length > 100) records.push(paxRecord('linkpath', linkpath));
  if (size > octalMax(12)) records.push(paxRecord('size', String(size)));
  if (uid > octalMax(8)) records.push(paxRecord('uid', String(uid)));
  if (gid > octalMax(8)) records.push(paxRecord('gid', String(gid)));
  const mtimeFits = mtimeSeconds >= 0 && mtimeSeconds <= octalMax(12);
  if (!mtimeFits) records.push(paxRecord('mtime', String(mtimeSeconds)));
  for (const [name, value] of fields.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));

  const header = ustarBlock({
    typeflag: TYPEFLAGS[fields.kind],
    // What does not fit is cut; a reader that knows PAX takes the record instead.
    name: split?.name ?? fields.path.slice(0, 100),
    prefix: split?.prefix ?? '',
    linkname: linkpath.slice(0, 100),
    mode: fields.mode,
    uid,
    gid,
    size,
    mtimeSeconds: mtimeFits ? mtimeSeconds : 0,
    devmajor: fields.devmajor,
    devminor: fields.devminor,
  });
  if (records.length === 0) return header;

  const data = Buffer.concat(records);
  const base = fields.path.replace(/\/+$/, '').split('/').at(-1) ?? '';
  const paxHeader = ustarBlock({
    typeflag: 'x',
    name: `PaxHeaders.0/${base}`.slice(0, 100),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtimeSeconds: mtimeFits ? mtimeSeconds : 0,
  });
  return Buffer.concat([paxHeader, data, Buffer.alloc(blockPadding(data.length)), header]);
}
