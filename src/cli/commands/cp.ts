/**
 * cp: files between a container and the host, through the archive endpoints, with docker cp's
 * path rules (moby pkg/archive copy.go): a file copied onto an existing directory goes inside
 * it; onto a path that does not exist it takes that name; `DIR/.` copies the contents; a
 * destination ending in `/` must be a directory.
 */
import { closeSync, constants, lstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { extractToDirectory } from '../../lib/tar/extract.ts';
import { TreePacker } from '../../lib/tar/pack.ts';
import { readTar } from '../../lib/tar/reader.ts';
import { END_OF_ARCHIVE } from '../../lib/tar/writer.ts';
import { GO_MODE_DIR, GO_MODE_SYMLINK, type ContainerPathStat } from '../../client/client.ts';
import { humanSize } from '../../lib/go/units.ts';
import { CliExit, errorText, type Cli, type CommandFactory } from '../context.ts';

// ------------------------------------------------------------------ path rules (Go's filepath + moby archive)

const hasTrailingSeparator = (p: string): boolean => p.length > 1 && p.endsWith('/');

/** Go's filepath.Base: the last element, trailing slashes ignored; "/" for the root, "." for "". */
export function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's filepath.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const normalized = posix.normalize(p);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

const specifiesCurrentDir = (p: string): boolean => goBase(p) === '.';
const assertsDirectory = (p: string): boolean => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** moby's SplitPathDirEntry: "/a/b/." → ["/a/b", "."], "/a/b/" → ["/a", "b"]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [posix.dirname(cleaned), goBase(cleaned)];
}

/** moby's PreserveTrailingDotOrSeparator. */
function preserveTrailing(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) out = `${out.replace(/\/$/, '')}/.`;
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

/** An absolute local path that keeps a trailing "/" or "/." (they mean something to cp). */
export function resolveLocalPath(p: string): string {
  return preserveTrailing(posix.resolve(p), p);
}

/** docker's splitCpArg: "CONTAINER:PATH", or a local path (absolute, or starting with "."). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** moby's GetRebaseName: after following a link, the name the copy must keep. */
function rebaseFor(path: string, resolved: string): { resolved: string; rebaseName: string } {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += '/';
  return { resolved: r, rebaseName: goBase(path) !== goBase(r) ? goBase(path) : '' };
}

interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/**
 * moby's PrepareArchiveCopy: where to extract, and how to rename the archive's top entry so
 * the copy lands under the name the user asked for.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dir: string; rename?: [string, string] } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dir: dst.path, ...(src.rebaseName ? { rename: [srcBase, src.rebaseName] as [string, string] } : {}) };
  if (dst.exists && src.isDir) throw new CliExit(1, 'cannot copy directory');
  if (dst.exists) return { dir: dstDir, rename: [srcBase, dstBase] };
  if (!src.isDir && assertsDirectory(dst.path)) throw new CliExit(1, 'no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dir: dstDir, rename: [srcBase, dstBase] };
}

/** Renames the first path element `from` to `to` ("d/x" → "e/x", "./x" → "e/x"). */
function rebaseName(name: string, from: string, to: string): string {
  if (name === from) return to;
  if (name.startsWith(`${from}/`)) return `${to}${name.slice(from.length)}`;
  return name;
}

// ------------------------------------------------------------------ container → host

function localCopyTarget(dstPath: string): CopyInfo {
  // moby's CopyInfoDestinationPath: a link is followed; a missing path needs its parent.
  let path = dstPath;
  let st: Stats | undefined;
  try {
    lstatSync(path);
    path = preserveTrailing(realpathSync(path), dstPath);
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliExit(1, (err as Error).message);
  }
  if (st) return { path, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  const parent = posix.dirname(goClean(path));
  let parentStat: Stats;
  try {
    parentStat = statSync(parent);
  } catch {
    throw new CliExit(1, `invalid output path: directory "${parent}" does not exist`);
  }
  if (!parentStat.isDirectory()) throw new CliExit(1, `invalid output path: "${parent}" is not a directory`);
  return { path, exists: false, isDir: false, rebaseName: '' };
}

/** Extracts a tar into `dir` like moby's Untar with NoLchown and NoOverwriteDirNonDir. */
async function untar(source: Readable, dir: string, rename: [string, string] | undefined): Promise<void> {
  try {
    await extractToDirectory(dir, readTar(source[Symbol.asyncIterator](), { subject: 'tar' }), {
      noOverwriteDirNonDir: true,
      ...(rename ? { rename: (name: string) => rebaseName(name, rename[0], rename[1]) } : {}),
    });
  } finally {
    source.destroy(); // the rest, after an error: nobody reads it
  }
}

/** A tar of `name` in `dir` (with everything below it), as docker cp sends it; portable: without owners. */
async function* packLocal(dir: string, name: string, portable: boolean, rename: [string, string] | undefined): AsyncGenerator<Buffer> {
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const packer = new TreePacker({ portable, ...(rename ? { rename: (n: string) => rebaseName(n, rename[0], rename[1]) } : {}) });
    yield* packer.entry(dirFd, name, name);
    yield END_OF_ARCHIVE;
  } finally {
    closeSync(dirFd);
  }
}

/** Counts bytes on the way through (for "Successfully copied …"). */
function counter(): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, bytes: () => bytes };
}

async function copyFromContainer(cli: Cli, container: string, srcPathArg: string, dstArg: string, o: CpOptions): Promise<void> {
  const dstPath = dstArg === '-' ? '-' : resolveLocalPath(dstArg);
  let srcPath = srcPathArg;
  let rename = '';
  if (o.followLink) {
    const stat = await cli.client.statContainerPath(container, srcPath).catch(() => undefined);
    if (stat && isSymlink(stat)) {
      const target = stat.linkTarget.startsWith('/') ? stat.linkTarget : posix.join(splitPathDirEntry(srcPath)[0], stat.linkTarget);
      ({ resolved: srcPath, rebaseName: rename } = rebaseFor(srcPath, target));
    }
  }
  const dst = dstPath === '-' ? undefined : localCopyTarget(dstPath);
  const { stat, tar: archive } = await cli.client.getContainerArchive(container, srcPath);
  if (!dst) {
    await new Promise<void>((resolve, reject) => {
      archive.on('error', reject);
      archive.on('end', resolve);
      archive.pipe(process.stdout, { end: false });
    });
    return;
  }
  const plan = prepareArchiveCopy({ path: srcPath, exists: true, isDir: isDir(stat), rebaseName: rename }, dst);
  const count = counter();
  archive.on('error', (err) => count.stream.destroy(err));
  await untar(archive.pipe(count.stream), plan.dir, plan.rename);
  report(cli, o, count.bytes(), dstPath);
}

// ------------------------------------------------------------------ host → container

async function copyToContainer(cli: Cli, srcArg: string, container: string, dstPathArg: string, o: CpOptions): Promise<void> {
  const api = cli.client;
  let dstPath = dstPathArg;
  let dstStat = await api.statContainerPath(container, dstPath).catch(() => undefined);
  if (dstStat && isSymlink(dstStat)) {
    dstPath = dstStat.linkTarget.startsWith('/') ? dstStat.linkTarget : posix.join(splitPathDirEntry(dstPathArg)[0], dstStat.linkTarget);
    dstStat = await api.statContainerPath(container, dstPath).catch(() => undefined);
  }
  if (dstStat && (hasModeBit(dstStat, GO_MODE_DEVICE) || hasModeBit(dstStat, GO_MODE_IRREGULAR))) {
    throw new CliExit(1, `destination "${container}:${dstPathArg}" must be a directory or a regular file`);
  }
  const dst: CopyInfo = { path: dstPath, exists: dstStat !== undefined, isDir: dstStat !== undefined && isDir(dstStat), rebaseName: '' };

  let content: NodeJS.ReadableStream;
  let dir: string;
  if (srcArg === '-') {
    if (!dst.isDir) throw new CliExit(1, `destination "${container}:${dstPathArg}" must be a directory`);
    content = process.stdin;
    dir = dst.path;
  } else {
    const src = localSource(resolveLocalPath(srcArg), Boolean(o.followLink));
    const plan = prepareArchiveCopy(src, dst);
    const [sourceDir, sourceBase] = splitPathDirEntry(src.path);
    const rename: [string, string] | undefined = plan.rename ?? (src.rebaseName ? [sourceBase, src.rebaseName] : undefined);
    content = Readable.from(packLocal(sourceDir, sourceBase, !o.archive, rename), { objectMode: false });
    dir = plan.dir;
  }
  const count = counter();
  content.pipe(count.stream);
  // A local read error must not leave the upload hanging.
  const failed = new Promise<never>((_, reject) => content.on('error', (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    count.stream.destroy(error);
    reject(new CliExit(1, error.message));
  }));
  failed.catch(() => undefined);
  await Promise.race([api.putContainerArchive(container, dir, count.stream, { noOverwriteDirNonDir: true, copyUIDGID: Boolean(o.archive) }), failed]);
  report(cli, o, count.bytes(), `${container}:${dst.path}`);
}

/** moby's CopyInfoSourcePath / ResolveHostSourcePath. */
function localSource(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rename = '';
  try {
    if (followLink) {
      ({ resolved, rebaseName: rename } = rebaseFor(path, realpathSync(path)));
    } else {
      // Links on the way are followed, the last element is not (unless the path ends in "/").
      const cut = path.lastIndexOf('/');
      const dir = realpathSync(path.slice(0, cut + 1) || '.');
      resolved = `${dir === '/' ? '' : dir}/${path.slice(cut + 1)}`;
      if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rename = goBase(path);
    }
    const st = lstatSync(resolved);
    return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName: rename };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliExit(1, `lstat ${goClean(path)}: no such file or directory`);
    throw new CliExit(1, (err as Error).message);
  }
}

// ------------------------------------------------------------------ the command

const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_IRREGULAR = 2 ** 19;
/** Go FileMode bits are above 2^31: no JavaScript bitwise operators here. */
const hasModeBit = (s: ContainerPathStat, bit: number): boolean => Math.floor(s.mode / bit) % 2 === 1;
const isDir = (s: ContainerPathStat): boolean => hasModeBit(s, GO_MODE_DIR);
const isSymlink = (s: ContainerPathStat): boolean => hasModeBit(s, GO_MODE_SYMLINK);

function report(cli: Cli, o: CpOptions, bytes: number, where: string): void {
  // docker prints progress only to a terminal.
  if (!o.quiet && process.stderr.isTTY) cli.err(`Successfully copied ${humanSize(bytes)} to ${where}\n`);
}

interface CpOptions {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

export const cp: CommandFactory = (parent, cli, name) =>
  parent.command(name).description("Copy files/folders between a container and the local filesystem")
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'suppress progress output during copy')
    .argument('<src>', 'CONTAINER:SRC_PATH, SRC_PATH or -')
    .argument('<dest>', 'CONTAINER:DEST_PATH, DEST_PATH or -')
    .action(async (srcArg: string, dstArg: string, o: CpOptions) => {
      const src = splitCpArg(srcArg);
      const dst = splitCpArg(dstArg);
      if (!src.path) throw new CliExit(1, 'source can not be empty');
      if (!dst.path) throw new CliExit(1, 'destination can not be empty');
      if (src.container && dst.container) throw new CliExit(1, 'copying between containers is not supported');
      if (!src.container && !dst.container) throw new CliExit(1, 'must specify at least one container source');
      try {
        if (src.container) await copyFromContainer(cli, src.container, src.path, dst.path, o);
        else await copyToContainer(cli, src.path, dst.container, dst.path, o);
      } catch (err) {
        throw err instanceof CliExit ? err : new CliExit(1, errorText(err));
      }
    });
