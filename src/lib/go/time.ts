/** Go's time formatting, in the local zone as Go's time.Local. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** time.Unix(s, 0).String(): "2024-05-01 10:00:00 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const offsetMinutes = -date.getTimezoneOffset();
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hh = pad(Math.floor(abs / 60));
  const mm = pad(abs % 60);
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

/**
 * Go's `time.Unix(0, ns).Format('2006-01-02T15:04:05.000000000Z07:00')` (jsonmessage's
 * RFC3339NanoFixed) in the local zone; nanoseconds as a bigint keep every digit.
 */
export function rfc3339NanoFixed(ns: bigint): string {
  const seconds = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
  const fraction = ns - seconds * 1_000_000_000n;
  const date = new Date(Number(seconds) * 1000);
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${fraction.toString().padStart(9, '0')}${zone}`;
}

