/** `docker images` and `docker history`: formats, header texts and row contexts. */
import { goTimeString } from '../../lib/go/time.ts';
import { humanDuration, humanSize } from '../../lib/go/units.ts';
import { displayReference, ellipsis, num, QUIET_FORMAT, str, stringList, truncateId } from './fields.ts';

export const IMAGES_DEFAULT_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const IMAGES_DIGESTS_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** Header text of each images field. */
export const IMAGES_HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** docker images: the format to use for --format/--quiet/--digests (the CLI's NewImageFormat). */
export function imagesFormat(format: string | undefined, opts: { quiet?: boolean; digests?: boolean } = {}): string {
  if (opts.quiet) return format === 'raw' ? 'image_id: {{.ID}}' : QUIET_FORMAT;
  if (!format || format === 'table') return opts.digests ? IMAGES_DIGESTS_TABLE : IMAGES_DEFAULT_TABLE;
  if (format === 'raw') {
    const digest = opts.digests ? 'digest: {{.Digest}}\n' : '';
    return `repository: {{ .Repository }}\ntag: {{.Tag}}\n${digest}image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n`;
  }
  if (format.startsWith('table') && opts.digests && !format.includes('{{.Digest}}')) return `${format}\t{{.Digest}}`;
  return format;
}

export interface ImagesContextOptions {
  trunc: boolean;
  now?: number;
  /** --digests: digest-only references get a row per digest. */
  digests?: boolean;
  /** The --format in use; `{{.Digest}}` in it makes tagged rows show their digests too. */
  format?: string;
}

/**
 * The `docker images` contexts for one `GET /images/json` entry: one per repository:tag
 * (and per digest when digests are shown), or one `<none>`/`<none>` row for a dangling image,
 * in the CLI's order.
 */
export function imageContexts(summary: Record<string, unknown>, opts: ImagesContextOptions): Array<Record<string, unknown>> {
  const repoTags = stringList(summary.RepoTags);
  const repoDigests = stringList(summary.RepoDigests);
  const dangling =
    (repoTags.length === 0 && repoDigests.length === 0) ||
    (repoTags.length === 1 && repoTags[0] === '<none>:<none>' && repoDigests.length === 1 && repoDigests[0] === '<none>@<none>');
  if (dangling) return [imagesContext(summary, { ...opts, repo: '<none>', tag: '<none>', digest: '<none>' })];

  const needDigest = Boolean(opts.digests) || (opts.format ?? '').includes('{{.Digest}}');
  const tagsByRepo = new Map<string, string[]>();
  const digestsByRepo = new Map<string, string[]>();
  for (const refString of repoTags) {
    const ref = displayReference(refString);
    if (ref?.tag) tagsByRepo.set(ref.name, [...(tagsByRepo.get(ref.name) ?? []), ref.tag]);
  }
  for (const refString of repoDigests) {
    const ref = displayReference(refString);
    if (ref?.digest) digestsByRepo.set(ref.name, [...(digestsByRepo.get(ref.name) ?? []), ref.digest]);
  }
  const rows: Array<Record<string, unknown>> = [];
  const add = (repo: string, tag: string, digest: string) => rows.push(imagesContext(summary, { ...opts, repo, tag, digest }));
  for (const [repo, tags] of tagsByRepo) {
    const digests = needDigest ? (digestsByRepo.get(repo) ?? []) : [];
    digestsByRepo.delete(repo);
    for (const tag of tags) {
      if (digests.length === 0) add(repo, tag, '<none>');
      else for (const digest of digests) add(repo, tag, digest);
    }
  }
  for (const [repo, digests] of digestsByRepo) {
    if (opts.digests) for (const digest of digests) add(repo, '<none>', digest);
    else add(repo, '<none>', '');
  }
  return rows;
}

/**
 * One `docker images` context. Repository/Tag/Digest come from `opts` when given, else from
 * the image's first repository:tag (`<none>` when it has none); use imageContexts for the
 * CLI's one-row-per-tag listing.
 */
export function imagesContext(
  summary: Record<string, unknown>,
  opts: ImagesContextOptions & { repo?: string; tag?: string; digest?: string },
): Record<string, unknown> {
  let { repo, tag, digest } = opts;
  if (repo === undefined || tag === undefined) {
    const first = stringList(summary.RepoTags)
      .map(displayReference)
      .find((r) => r?.tag);
    repo ??= first?.name ?? '<none>';
    tag ??= first?.tag ?? '<none>';
  }
  digest ??= '<none>';
  const now = opts.now ?? Date.now();
  const created = num(summary.Created);
  const size = num(summary.Size);
  const sharedSize = summary.SharedSize === undefined ? -1 : num(summary.SharedSize);
  const containers = summary.Containers === undefined ? -1 : num(summary.Containers);
  const id = str(summary.Id);
  return {
    Containers: containers === -1 ? 'N/A' : String(containers),
    CreatedAt: goTimeString(created),
    CreatedSince: `${humanDuration(now - created * 1000)} ago`,
    Digest: digest,
    ID: opts.trunc ? truncateId(id) : id,
    Repository: repo,
    SharedSize: sharedSize === -1 ? 'N/A' : humanSize(sharedSize, 4),
    Size: humanSize(size, 3),
    Tag: tag,
    UniqueSize: size === -1 || sharedSize === -1 ? 'N/A' : humanSize(size - sharedSize, 4),
    VirtualSize: humanSize(size, 4),
  };
}

// ------------------------------------------------------------------ docker history

export const HISTORY_DEFAULT_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
export const HISTORY_HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export function historyFormat(format: string | undefined): string {
  return !format || format === 'table' ? HISTORY_DEFAULT_TABLE : format;
}

/** One `docker history` row: "<missing>" IDs stay, sizes and dates human unless -H=false. */
export function historyContext(row: Record<string, unknown>, opts: { human: boolean; trunc: boolean; now?: number }): Record<string, unknown> {
  const id = str(row.Id);
  const created = num(row.Created);
  const createdBy = str(row.CreatedBy).replace(/\t/g, ' ');
  const now = opts.now ?? Date.now();
  return {
    ID: id.startsWith('sha256:') && opts.trunc ? truncateId(id) : id,
    CreatedSince: opts.human ? `${humanDuration(now - created * 1000)} ago` : new Date(created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    CreatedAt: opts.human ? goTimeString(created) : new Date(created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
    Size: opts.human ? humanSize(num(row.Size), 3) : String(num(row.Size)),
    Comment: str(row.Comment),
  };
}
