/** The functions a template can call: Go's builtins and the ones the docker CLI adds. */
import { formatValue, sprint, sprintf, sprintln } from '../fmt.ts';
import { basicKind, goTypeName, isMap, mapGet, mapKeys, NO_VALUE, type BasicKind } from '../values.ts';

interface ParamTypes {
  any: unknown;
  string: string;
  int: number;
  list: unknown[];
}
export type ParamType = keyof ParamTypes;
type ArgsOf<P extends readonly ParamType[]> = { -readonly [K in keyof P]: ParamTypes[P[K]] };

export const GO_PARAM_TYPES: Record<ParamType, string> = { any: 'interface {}', string: 'string', int: 'int', list: '[]string' };

export interface Builtin {
  params: readonly ParamType[];
  /** Type of extra arguments for variadic functions. */
  rest?: ParamType;
  call(args: unknown[]): unknown;
}

/** Errors reported as "error calling <name>: ...". */
export class FunctionError extends Error {}

export function fixed<const P extends readonly ParamType[]>(params: P, call: (...args: ArgsOf<P>) => unknown): Builtin {
  return { params, call: (args) => call(...(args as ArgsOf<P>)) };
}

export function variadic<const P extends readonly ParamType[]>(
  params: P,
  call: (...args: [...ArgsOf<P>, ...unknown[]]) => unknown,
): Builtin {
  return { params, rest: 'any', call: (args) => call(...(args as [...ArgsOf<P>, ...unknown[]])) };
}

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  // Go's text/template builtins.
  ['eq', variadic(['any'], (a, ...others) => equals(a, others))],
  ['ne', fixed(['any', 'any'], (a, b) => !equals(a, [b]))],
  ['lt', fixed(['any', 'any'], (a, b) => lessThan(a, b))],
  ['le', fixed(['any', 'any'], (a, b) => lessThan(a, b) || equals(a, [b]))],
  ['gt', fixed(['any', 'any'], (a, b) => !lessThan(a, b) && !equals(a, [b]))],
  ['ge', fixed(['any', 'any'], (a, b) => !lessThan(a, b))],
  ['not', fixed(['any'], (v) => !truth(v))],
  ['len', fixed(['any'], length)],
  ['index', variadic(['any'], index)],
  ['print', variadic([], (...args) => sprint(args))],
  ['println', variadic([], (...args) => sprintln(args))],
  ['printf', variadic(['string'], (format, ...args) => sprintf(format, args))],
  // Functions the docker CLI adds (cli/templates).
  ['json', fixed(['any'], toJson)],
  ['split', fixed(['string', 'string'], (s, sep) => (sep === '' ? [...s] : s.split(sep)))],
  ['join', fixed(['list', 'string'], (list, sep) => list.map((e) => (typeof e === 'string' ? e : formatValue(e))).join(sep))],
  ['title', fixed(['string'], title)],
  ['lower', fixed(['string'], (s) => s.toLowerCase())],
  ['upper', fixed(['string'], (s) => s.toUpperCase())],
  ['pad', fixed(['string', 'int', 'int'], padWithSpace)],
  ['truncate', fixed(['string', 'int'], truncate)],
]);

/** and/or evaluate their arguments lazily, returning the first deciding one (Go 1.18+). */
export const LAZY_BUILTINS: ReadonlyMap<string, (args: (() => unknown)[]) => unknown> = new Map<string, (args: (() => unknown)[]) => unknown>([
  ['and', (args) => shortCircuit(args, false)],
  ['or', (args) => shortCircuit(args, true)],
]);

export function checkArity(name: string, fn: Builtin, got: number): string | undefined {
  const want = fn.params.length;
  if (fn.rest ? got >= want : got === want) return undefined;
  return `wrong number of args for ${name}: want ${fn.rest ? 'at least ' : ''}${want} got ${got}`;
}

function shortCircuit(args: (() => unknown)[], stopWhen: boolean): unknown {
  let value: unknown;
  for (const arg of args) {
    value = arg();
    if (truth(value) === stopWhen) break;
  }
  return value;
}

function equals(a: unknown, others: unknown[]): boolean {
  if (others.length === 0) throw new FunctionError('missing argument for comparison');
  const kindA = basicKind(a);
  return others.some((b) => {
    const kindB = basicKind(b);
    if (kindA === 'nil' || kindB === 'nil') return kindA === kindB;
    if (kindA !== kindB) throw new FunctionError('incompatible types for comparison');
    if (kindA === 'other') throw new FunctionError(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
    return a === b;
  });
}

function lessThan(a: unknown, b: unknown): boolean {
  const kindA = basicKind(a);
  const kindB = basicKind(b);
  const invalid = (k: BasicKind): boolean => k === 'nil' || k === 'other';
  if (invalid(kindA) || invalid(kindB)) throw new FunctionError('invalid type for comparison');
  if (kindA !== kindB) throw new FunctionError('incompatible types for comparison');
  if (kindA === 'bool') throw new FunctionError('invalid type for comparison');
  return (a as number | string) < (b as number | string);
}

export function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === NO_VALUE) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return mapKeys(v).length > 0;
  return true;
}

function length(v: unknown): number {
  if (v === null) throw new FunctionError('len of nil pointer');
  if (typeof v === 'string') return Buffer.byteLength(v); // Go counts bytes
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return mapKeys(v).length;
  throw new FunctionError(`len of type ${goTypeName(v)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let value = item;
  for (const key of keys) {
    if (value === null || value === NO_VALUE) throw new FunctionError('index of untyped nil');
    if (isMap(value)) {
      if (typeof key !== 'string') throw new FunctionError(`value has type ${goTypeName(key)}; should be string`);
      value = mapGet(value, key);
      continue;
    }
    if (!Array.isArray(value) && typeof value !== 'string') throw new FunctionError(`can't index item of type ${goTypeName(value)}`);
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new FunctionError(`cannot index slice/array with type ${goTypeName(key)}`);
    const elems = typeof value === 'string' ? [...Buffer.from(value)] : value; // strings index bytes
    if (key < 0 || key >= elems.length) throw new FunctionError(`index out of range: ${key}`);
    value = elems[key];
  }
  return value;
}

function toJson(v: unknown): string {
  const json = JSON.stringify(v) ?? 'null';
  return json.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** strings.Title: upper-cases letters that follow a separator. */
function title(s: string): string {
  let out = '';
  let previous = ' ';
  for (const ch of s) {
    out += isWordSeparator(previous) ? ch.toUpperCase() : ch;
    previous = ch;
  }
  return out;
}

function isWordSeparator(ch: string): boolean {
  if (/[\p{L}\p{N}_]/u.test(ch)) return false;
  return (ch.codePointAt(0) ?? 0) < 0x80 || /\s/u.test(ch);
}

function padWithSpace(s: string, left: number, right: number): string {
  if (left < 0 || right < 0) throw new FunctionError('negative Repeat count');
  return s === '' ? s : ' '.repeat(left) + s + ' '.repeat(right);
}

/** docker's truncate, counting characters rather than bytes so multi-byte text is not cut in half. */
function truncate(s: string, n: number): string {
  if (n < 0) throw new FunctionError('slice bounds out of range');
  const chars = [...s];
  return chars.length < n ? s : chars.slice(0, n).join('');
}

