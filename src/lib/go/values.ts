/**
 * How the Go emulations see JSON-like data, following Go's rules for JSON-decoded values:
 * objects are maps, arrays slices, null a nil interface; numbers are ints when integral and
 * float64 otherwise. Function-valued properties are methods, not map entries.
 */

/** The value of a missing map key (Go's invalid reflect.Value); prints as "<no value>". */
export const NO_VALUE = Symbol('no value');

export type GoMap = Record<string, unknown>;

export function isMap(v: unknown): v is GoMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isMethod(v: unknown): v is (...args: unknown[]) => unknown {
  return typeof v === 'function';
}

/** A map's keys in Go's printing order (sorted), methods left out. */
export function mapKeys(map: GoMap): string[] {
  return Object.keys(map).filter((key) => map[key] !== undefined && !isMethod(map[key])).sort();
}

export function sortedEntries(map: GoMap): [string, unknown][] {
  return mapKeys(map).map((key) => [key, map[key]]);
}

export type BasicKind = 'nil' | 'bool' | 'number' | 'string' | 'other';

export function basicKind(v: unknown): BasicKind {
  if (v === null || v === undefined || v === NO_VALUE) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

export function goTypeName(v: unknown): string {
  switch (basicKind(v)) {
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float64';
    case 'string':
      return 'string';
    default:
      if (Array.isArray(v)) return '[]interface {}';
      if (isMethod(v)) return 'func';
      return isMap(v) ? 'map[string]interface {}' : typeof v;
  }
}

/** A map entry's value, NO_VALUE when the key is absent (or names a method). */
export function mapGet(map: GoMap, key: string): unknown {
  const value = Object.hasOwn(map, key) ? map[key] : undefined;
  return value === undefined || isMethod(value) ? NO_VALUE : value;
}
