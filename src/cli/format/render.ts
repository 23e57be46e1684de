/**
 * The docker CLI's `--format` (cli/command/formatter): default tables, `table ...` templates
 * with a header row, plain templates, and `json`, over rows of "contexts" (ps.ts, images.ts):
 * plain objects with the CLI's field names and rendered string values, whose methods, such
 * as `Label(key)`, are function-valued fields the template engine calls.
 */
import { parseGoTemplate, templateFunction, TemplateError } from '../../lib/go/template/index.ts';
import { IMAGES_HEADERS } from './images.ts';
import { PS_HEADERS } from './ps.ts';
import { tabwrite } from './tabwrite.ts';
import { isRecord } from './fields.ts';

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
    lines = rows.map((row) => `${goJson(row)}\n`).join('');
  } else {
    const compiled = run(() => parseGoTemplate(body, { missingKey: 'error' }));
    lines = rows.map((row) => `${run(() => compiled.render(row))}\n`).join('');
  }
  if (!isTable) return lines;

  const headerMap = headers ?? (/\{\{\s*\.Repository\b/.test(defaultTable) ? IMAGES_HEADERS : PS_HEADERS);
  const header = renderHeader(body, headerMap);
  const text = `${header}\n${lines}`;
  const cells = text.split('\n').map((line) => line.split('\t'));
  cells.pop(); // the empty remainder after the last newline
  return tabwrite(cells);
}

function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`);
    throw err;
  }
}

/** docker's HeaderFunctions: a header reads "NAMES" for {{upper .Names}}. */
const HEADER_FUNCTIONS = {
  json: templateFunction(['string'], (v) => v),
  split: templateFunction(['string', 'string'], (v) => v),
  join: templateFunction(['string', 'string'], (v) => v),
  title: templateFunction(['string'], (v) => v),
  lower: templateFunction(['string'], (v) => v),
  upper: templateFunction(['string'], (v) => v),
  truncate: templateFunction(['string', 'int'], (v) => v),
};

/** The header row: the template run over the header texts. */
function renderHeader(body: string, headers: Readonly<Record<string, string>>): string {
  try {
    return parseGoTemplate(body, { functions: HEADER_FUNCTIONS }).render({ ...headers, Label: labelHeader });
  } catch {
    return ''; // the CLI ignores errors while rendering the header
  }
}

/** The header of a `.Label "com.example.some-key"` column: "some key". */
function labelHeader(key: string): string {
  return (key.split('.').at(-1) ?? '').replace(/[-_]/g, ' ');
}

/** encoding/json of a context: keys sorted, methods left out, <, > and & escaped. */
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
