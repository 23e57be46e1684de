import { invalidArgument, type EngineError } from '../../protocol/errors.ts';

/**
 * A pull-based tar reader following Go's archive/tar (what image builders and Docker use).
 * node-tar is not used here: its Pax parser drops `SCHILY.xattr.*` and decodes values as UTF-8
 * cut at the first NUL (destroying binary xattrs such as security.capability), and its Header
 * turns a GNU long-name file whose truncated 100-byte name ends in '/' into an empty directory,
 * desynchronising the stream.
 */

export interface ReadOptions {
  /** What the archive is, in error messages: "<subject> archive is truncated". */
  subject?: string;
  /** An input with no bytes at all is an archive without entries (Docker's PUT archive) instead of an error. */
  allowEmpty?: boolean;
}

/** Builds the InvalidArgument errors of one read, worded for its subject. */
type Fail = (what: string) => EngineError;

export type EntryKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** As recorded in the archive; not yet cleaned or checked. */
  path: string;
  kind: EntryKind;
  linkpath: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  atime: Date | undefined;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
  /** The entry's data; the reader discards whatever is left unread when asked for the next entry. */
  body: AsyncIterable<Buffer>;
}

const KINDS: Record<string, EntryKind> = {
  '0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', 'D': 'dir', '6': 'fifo',
};
// Go's isHeaderOnlyType: whatever their size field says, these have no data blocks.
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
const MAX_META_SIZE = 1 << 20;

interface Pax {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  atime?: Date;
  sparse?: boolean;
  xattrs: Map<string, Buffer>;
}

/** Buffered reads over an async iterator of chunks. */
class ByteReader {
  #input: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;
  readonly #truncated: () => EngineError;

  constructor(input: AsyncIterator<Buffer>, truncated: () => EngineError) {
    this.#input = input;
    this.#truncated = truncated;
  }

  async #more(): Promise<boolean> {
    if (this.#eof) return false;
    const next = await this.#input.next();
    if (next.done) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? next.value : Buffer.concat([this.#buf, next.value]);
    return true;
  }

  /** Up to n bytes; fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n && (await this.#more()));
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** The next 1..max bytes that are already buffered (or one more chunk); throws at the end of the input. */
  async piece(max: number): Promise<Buffer> {
    if (this.#buf.length === 0 && !(await this.#more())) throw this.#truncated();
    const out = this.#buf.subarray(0, max);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  async discard(n: number): Promise<void> {
    while (n > 0) n -= (await this.piece(n)).length;
  }

  /** Consume the rest of the input (so that it is hashed too). */
  async drain(): Promise<void> {
    this.#buf = Buffer.alloc(0);
    while (await this.#more()) this.#buf = Buffer.alloc(0);
  }
}

interface Header {
  type: string;
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  devmajor: number;
  devminor: number;
}

/** A numeric field: octal text padded with spaces/NULs, or GNU base-256 (high bit set). */
function parseNumber(field: Buffer, what: string, fail: Fail): number {
  let n = 0;
  if (field[0]! & 0x80) {
    if (field[0]! & 0x40) throw fail(`archive has a negative ${what}`);
    n = field[0]! & 0x3f;
    for (const byte of field.subarray(1)) n = n * 256 + byte;
  } else {
    const text = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
    if (!/^[0-7]*$/.test(text)) throw fail(`archive has an invalid ${what} field`);
    n = text === '' ? 0 : parseInt(text, 8);
  }
  if (!Number.isSafeInteger(n)) throw fail(`archive has an out-of-range ${what}`);
  return n;
}

/** A ustar/GNU/V7 header block, or undefined if its checksum (unsigned or signed, as Go accepts) is wrong. */
function decodeHeader(block: Buffer, fail: Fail): Header | undefined {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte < 128 ? byte : byte - 256;
  }
  const text = block.toString('latin1', 148, 156).replace(/^[ \0]+|[ \0]+$/g, '');
  const checksum = /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
  if (checksum !== unsigned && checksum !== signed) return undefined;
  const magic = block.toString('latin1', 257, 265);
  const posix = magic === 'ustar\u000000';
  const field = (start: number, end: number, what: string) => parseNumber(block.subarray(start, end), what, fail);
  let name = cString(block.subarray(0, 100));
  if (posix) {
    // The prefix field is shorter in the star format, recognisable by its trailer.
    const star = block.toString('latin1', 508, 512) === 'tar\0';
    const prefix = cString(block.subarray(345, star ? 476 : 500));
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const device = posix || magic === 'ustar  \0';
  return {
    type: block[156] === 0 ? '' : String.fromCharCode(block[156]!),
    name,
    linkname: cString(block.subarray(157, 257)),
    mode: field(100, 108, 'mode') & 0o7777,
    uid: field(108, 116, 'uid'),
    gid: field(116, 124, 'gid'),
    size: field(124, 136, 'size'),
    mtime: new Date(field(136, 148, 'mtime') * 1000),
    devmajor: device ? field(329, 337, 'device major') : 0,
    devminor: device ? field(337, 345, 'device minor') : 0,
  };
}

const padding = (size: number) => (512 - (size % 512)) % 512;
const isZeroBlock = (block: Buffer) => block.every((b) => b === 0);
const cString = (buf: Buffer) => {
  const nul = buf.indexOf(0);
  return buf.toString('utf8', 0, nul < 0 ? buf.length : nul);
};

function parseDecimal(key: string, value: string, fail: Fail): number {
  if (!/^\d{1,15}$/.test(value)) throw fail(`archive has an invalid PAX ${key} "${value}"`);
  return Number(value);
}

function parseTime(key: string, value: string, fail: Fail): Date {
  if (!/^-?\d{1,12}(\.\d*)?$/.test(value)) throw fail(`archive has an invalid PAX ${key} "${value}"`);
  return new Date(Number(value) * 1000);
}

function uriDecode(name: string, fail: Fail): string {
  try {
    return decodeURIComponent(name);
  } catch {
    throw fail(`archive has a malformed xattr name "${name}"`);
  }
}

/** PAX records are "<len> <key>=<value>\n" with len counting the whole record; values may be binary. */
function parsePax(buf: Buffer, pax: Pax, fail: Fail): void {
  let pos = 0;
  while (pos < buf.length && buf[pos] !== 0) {
    const space = buf.indexOf(0x20, pos);
    const lenText = space < 0 ? '' : buf.toString('latin1', pos, space);
    const len = /^\d{1,7}$/.test(lenText) ? Number(lenText) : 0;
    const end = pos + len;
    if (len <= space - pos + 1 || end > buf.length || buf[end - 1] !== 0x0a) throw fail('archive has a malformed PAX header');
    const record = buf.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 1) throw fail('archive has a malformed PAX record');
    const key = record.toString('utf8', 0, eq);
    const raw = record.subarray(eq + 1);
    const value = raw.toString('utf8');
    pos = end;
    if (key.startsWith('SCHILY.xattr.')) pax.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(raw));
    else if (key.startsWith('LIBARCHIVE.xattr.')) pax.xattrs.set(uriDecode(key.slice('LIBARCHIVE.xattr.'.length), fail), Buffer.from(value, 'base64'));
    else if (key.startsWith('GNU.sparse.')) pax.sparse = true;
    else if (value === '') continue; // an empty value unsets a field: keep the header's
    else if (key === 'path' || key === 'linkpath') pax[key] = value;
    else if (key === 'size' || key === 'uid' || key === 'gid') pax[key] = parseDecimal(key, value, fail);
    else if (key === 'mtime' || key === 'atime') pax[key] = parseTime(key, value, fail);
  }
}

/** Entries of a tar stream, in order. Each entry must be handled before asking for the next. */
export async function* readTar(input: AsyncIterator<Buffer>, options: ReadOptions = {}): AsyncGenerator<TarEntry, void, undefined> {
  const subject = options.subject ?? 'layer';
  const fail: Fail = (what) => invalidArgument(`${subject} ${what}`);
  const truncated = () => fail('archive is truncated');
  const reader = new ByteReader(input, truncated);
  let pax: Pax = { xattrs: new Map() };
  let longPath: string | undefined;
  let longLink: string | undefined;
  let last: string | undefined;
  let pending = false; // an extended header awaits its entry
  const where = () => (last === undefined ? 'at its start (not a tar archive?)' : `after entry "${last}"`);

  const readMeta = async (size: number): Promise<Buffer> => {
    if (size > MAX_META_SIZE) throw fail(`archive has an oversized extended header ${where()}`);
    const data = await reader.read(size);
    if (data.length < size) throw truncated();
    await reader.discard(padding(size));
    return data;
  };

  for (;;) {
    const block = await reader.read(512);
    if (block.length === 0) {
      if (pending) throw truncated();
      if (last === undefined && !options.allowEmpty) throw fail('is empty (not a tar archive)');
      break; // no end-of-archive marker: accepted, as Go's archive/tar does
    }
    if (block.length < 512) throw truncated();
    if (isZeroBlock(block)) {
      const second = await reader.read(512);
      if (second.length > 0 && (second.length < 512 || !isZeroBlock(second))) throw fail(`archive has data after a zero block ${where()}`);
      break;
    }
    const header = decodeHeader(block, fail);
    if (!header) throw fail(`archive has a corrupt tar header ${where()}`);
    const code = header.type;
    const headerSize = header.size;

    pending = true;
    if (code === 'x') {
      // One extended header per entry, as Go reads them: chained ones replace, never accumulate.
      pax = { xattrs: new Map() };
      parsePax(await readMeta(headerSize), pax, fail);
      continue;
    }
    if (code === 'g') {
      await reader.discard(headerSize + padding(headerSize)); // ignored, as Docker does
      continue;
    }
    if (code === 'L' || code === 'K') {
      const name = cString(await readMeta(headerSize));
      if (code === 'L') longPath = name;
      else longLink = name;
      continue;
    }

    const path = pax.path ?? longPath ?? header.name;
    // V7 archives mark regular files with a NUL type, and directories with a trailing slash.
    const type = code === '' ? (path.endsWith('/') ? '5' : '0') : code;
    const kind = KINDS[type];
    if (kind === undefined || pax.sparse) {
      throw fail(`entry "${path}" has an unsupported tar type (${pax.sparse ? 'sparse file' : JSON.stringify(type)})`);
    }
    const size = HEADER_ONLY.has(type) ? 0 : (pax.size ?? headerSize);
    let remaining = size;
    const body = (async function* () {
      while (remaining > 0) {
        const piece = await reader.piece(remaining);
        remaining -= piece.length;
        yield piece;
      }
    })();
    yield {
      path,
      kind,
      linkpath: pax.linkpath ?? longLink ?? header.linkname,
      mode: header.mode,
      uid: pax.uid ?? header.uid,
      gid: pax.gid ?? header.gid,
      size,
      mtime: pax.mtime ?? header.mtime,
      atime: pax.atime,
      devmajor: header.devmajor,
      devminor: header.devminor,
      xattrs: pax.xattrs,
      body,
    };
    await reader.discard(remaining + padding(size));
    last = path;
    pax = { xattrs: new Map() };
    longPath = longLink = undefined;
    pending = false;
  }
  await reader.drain();
}
