/** text/template's lexer: the source as text, delimiters and the tokens inside actions. */

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type TokenKind =
  | 'text' | 'left' | 'right' | 'space' | 'ident' | 'keyword' | 'field' | 'variable' | 'dot'
  | 'literal' | 'nil' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';


export interface Token {
  kind: TokenKind;
  pos: number;
  /** The token's source text. */
  text: string;
  /** Decoded value of a literal (string, number or boolean). */
  value?: unknown;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);
const PUNCTUATION = new Map<string, TokenKind>([
  ['|', 'pipe'], ['(', 'lparen'], [')', 'rparen'], [',', 'comma'], ['=', 'assign'],
]);
const SPACES = /[ \t\r\n]+/y;
const IDENTIFIER = /[\p{L}_][\p{L}\p{N}_]*/uy;
const FIELD = /\.[\p{L}_][\p{L}\p{N}_]*/uy;
const VARIABLE = /\$[\p{L}\p{N}_]*/uy;
// Deliberately loose; parseNumber() validates what it captured.
const NUMBER = /[+-]?\.?\d(?:[\p{L}\p{N}_.]|(?<=[eEpP])[+-])*/uy;

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

export class Lexer {
  private readonly src: string;
  private readonly tokens: Token[] = [];
  private pos = 0;
  private trimNextText = false;

  constructor(src: string) {
    this.src = src;
  }

  run(): Token[] {
    while (this.lexText()) {
      if (this.src.startsWith('/*', this.pos)) this.lexComment();
      else this.lexAction();
    }
    this.tokens.push({ kind: 'eof', pos: this.src.length, text: '' });
    return this.tokens;
  }

  /** Emits the text up to the next "{{" and moves past it; false at end of input. */
  private lexText(): boolean {
    const open = this.src.indexOf('{{', this.pos);
    const end = open === -1 ? this.src.length : open;
    const trimLeft = open !== -1 && this.src[open + 2] === '-' && isSpace(this.src[open + 3]);
    let text = this.src.slice(this.pos, end);
    if (this.trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text !== '') this.tokens.push({ kind: 'text', pos: this.pos, text });
    this.trimNextText = false;
    this.pos = open === -1 ? end : open + (trimLeft ? 4 : 2);
    return open !== -1;
  }

  private lexComment(): void {
    const close = this.src.indexOf('*/', this.pos + 2);
    if (close === -1) throw parseError(this.src, this.pos, 'unclosed comment');
    this.pos = close + 2;
    if (!this.lexRightDelim()) throw parseError(this.src, this.pos, 'comment ends before closing delimiter');
  }

  private lexAction(): void {
    this.tokens.push({ kind: 'left', pos: this.pos, text: '{{' });
    for (;;) {
      const start = this.pos;
      if (this.lexRightDelim()) {
        this.tokens.push({ kind: 'right', pos: start, text: this.src.slice(start, this.pos) });
        return;
      }
      this.lexToken();
    }
  }

  /** Consumes "}}" or the trimming " -}}". */
  private lexRightDelim(): boolean {
    if (this.src.startsWith('}}', this.pos)) {
      this.pos += 2;
      return true;
    }
    if (isSpace(this.src[this.pos]) && this.src.startsWith('-}}', this.pos + 1)) {
      this.pos += 4;
      this.trimNextText = true;
      return true;
    }
    return false;
  }

  private lexToken(): void {
    const { src, pos } = this;
    const c = src[pos];
    if (c === undefined) throw parseError(src, pos, 'unclosed action');
    const punctuation = src.startsWith(':=', pos) ? 'declare' : PUNCTUATION.get(c);
    if (punctuation) return this.emit(punctuation, punctuation === 'declare' ? 2 : 1);
    if (isSpace(c)) return this.emit('space', this.match(SPACES));
    if (c === '"' || c === "'") return this.lexQuoted(c);
    if (c === '`') return this.lexRawString();
    if (c === '$') return this.emit('variable', this.match(VARIABLE));
    if (c === '.' && !/\d/.test(src[pos + 1] ?? '')) {
      const field = this.match(FIELD);
      return this.emit(field ? 'field' : 'dot', field || 1);
    }
    const numberLength = this.match(NUMBER);
    if (numberLength) {
      const text = src.slice(pos, pos + numberLength);
      const value = parseNumber(text);
      if (value === undefined) throw parseError(src, pos, `bad number syntax: "${text}"`);
      return this.emit('literal', numberLength, value);
    }
    const identLength = this.match(IDENTIFIER);
    if (identLength) return this.lexIdentifier(src.slice(pos, pos + identLength));
    const code = c.codePointAt(0) ?? 0;
    throw parseError(src, pos, `unrecognized character in action: U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
  }

  private lexIdentifier(word: string): void {
    if (word === 'true' || word === 'false') return this.emit('literal', word.length, word === 'true');
    if (word === 'nil') return this.emit('nil', 3);
    this.emit(KEYWORDS.has(word) ? 'keyword' : 'ident', word.length);
  }

  private lexQuoted(quote: '"' | "'"): void {
    let end = this.pos + 1;
    for (;;) {
      const c = this.src[end];
      if (c === undefined || c === '\n') {
        const what = quote === '"' ? 'unterminated quoted string' : 'unterminated character constant';
        throw parseError(this.src, this.pos, what);
      }
      if (c === quote) break;
      end += c === '\\' ? 2 : 1;
    }
    const text = this.src.slice(this.pos, end + 1);
    const value = unescapeGo(text.slice(1, -1));
    if (value === undefined) throw parseError(this.src, this.pos, `invalid syntax: ${text}`);
    if (quote === '"') return this.emit('literal', text.length, value);
    const chars = [...value];
    if (chars.length !== 1) throw parseError(this.src, this.pos, `malformed character constant: ${text}`);
    this.emit('literal', text.length, chars[0]!.codePointAt(0));
  }

  private lexRawString(): void {
    const end = this.src.indexOf('`', this.pos + 1);
    if (end === -1) throw parseError(this.src, this.pos, 'unterminated raw quoted string');
    this.emit('literal', end + 1 - this.pos, this.src.slice(this.pos + 1, end));
  }

  private match(pattern: RegExp): number {
    pattern.lastIndex = this.pos;
    return pattern.exec(this.src)?.[0].length ?? 0;
  }

  private emit(kind: TokenKind, length: number, value?: unknown): void {
    this.tokens.push({ kind, pos: this.pos, text: this.src.slice(this.pos, this.pos + length), value });
    this.pos += length;
  }
}

function parseNumber(text: string): number | undefined {
  const clean = text.replace(/_/g, '');
  const sign = clean.startsWith('-') ? -1 : 1;
  const body = clean.replace(/^[+-]/, '');
  if (/^0[xX][\da-fA-F]+$/.test(body)) return sign * parseInt(body.slice(2), 16);
  if (/^0[bB][01]+$/.test(body)) return sign * parseInt(body.slice(2), 2);
  if (/^0[oO]?[0-7]+$/.test(body)) return sign * parseInt(body.replace(/^0[oO]?/, ''), 8);
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return sign * Number(body);
  return undefined;
}

const SIMPLE_ESCAPES = new Map([
  ['a', 7], ['b', 8], ['f', 12], ['n', 10], ['r', 13], ['t', 9], ['v', 11], ['\\', 92], ["'", 39], ['"', 34],
]);

/** Decodes Go escape sequences; \x and octal escapes are bytes, so build UTF-8 and decode once. */
function unescapeGo(body: string): string | undefined {
  const bytes: number[] = [];
  const pieces = /\\(?:x([\da-fA-F]{2})|([0-7]{3})|u([\da-fA-F]{4})|U([\da-fA-F]{8})|(.))|([^\\]+)/gsu;
  for (const [, hex, octal, u4, u8, simple, literal] of body.matchAll(pieces)) {
    if (literal !== undefined) bytes.push(...Buffer.from(literal));
    else if (hex !== undefined) bytes.push(parseInt(hex, 16));
    else if (octal !== undefined && parseInt(octal, 8) < 256) bytes.push(parseInt(octal, 8));
    else if (u4 !== undefined || u8 !== undefined) {
      const code = parseInt((u4 ?? u8)!, 16);
      if (code > 0x10ffff) return undefined;
      bytes.push(...Buffer.from(String.fromCodePoint(code)));
    } else {
      const byte = simple === undefined ? undefined : SIMPLE_ESCAPES.get(simple);
      if (byte === undefined) return undefined;
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function lineOf(src: string, pos: number): number {
  return src.slice(0, pos).split('\n').length;
}

export function parseError(src: string, pos: number, message: string): TemplateError {
  return new TemplateError(`template: :${lineOf(src, pos)}: ${message}`);
}
