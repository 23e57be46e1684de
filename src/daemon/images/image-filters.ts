/** Docker's image filters for list and prune: dangling, label, before, since, until, reference. */
import { invalidArgument } from '../../protocol/errors.ts';
import type { ImageRecord } from '../../protocol/records.ts';

export const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'];
export const PRUNE_FILTERS = ['dangling', 'label', 'until'];

/** `until`: unix seconds, an RFC 3339 date, or a duration back from now (10s, 5m, 2h); as epoch ms. */
export function parseUntil(value: string, now = Date.now()): number {
  const n = Number(value);
  if (Number.isFinite(n)) return n * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  const m = /^(\d+)(s|m|h)$/.exec(value);
  if (m) return now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  throw invalidArgument(`invalid filter 'until=${value}'`);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** The test of one image against the filters; `createdOf` dates the images `before`/`since` name. */
export function imageMatcher(filters: Map<string, string[]>, createdOf: (ref: string) => number): (image: ImageRecord) => boolean {
  const dangling = filters.get('dangling');
  if (dangling?.some((v) => !['true', 'false', '1', '0'].includes(v))) throw invalidArgument(`invalid filter 'dangling=${dangling.join(',')}'`);
  const before = filters.get('before')?.map(createdOf);
  const since = filters.get('since')?.map(createdOf);
  const until = filters.get('until')?.map((u) => parseUntil(u));
  const tagMatches = referenceMatcher(filters);
  const labels = filters.get('label');
  return (image) => {
    if (dangling?.length && dangling.some((v) => (v === 'true' || v === '1') !== (image.repoTags.length === 0))) return false;
    const created = Date.parse(image.created);
    if (before && !before.every((t) => created < t)) return false;
    if (since && !since.every((t) => created > t)) return false;
    if (until && !until.every((t) => created < t)) return false;
    if (labels && !labels.every((l) => {
      const eq = l.indexOf('=');
      const value = image.config.Labels?.[eq < 0 ? l : l.slice(0, eq)];
      return eq < 0 ? value !== undefined : value === l.slice(eq + 1);
    })) return false;
    if (tagMatches && !image.repoTags.some(tagMatches)) return false;
    return true;
  };
}

/** The `reference` filter as a test of one name:tag (a glob on "name:tag" or on "name"), if given. */
export function referenceMatcher(filters: Map<string, string[]>): ((tag: string) => boolean) | undefined {
  const patterns = filters.get('reference')?.map(globToRegExp);
  if (!patterns) return undefined;
  return (tag) => patterns.some((p) => p.test(tag) || p.test(tag.slice(0, tag.lastIndexOf(':'))));
}
