/**
 * The docker CLI's `--format` for `ps` and `images` (cli/command/formatter): default tables,
 * `table ...` templates with a header row, plain templates, and `json`.
 *
 * Rows are "context" objects: plain objects whose fields carry the docker CLI's names and
 * already-rendered string values (psContext, imagesContext). The CLI's contexts are Go
 * structs with methods; the one method that takes an argument, `.Label "key"`, is a function
 * property here (`Label(key)`), and since lib/go/template does not call functions,
 * formatRows rewrites `.Label "k"` in the template to `(index .Label "k")` and hands the
 * template a `Label` map holding just the keys the template asks for.
 */
import { formatG } from './units.ts';
import { humanDuration } from '../lib/human-duration.ts';

export { humanDuration };
import { parseGoTemplate, TemplateError } from '../lib/go/template/index.ts';

export type FormatContext = Record<string, unknown>;

// ------------------------------------------------------------------ formats and headers

export const QUIET_FORMAT = '{{.ID}}';
export const PS_DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_RAW_FORMAT = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;
export const IMAGES_DEFAULT_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const IMAGES_DIGESTS_TABLE =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** Header text of each ps field (the CLI's ContainerContext header map). */
export const PS_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

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

/** docker ps: the format to use for --format/--quiet/--size (the CLI's NewContainerFormat). */
export function psFormat(format: string | undefined, opts: { quiet?: boolean; size?: boolean } = {}): string {
  // The CLI warns "Ignoring custom format, because both --format and --quiet are set."
  if (opts.quiet) return format === 'raw' ? 'container_id: {{.ID}}' : QUIET_FORMAT;
  if (!format || format === 'table') return PS_DEFAULT_TABLE + (opts.size ? '\t{{.Size}}' : '');
  if (format === 'raw') return PS_RAW_FORMAT + (opts.size ? 'size: {{.Size}}\n' : '');
  return format;
}

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

/** Whether a ps format shows .Size (the CLI then asks the daemon for sizes: `size=1`). */
export function formatUsesSize(format: string | undefined): boolean {
  return format !== undefined && /\.Size\b/.test(format);
}

// ------------------------------------------------------------------ rendering

/**
 * Renders rows the way the docker CLI does:
 * - no format (or "table") → `defaultTable`;
 * - "json" → one JSON object per row and line;
 * - "table ..." → a header row (each field's header text, see PS_HEADERS/IMAGES_HEADERS)
 *   and the rows, aligned by tabwrite;
 * - anything else → one rendered line per row, no header.
 * The two-character sequences `\t` and `\n` typed on a command line become a tab and a
 * newline. `headers` defaults to IMAGES_HEADERS when `defaultTable` shows `.Repository`,
 * else PS_HEADERS. Template errors are TemplateErrors starting "template parsing error: ".
 */
export function formatRows(
  format: string | undefined,
  rows: Array<Record<string, unknown>>,
  defaultTable: string,
  headers?: Readonly<Record<string, string>>,
): string {
  let source = format ?? '';
  if (source === '' || source === 'table') source = defaultTable;
  const isTable = source.startsWith('table');
  let body = isTable ? source.slice('table'.length) : source === 'json' ? '{{json .}}' : source;
  body = body.replace(/^ +| +$/g, '').replaceAll('\\t', '\t').replaceAll('\\n', '\n');

  let lines: string;
  if (/^\{\{-?\s*json\s+\.\s*-?\}\}$/.test(body)) {
    // The CLI marshals the whole context itself: keys sorted, HTML characters escaped.
    lines = rows.map((row) => `${goJson(contextFields(row))}\n`).join('');
  } else {
    const { template: rewritten, labelKeys } = rewriteLabelCalls(body);
    const compiled = compile(rewritten, 'error');
    lines = rows.map((row) => `${run(() => compiled.render(rowView(row, labelKeys)))}\n`).join('');
  }
  if (!isTable) return lines;

  const headerMap = headers ?? (/\{\{\s*\.Repository\b/.test(defaultTable) ? IMAGES_HEADERS : PS_HEADERS);
  const header = renderHeader(body, headerMap);
  const text = `${header}\n${lines}`;
  const cells = text.split('\n').map((line) => line.split('\t'));
  cells.pop(); // the empty remainder after the last newline
  return tabwrite(cells);
}

function compile(source: string, missingKey: 'default' | 'error') {
  return run(() => parseGoTemplate(source, { missingKey }));
}

function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`);
    throw err;
  }
}

/** The header row: the template run over the header texts, with docker's HeaderFunctions. */
function renderHeader(body: string, headers: Readonly<Record<string, string>>): string {
  const { template, labelKeys } = rewriteLabelCalls(body);
  // docker's HeaderFunctions make json/split/join/title/lower/upper/truncate return their
  // first argument, so a header reads "NAMES" for {{upper .Names}}; `or` does that here
  // for the (non-empty) header texts.
  const headerTemplate = mapActionCode(template, (code) =>
    code.replace(/(?<![\p{L}\p{N}_.$])(?:json|split|join|title|lower|upper|truncate)(?![\p{L}\p{N}_])/gu, 'or'),
  );
  const view: Record<string, unknown> = { ...headers };
  if (labelKeys.length > 0) view.Label = Object.fromEntries(labelKeys.map((k) => [k, labelHeader(k)]));
  try {
    return parseGoTemplate(headerTemplate).render(view);
  } catch {
    return ''; // the CLI ignores errors while rendering the header
  }
}

/** The header of a `.Label "com.example.some-key"` column: "some key". */
function labelHeader(key: string): string {
  return (key.split('.').at(-1) ?? '').replace(/[-_]/g, ' ');
}

/** The object a row template sees: the row's string fields, and `Label` as a map of the used keys. */
function rowView(row: Record<string, unknown>, labelKeys: string[]): Record<string, unknown> {
  const view = contextFields(row);
  if (labelKeys.length === 0) return view;
  const label = row.Label;
  const labels = row.Labels;
  view.Label = Object.fromEntries(
    labelKeys.map((key) => {
      if (typeof label === 'function') return [key, String((label as (k: string) => unknown)(key) ?? '')];
      const map = isRecord(label) ? label : isRecord(labels) ? labels : {};
      const value = map[key];
      return [key, typeof value === 'string' ? value : ''];
    }),
  );
  return view;
}

/** The row without function-valued fields (the Go methods that take arguments). */
function contextFields(row: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value !== 'function' && value !== undefined) fields[key] = value;
  }
  return fields;
}

const LABEL_CALL = /(^|[^\p{L}\p{N}_.$])((?:\$[\p{L}\p{N}_]*)?\.Label)\s*$/u;

/**
 * Rewrites each `.Label "k"` (or `$.Label "k"`) inside actions to `(index .Label "k")` and
 * lists the keys. Only string literals (double-quoted or raw) are recognised as the key.
 */
function rewriteLabelCalls(template: string): { template: string; labelKeys: string[] } {
  const keys = new Set<string>();
  const rewritten = mapActionTokens(template, (tokens) => {
    const out: string[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const next = tokens[i + 1];
      const match = token.kind === 'code' ? LABEL_CALL.exec(token.text) : null;
      if (match && next && next.kind === 'string') {
        const key = decodeStringLiteral(next.text);
        if (key !== undefined) {
          keys.add(key);
          out.push(`${token.text.slice(0, match.index)}${match[1]}(index ${match[2]} ${next.text})`);
          i++;
          continue;
        }
      }
      out.push(token.text);
    }
    return out.join('');
  });
  return { template: rewritten, labelKeys: [...keys] };
}

function decodeStringLiteral(text: string): string | undefined {
  if (text.startsWith('`')) return text.slice(1, -1);
  if (!text.startsWith('"')) return undefined; // a character constant
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return text.slice(1, -1);
  }
}

interface ActionToken {
  kind: 'code' | 'string';
  text: string;
}

/** Applies `fn` to the code (outside string literals) of every action. */
function mapActionCode(template: string, fn: (code: string) => string): string {
  return mapActionTokens(template, (tokens) => tokens.map((t) => (t.kind === 'code' ? fn(t.text) : t.text)).join(''));
}

/** Finds the `{{ ... }}` actions (not comments) and lets `fn` rewrite each one's tokens. */
function mapActionTokens(template: string, fn: (tokens: ActionToken[]) => string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const open = template.indexOf('{{', pos);
    if (open < 0) return out + template.slice(pos);
    out += template.slice(pos, open + 2);
    const tokens: ActionToken[] = [];
    let code = '';
    let i = open + 2;
    let closed = false;
    while (i < template.length) {
      if (template.startsWith('}}', i)) {
        closed = true;
        break;
      }
      const c = template[i]!;
      if (c === '"' || c === "'" || c === '`') {
        let end = i + 1;
        while (end < template.length && template[end] !== c) end += c !== '`' && template[end] === '\\' ? 2 : 1;
        if (code) tokens.push({ kind: 'code', text: code });
        code = '';
        tokens.push({ kind: 'string', text: template.slice(i, end + 1) });
        i = end + 1;
      } else {
        code += c;
        i++;
      }
    }
    if (code) tokens.push({ kind: 'code', text: code });
    const inner = template.slice(open + 2, Math.min(i, template.length));
    const isComment = /^(?:-\s)?\s*\/\*/.test(inner);
    out += isComment ? inner : fn(tokens);
    if (!closed) return out;
    out += '}}';
    pos = i + 2;
  }
}

// ------------------------------------------------------------------ tabwriter

export interface TabwriteOptions {
  /** Minimal cell width including padding (docker: 10). */
  minwidth?: number;
  /** Spaces added to the widest cell of a column (docker: 3). */
  padding?: number;
}

/**
 * Go's text/tabwriter as the docker CLI configures it (minwidth 10, padding 3, padchar ' ',
 * no flags; tabwidth does not matter when padding with spaces). Each inner array is one line's
 * cells; every cell but the last is "tab-terminated" and takes part in column alignment, the
 * last is printed as it is. Columns are aligned over blocks of consecutive lines that have
 * that column, as Go does. Widths count characters (runes). Every line ends with "\n".
 */
export function tabwrite(lines: string[][], options: TabwriteOptions = {}): string {
  const minwidth = options.minwidth ?? 10;
  const padding = options.padding ?? 3;
  const widths: number[] = [];
  const out: string[] = new Array<string>(lines.length).fill('');
  const textWidth = (s: string): number => [...s].length;
  const cellsOf = (i: number): string[] => lines[i] ?? [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      out[i] = cellsOf(i)
        .map((cell, j) => (j < widths.length ? cell + ' '.repeat(Math.max(0, widths[j]! - textWidth(cell))) : cell))
        .join('');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let current = line0; current < line1; current++) {
      if (column >= cellsOf(current).length - 1) continue;
      // A cell exists in this column: print the lines above, then size the column block.
      writeLines(line0, current);
      line0 = current;
      let width = minwidth;
      for (; current < line1; current++) {
        const cells = cellsOf(current);
        if (column >= cells.length - 1) break;
        width = Math.max(width, textWidth(cells[column]!) + padding);
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.map((line) => `${line}\n`).join('');
}

// ------------------------------------------------------------------ ps

/** `docker ps` context for one `GET /containers/json` entry. */
export function psContext(summary: Record<string, unknown>, opts: { trunc: boolean; now?: number }): Record<string, unknown> {
  const now = opts.now ?? Date.now();
  const created = num(summary.Created);
  const labels = stringMap(summary.Labels);
  const mounts = Array.isArray(summary.Mounts) ? summary.Mounts.filter(isRecord) : [];
  const names = stringList(summary.Names).map((n) => n.slice(1));
  let shownNames = names;
  if (opts.trunc) {
    // Legacy link names ("/other/alias") are left out unless there is nothing else.
    const own = names.find((n) => !n.includes('/'));
    if (own !== undefined) shownNames = [own];
  }
  const networkSettings = isRecord(summary.NetworkSettings) ? summary.NetworkSettings : {};
  const networks = isRecord(networkSettings.Networks) ? Object.keys(networkSettings.Networks).sort() : [];
  const sizeRw = num(summary.SizeRw);
  const sizeRootFs = num(summary.SizeRootFs);
  // Keys in the order Go's JSON encoding of the context prints them (sorted).
  return {
    Command: goQuote(opts.trunc ? ellipsis(str(summary.Command), 20) : str(summary.Command)),
    CreatedAt: goTimeString(created),
    ID: opts.trunc ? truncateId(str(summary.Id)) : str(summary.Id),
    Image: psImage(str(summary.Image), str(summary.ImageID), opts.trunc),
    Label: (name: string): string => labels[name] ?? '',
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: String(mounts.filter((m) => m.Driver === 'local').length),
    Mounts: mounts
      .map((m) => {
        const name = str(m.Name) || str(m.Source);
        return opts.trunc ? ellipsis(name, 15) : name;
      })
      .join(','),
    Names: shownNames.join(','),
    Networks: networks.join(','),
    Ports: displayablePorts(Array.isArray(summary.Ports) ? summary.Ports.filter(isRecord) : []),
    RunningFor: `${humanDuration(now - created * 1000)} ago`,
    Size: sizeRootFs > 0 ? `${humanSize(sizeRw, 3)} (virtual ${humanSize(sizeRootFs, 3)})` : humanSize(sizeRw, 3),
    State: str(summary.State),
    Status: str(summary.Status),
  };
}

function psImage(image: string, imageId: string, trunc: boolean): string {
  if (image === '') return '<no image>';
  if (!trunc) return image;
  const short = truncateId(imageId);
  if (short !== '' && short === truncateId(image)) return short;
  const ref = parseReference(image);
  if (!ref) return image;
  return ref.tag ? `${ref.name}:${ref.tag}` : ref.name;
}

/** The CLI's DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/tcp". */
export function displayablePorts(ports: Array<Record<string, unknown>>): string {
  const list = ports.map((p) => ({ ip: str(p.IP), priv: num(p.PrivatePort), pub: num(p.PublicPort), type: str(p.Type) }));
  list.sort((a, b) => a.priv - b.priv || cmp(a.ip, b.ip) || a.pub - b.pub || cmp(a.type, b.type));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of list) {
    let key = port.type;
    if (port.ip !== '') {
      if (port.pub !== port.priv) {
        hostMappings.push(`${joinHostPort(port.ip, String(port.pub))}->${port.priv}/${port.type}`);
        continue;
      }
      key = `${port.ip}/${port.type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: port.priv, last: port.priv });
      continue;
    }
    if (port.priv === group.last + 1) {
      group.last = port.priv;
      continue;
    }
    result.push(formGroup(key, group.first, group.last));
    // Go replaces the map value (keeping the key's first-insertion place in its key list).
    groups.set(key, { first: port.priv, last: port.priv });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ------------------------------------------------------------------ images

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
    const ref = parseReference(refString);
    if (ref?.tag) tagsByRepo.set(ref.name, [...(tagsByRepo.get(ref.name) ?? []), ref.tag]);
  }
  for (const refString of repoDigests) {
    const ref = parseReference(refString);
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
      .map(parseReference)
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

// ------------------------------------------------------------------ helpers (docker/go-units, stringid, reference)

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal units, `%.<precision>g` ("1.98MB", "0B"). */
export function humanSize(bytes: number, precision = 4): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < SIZE_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${formatG(size, precision)}${SIZE_UNITS[unit]}`;
}

/** stringid.TruncateID: drops an "algo:" prefix and keeps 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.slice(0, 12);
}

/** Go's time.Unix(s, 0).String() in the local zone: "2024-05-01 10:00:00 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const offsetMinutes = -date.getTimezoneOffset();
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  // Go prints the tzdata abbreviation ("CET", "EDT", "IST"), or "+03" / "+0530" for zones
  // without one. ICU knows the abbreviations per locale only, so ask a few locales.
  const zone = zoneAbbreviation(date, offsetMinutes) ?? `${sign}${hh}${mm === '00' ? '' : mm}`;
  return `${shifted.slice(0, 10)} ${shifted.slice(11, 19)} ${sign}${hh}${mm} ${zone}`;
}

let zoneFormats: Intl.DateTimeFormat[] | undefined;

function zoneAbbreviation(date: Date, offsetMinutes: number): string | undefined {
  try {
    zoneFormats ??= ['en-US', 'en-GB', 'en-AU', 'en-IN', 'ja-JP'].map((l) => new Intl.DateTimeFormat(l, { timeZoneName: 'short' }));
    for (const format of zoneFormats) {
      const name = format.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
      if (/^[A-Z]{2,5}$/.test(name) && (name !== 'GMT' || offsetMinutes === 0)) return name;
    }
  } catch {
    // no Intl time zone data
  }
  return undefined;
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

const QUOTE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

/** strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    const escape = QUOTE_ESCAPES[ch];
    if (escape !== undefined) out += escape;
    else if (ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** encoding/json of a map: keys sorted, <, > and & escaped. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (isRecord(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => typeof v[k] !== 'function' && v[k] !== undefined)
          .map((k) => [k, sorted(v[k])]),
      );
    }
    return v;
  };
  return (JSON.stringify(sorted(value)) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

interface Reference {
  /** Familiar name: "busybox", "myrepo/app", "registry:5000/x". */
  name: string;
  tag: string;
  digest: string;
}

const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const NAME = new RegExp(`^(?:(${DOMAIN})/)?(${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)$`);

/** reference.ParseNormalizedNamed + FamiliarName, enough for display; undefined when invalid. */
function parseReference(ref: string): Reference | undefined {
  let rest = ref;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) return undefined;
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  }
  if (/^[a-f0-9]{64}$/.test(rest)) return undefined; // "cannot specify 64-byte hexadecimal strings"
  const match = NAME.exec(rest);
  if (!match) return undefined;
  let domain = match[1];
  let path = match[2]!;
  // A first component is a domain only when it looks like one: it has "." or ":", is
  // "localhost", or has upper case (which a repository name cannot have).
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost' && domain.toLowerCase() === domain) {
    path = `${domain}/${path}`;
    domain = undefined;
  }
  if (domain === undefined || domain === 'docker.io' || domain === 'index.docker.io') {
    const name = path.startsWith('library/') && path.split('/').length === 2 ? path.slice('library/'.length) : path;
    return { name, tag, digest };
  }
  return { name: `${domain}/${path}`, tag, digest };
}

// ------------------------------------------------------------------ small coercions

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
}

function stringMap(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) if (typeof value === 'string') out[k] = value;
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
