/** Helpers the contexts share: docker's ID and text shortening, image references, API field coercions. */
import { familiarName, parseReference } from '../../protocol/reference.ts';

export const QUIET_FORMAT = '{{.ID}}';

/** stringid.TruncateID: drops an "algo:" prefix and keeps 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.slice(0, 12);
}

/** The CLI's Ellipsis: at most `max` display columns (East Asian wide characters count 2), ending in "…". */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  const widths = chars.map((c) => (WIDE.test(c) ? 2 : 1));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total <= max) return s;
  let used = 0;
  let keep = 0;
  while (keep < chars.length && used + widths[keep]! <= max - 1) used += widths[keep++]!;
  return `${chars.slice(0, keep).join('')}…`;
}

const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;

/** An image reference as the CLI shows it ("busybox", "registry:5000/x"); undefined when invalid. */
export function displayReference(ref: string): { name: string; tag: string; digest: string } | undefined {
  try {
    const parsed = parseReference(ref);
    return { name: familiarName(parsed), tag: parsed.tag ?? '', digest: parsed.digest ?? '' };
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
}

export function stringMap(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) if (typeof value === 'string') out[k] = value;
  return out;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

