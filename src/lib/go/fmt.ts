/**
 * Go's fmt verbs for JSON-like values (see values.ts): %v %s %q %x %X %d %o %O %b %c %t
 * %e %E %f %F %g %G, with flags, width and precision, and fmt's error strings.
 */
import { quote, quoteRune } from './strconv.ts';
import { basicKind, goTypeName, isMap, sortedEntries } from './values.ts';

interface FormatSpec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  precision?: number;
  verb: string;
}

const VALUE_SPEC: FormatSpec = { minus: false, plus: false, sharp: false, space: false, zero: false, verb: 'v' };

/** fmt's %v. */
export function formatValue(v: unknown): string {
  return formatArg(VALUE_SPEC, v, true);
}

/** fmt.Sprint: spaces go between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  return args
    .map((arg, i) => {
      const space = i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string';
      return (space ? ' ' : '') + formatValue(arg);
    })
    .join('');
}

export function sprintln(args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

export function sprintf(format: string, args: unknown[]): string {
  let next = 0;
  const directive = /%([-+# 0]*)(\d*)(?:\.(\d*))?(.?)/gsu;
  let out = format.replace(directive, (_all, flags: string, width: string, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (verb === '') return '%!(NOVERB)';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const spec: FormatSpec = {
      minus: flags.includes('-'),
      plus: flags.includes('+'),
      sharp: flags.includes('#'),
      space: flags.includes(' '),
      zero: flags.includes('0'),
      width: width === '' ? undefined : Number(width),
      precision: precision === undefined ? undefined : Number(precision || '0'),
      verb,
    };
    return formatArg(spec, args[next++], false);
  });
  if (next < args.length) {
    const extra = args.slice(next).map((a) => (basicKind(a) === 'nil' ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** Formats one printf operand; `nested` is true inside slices and maps, where fmt prints nil as "<nil>" for any verb. */
function formatArg(spec: FormatSpec, v: unknown, nested: boolean): string {
  if (basicKind(v) === 'nil') return nested || spec.verb === 'v' ? padText(spec, '<nil>') : `%!${spec.verb}(<nil>)`;
  if (typeof v === 'string') return formatString(spec, v);
  if (typeof v === 'number') return Number.isInteger(v) ? formatInteger(spec, v) : formatFloat(spec, v);
  if (typeof v === 'boolean') return spec.verb === 't' || spec.verb === 'v' ? padText(spec, String(v)) : badVerb(spec, v);
  if (Array.isArray(v)) return `[${v.map((e) => formatArg(spec, e, true)).join(' ')}]`;
  if (isMap(v)) {
    const entries = sortedEntries(v).map(([k, e]) => `${formatArg(spec, k, true)}:${formatArg(spec, e, true)}`);
    return `map[${entries.join(' ')}]`;
  }
  return padText(spec, String(v));
}

function badVerb(spec: FormatSpec, v: unknown): string {
  return `%!${spec.verb}(${goTypeName(v)}=${formatValue(v)})`;
}

function formatString(spec: FormatSpec, s: string): string {
  const text = spec.precision === undefined ? s : [...s].slice(0, spec.precision).join('');
  switch (spec.verb) {
    case 's':
    case 'v':
      return padText(spec, text);
    case 'q':
      return padText(spec, quote(text));
    case 'x':
    case 'X': {
      const hex = Buffer.from(text).toString('hex');
      return padText(spec, spec.verb === 'X' ? hex.toUpperCase() : hex);
    }
    default:
      return badVerb(spec, s);
  }
}

const INTEGER_BASES = new Map([['d', 10], ['v', 10], ['x', 16], ['X', 16], ['o', 8], ['O', 8], ['b', 2]]);
const INTEGER_PREFIXES = new Map([['x', '0x'], ['X', '0X'], ['o', '0'], ['b', '0b']]);

function formatInteger(spec: FormatSpec, n: number): string {
  const { verb } = spec;
  // JSON does not tell 2 from 2.0, so float verbs accept integral numbers too.
  if (/^[eEfFgG]$/.test(verb)) return formatFloat(spec, n);
  if (verb === 'c' || verb === 'q') {
    if (verb === 'q') return padText(spec, quoteRune(n));
    return padText(spec, n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd');
  }
  const base = INTEGER_BASES.get(verb);
  if (base === undefined) return badVerb(spec, n);
  const magnitude = Math.abs(n);
  let digits = (Number.isSafeInteger(magnitude) ? magnitude : BigInt(magnitude)).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (spec.precision !== undefined) digits = digits.padStart(spec.precision, '0');
  const prefix = verb === 'O' ? '0o' : spec.sharp ? INTEGER_PREFIXES.get(verb) ?? '' : '';
  return padNumber({ ...spec, zero: spec.zero && spec.precision === undefined }, n < 0, prefix, digits);
}

function formatFloat(spec: FormatSpec, n: number): string {
  if (Number.isNaN(n)) return padText(spec, 'NaN');
  if (!Number.isFinite(n)) return padText(spec, n > 0 ? '+Inf' : '-Inf');
  const magnitude = Math.abs(n);
  let body: string;
  switch (spec.verb) {
    case 'v':
    case 'g':
    case 'G':
      body = formatG(magnitude, spec.precision);
      break;
    case 'e':
    case 'E':
      body = formatE(magnitude, spec.precision ?? 6);
      break;
    case 'f':
    case 'F':
      body = toFixedHalfEven(magnitude, spec.precision ?? 6);
      break;
    default:
      return badVerb(spec, n);
  }
  if (spec.verb === 'G' || spec.verb === 'E') body = body.toUpperCase();
  return padNumber(spec, n < 0, '', body);
}

/** toFixed rounds exact ties away from zero; Go rounds them to even (%.1f of 0.25 is 0.2). */
function toFixedHalfEven(x: number, precision: number): string {
  const rounded = x.toFixed(precision);
  const extra = Math.min(100, precision + 30) - precision;
  if (extra <= 0) return rounded;
  const exact = x.toFixed(precision + extra);
  if (!/^50*$/.test(exact.slice(-extra))) return rounded;
  const truncated = exact.slice(0, -extra).replace(/\.$/, '');
  return Number(truncated.at(-1)) % 2 === 0 ? truncated : rounded;
}

function formatE(x: number, precision: number): string {
  return x.toExponential(precision).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** strconv.FormatFloat(x, 'g', precision): shortest digits when precision is undefined. */
/** strconv.FormatFloat(x, 'g', precision, 64): shortest digits when precision is undefined. */
export function formatFloatG(x: number, precision?: number): string {
  return (x < 0 ? '-' : '') + formatG(Math.abs(x), precision);
}

function formatG(x: number, precision: number | undefined): string {
  const p = precision === 0 ? 1 : precision;
  const [mantissa = '0', exponent = '0'] = (p === undefined ? x.toExponential() : x.toExponential(p - 1)).split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
  const exp = Number(exponent);
  let eprec = p ?? 6; // Go uses 6 for the shortest form, not the digit count
  if (p !== undefined && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  if (exp < -4 || exp >= eprec) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${digits[0]}${fraction}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const point = exp + 1;
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Sign, then zero padding (which goes after the sign and prefix), then space padding. */
function padNumber(spec: FormatSpec, negative: boolean, prefix: string, digits: string): string {
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  if (spec.zero && !spec.minus && spec.width !== undefined) {
    digits = digits.padStart(spec.width - sign.length - prefix.length, '0');
  }
  return padText(spec, sign + prefix + digits);
}

function padText(spec: FormatSpec, s: string): string {
  const missing = (spec.width ?? 0) - [...s].length;
  if (missing <= 0) return s;
  return spec.minus ? s + ' '.repeat(missing) : ' '.repeat(missing) + s;
}

