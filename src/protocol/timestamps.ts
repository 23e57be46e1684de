/**
 * Times in the API's `since`/`until` (docker's api/types/time): unix seconds with an optional
 * fraction. berthd also takes what the docker CLI converts on its side (timetypes.GetTimestamp):
 * RFC3339 dates and times, the zone optional (then local), and Go durations counted back from now.
 */

const NS_PER_SECOND = 1_000_000_000n;
const UNIX = /^(\d+)(?:\.(\d+))?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;
const DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;
const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

/** timetypes.ParseTimestamps: "seconds[.fraction]" in nanoseconds; undefined when it is not one. */
export function parseUnixTimestamp(value: string): bigint | undefined {
  const m = UNIX.exec(value);
  if (!m) return undefined;
  return BigInt(m[1]!) * NS_PER_SECOND + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0'));
}

/** Go's time.ParseDuration, in nanoseconds; undefined when `value` is not a duration. */
export function parseDuration(value: string): bigint | undefined {
  if (/^[+-]?0$/.test(value)) return 0n;
  if (!DURATION.test(value)) return undefined;
  let total = 0n;
  for (const [, whole = '', fraction = '', unit = ''] of value.matchAll(DURATION_PART)) {
    const scale = DURATION_UNITS[unit]!;
    total += BigInt(whole || '0') * scale;
    if (fraction) total += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
  }
  return value.startsWith('-') ? -total : total;
}

/** Go's time.ParseDuration in seconds, for flags that take durations. */
export function parseGoDuration(value: string): number | undefined {
  const ns = parseDuration(value);
  return ns === undefined ? undefined : Number(ns) / 1e9;
}

/** An RFC3339 time with seconds and zone ("2023-11-14T22:13:20.5Z"), in nanoseconds. */
export function parseRFC3339(value: string): bigint | undefined {
  const ns = parseDateTime(value, true);
  return typeof ns === 'bigint' ? ns : undefined;
}

/**
 * A date, date-time or RFC3339 time in nanoseconds; without a zone it is local time (as the
 * docker CLI reads it). "out of range" when it has the shape but no such time exists.
 */
function parseDateTime(value: string, requireFull: boolean): bigint | 'out of range' | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec, fraction = '', zone] = m;
  if (requireFull && (sec === undefined || zone === undefined)) return undefined;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0)] as const;
  const date = zone === undefined ? new Date(...fields) : new Date(Date.UTC(...fields));
  // Date normalises overflow (month 13, hour 25); Go refuses it.
  const back = zone === undefined
    ? [date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()]
    : [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  if (back.some((v, i) => v !== fields[i])) return 'out of range';
  let ns = BigInt(date.getTime()) * 1_000_000n + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    ns -= BigInt(zone[0] === '-' ? -offsetMinutes : offsetMinutes) * 60n * NS_PER_SECOND;
  }
  return ns;
}

/**
 * What berthd accepts in since/until: unix seconds ("1700000000", "1700000000.123456789"), a
 * date or RFC3339 time, or a Go duration before `now` ("10m", "1h30m"). Undefined when none.
 */
export function parseTimestamp(value: string, now: Date = new Date()): bigint | undefined {
  const v = value.trim();
  const unix = parseUnixTimestamp(v);
  if (unix !== undefined) return unix;
  const duration = parseDuration(v);
  if (duration !== undefined) return BigInt(now.getTime()) * 1_000_000n - duration;
  const time = parseDateTime(v, false);
  return typeof time === 'bigint' ? time : undefined;
}

/**
 * The docker CLI's timetypes.GetTimestamp: a `--since`/`--until` value → what the API takes.
 * Durations count back from `now` to whole unix seconds; dates become "seconds.nanoseconds";
 * unix timestamps pass through. Throws with Go's messages.
 */
export function apiTimestamp(value: string, now: Date = new Date()): string {
  const duration = value !== '0' ? parseDuration(value) : undefined;
  if (duration !== undefined) return String(floorDiv(BigInt(now.getTime()) * 1_000_000n - duration, NS_PER_SECOND));
  const time = parseDateTime(value, false);
  if (time === 'out of range') throw new Error(`parsing time "${value}": out of range`);
  if (time !== undefined) {
    const seconds = floorDiv(time, NS_PER_SECOND);
    return `${seconds}.${String(time - seconds * NS_PER_SECOND).padStart(9, '0')}`;
  }
  if (value.includes('-')) throw new Error(`parsing time "${value}": cannot parse as RFC3339`);
  if (parseUnixTimestamp(value) === undefined) throw new Error(`failed to parse value as time or duration: "${value}"`);
  return value;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
