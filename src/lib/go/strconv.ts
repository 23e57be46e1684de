/** Go's strconv quoting. */

const ESCAPES = new Map([
  ['\x07', '\\a'], ['\b', '\\b'], ['\f', '\\f'], ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t'], ['\v', '\\v'], ['\\', '\\\\'],
]);

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** strconv.Quote: a double-quoted Go string literal, non-printable characters escaped. */
export function quote(s: string): string {
  return quoteWith(s, '"');
}

/** strconv.QuoteRune: a single-quoted Go character literal. */
export function quoteRune(codePoint: number): string {
  const ch = codePoint >= 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd';
  return quoteWith(ch, "'");
}

function quoteWith(s: string, delimiter: '"' | "'"): string {
  let out = delimiter;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    const escape = ESCAPES.get(ch);
    if (ch === delimiter) out += `\\${ch}`;
    else if (escape !== undefined) out += escape;
    else if (ch === ' ' || PRINTABLE.test(ch)) out += ch;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out + delimiter;
}
