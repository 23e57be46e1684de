/** text/template's parser: tokens → a tree of text, actions and if/with/range blocks. */
import { Lexer, parseError, type TemplateError, type Token } from './lex.ts';

export interface Located {
  pos: number;
  text: string;
}

export type Operand = Located & (
  | { kind: 'dot'; chain: string[] } // "." or ".A.B"
  | { kind: 'variable'; name: string; chain: string[] }
  | { kind: 'pipe'; pipe: Pipeline; chain: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'nil' }
);

export interface Command extends Located {
  args: [Operand, ...Operand[]];
}

export interface Pipeline extends Located {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

type ControlKind = 'if' | 'with' | 'range';

export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: ControlKind; pipe: Pipeline; list: TemplateNode[]; elseList: TemplateNode[] }
  | { kind: 'break' | 'continue' };

export type ControlNode = Extract<TemplateNode, { list: TemplateNode[] }>;

export class Parser {
  private readonly src: string;
  private readonly tokens: Token[];
  private index = 0;
  private readonly vars: string[] = ['$'];
  private rangeDepth = 0;
  private readonly isFunction: (name: string) => boolean;

  constructor(src: string, isFunction: (name: string) => boolean) {
    this.src = src;
    this.tokens = new Lexer(src).run();
    this.isFunction = isFunction;
  }

  parse(): TemplateNode[] {
    const { nodes, stop } = this.parseList();
    if (stop.kind !== 'eof') throw this.error(stop, `unexpected {{${stop.text}}}`);
    return nodes;
  }

  /** Parses nodes up to EOF or an {{end}}/{{else}} keyword, which is returned as `stop`. */
  private parseList(): { nodes: TemplateNode[]; stop: Token } {
    const nodes: TemplateNode[] = [];
    for (;;) {
      const token = this.next();
      if (token.kind === 'eof') return { nodes, stop: token };
      if (token.kind === 'text') {
        nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const keyword = this.peekNonSpace();
      if (keyword.kind === 'keyword' && (keyword.text === 'end' || keyword.text === 'else')) {
        this.nextNonSpace();
        if (keyword.text === 'end') this.expectRight('end');
        return { nodes, stop: keyword };
      }
      nodes.push(this.parseAction());
    }
  }

  private parseAction(): TemplateNode {
    const token = this.peekNonSpace();
    if (token.kind !== 'keyword') return { kind: 'action', pipe: this.parsePipeline('command', 'right') };
    this.nextNonSpace();
    const keyword = token.text;
    if (keyword === 'if' || keyword === 'with' || keyword === 'range') return this.parseControl(keyword);
    if (keyword === 'break' || keyword === 'continue') {
      if (this.rangeDepth === 0) throw this.error(token, `{{${keyword}}} outside {{range}}`);
      this.expectRight(keyword);
      return { kind: keyword };
    }
    throw this.error(token, `{{${keyword}}} is not supported`);
  }

  private parseControl(kind: ControlKind): ControlNode {
    const mark = this.vars.length;
    const pipe = this.parsePipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const { nodes: list, stop } = this.parseList();
    if (kind === 'range') this.rangeDepth--;
    if (stop.kind === 'eof') throw this.error(stop, 'unexpected EOF');
    const elseList = stop.text === 'else' ? this.parseElse(kind) : [];
    this.vars.length = mark;
    return { kind, pipe, list, elseList };
  }

  private parseElse(kind: ControlKind): TemplateNode[] {
    const next = this.peekNonSpace();
    // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}; likewise "else with".
    if (kind !== 'range' && next.kind === 'keyword' && next.text === kind) {
      this.nextNonSpace();
      return [this.parseControl(kind)];
    }
    this.expectRight('else');
    const { nodes, stop } = this.parseList();
    if (stop.kind === 'eof') throw this.error(stop, 'unexpected EOF');
    if (stop.text === 'else') throw this.error(stop, 'expected {{end}}; found {{else}}');
    return nodes;
  }

  private parsePipeline(context: string, end: 'right' | 'rparen'): Pipeline {
    const start = this.peekNonSpace().pos;
    const { decl, isAssign } = this.parseDeclarations(context);
    if (this.peekNonSpace().kind === end) throw this.error(this.peekNonSpace(), `missing value for ${context}`);
    const cmds: Command[] = [];
    let token: Token;
    for (;;) {
      cmds.push(this.parseCommand());
      token = this.nextNonSpace();
      if (token.kind === end) break;
      if (token.kind !== 'pipe') throw this.unexpected(token, context);
    }
    cmds.forEach((cmd, i) => {
      if (i > 0 && !isExecutable(cmd.args[0])) throw this.error(cmd, `non executable command in pipeline stage ${i + 1}`);
    });
    if (!isAssign) this.vars.push(...decl);
    return { decl, isAssign, cmds, pos: start, text: this.src.slice(start, token.pos).trim() };
  }

  /** Parses `$x :=`, `$x =` or, in range, `$i, $v :=`; consumes nothing if there is no declaration. */
  private parseDeclarations(context: string): { decl: string[]; isAssign: boolean } {
    const none = { decl: [], isAssign: false };
    if (this.peekNonSpace().kind !== 'variable') return none;
    const save = this.index;
    const variables = [this.nextNonSpace()];
    let separator = this.nextNonSpace();
    if (separator.kind === 'comma') {
      if (context !== 'range') throw this.error(separator, `too many declarations in ${context}`);
      const second = this.nextNonSpace();
      if (second.kind !== 'variable') throw this.unexpected(second, context);
      variables.push(second);
      separator = this.nextNonSpace();
    }
    if (separator.kind !== 'declare' && separator.kind !== 'assign') {
      if (variables.length > 1) throw this.unexpected(separator, context);
      this.index = save;
      return none;
    }
    const isAssign = separator.kind === 'assign';
    if (isAssign) variables.forEach((v) => this.checkVariable(v));
    return { decl: variables.map((v) => v.text), isAssign };
  }

  private parseCommand(): Command {
    const args: Operand[] = [];
    for (;;) {
      const next = this.peekNonSpace().kind;
      if (next === 'pipe' || next === 'right' || next === 'rparen') break;
      args.push(this.parseOperand());
      const after = this.peek();
      if (!['space', 'pipe', 'right', 'rparen'].includes(after.kind)) throw this.unexpected(after, 'operand');
    }
    const [first, ...rest] = args;
    if (first === undefined) throw this.error(this.peekNonSpace(), 'empty command');
    if (first.kind === 'nil') throw this.error(first, 'nil is not a command');
    const last = rest.at(-1) ?? first;
    return { args: [first, ...rest], pos: first.pos, text: this.src.slice(first.pos, last.pos + last.text.length) };
  }

  private parseOperand(): Operand {
    const operand = this.parseTerm(this.nextNonSpace());
    while (this.peek().kind === 'field') {
      const field = this.next();
      if (!('chain' in operand)) throw this.error(field, `unexpected ${field.text} after ${operand.text}`);
      operand.chain.push(field.text.slice(1));
      operand.text = this.src.slice(operand.pos, field.pos + field.text.length);
    }
    return operand;
  }

  private parseTerm(token: Token): Operand {
    const at = { pos: token.pos, text: token.text };
    switch (token.kind) {
      case 'ident':
        if (!this.isFunction(token.text)) throw this.error(token, `function "${token.text}" not defined`);
        return { ...at, kind: 'ident', name: token.text };
      case 'dot':
        return { ...at, kind: 'dot', chain: [] };
      case 'field':
        return { ...at, kind: 'dot', chain: [token.text.slice(1)] };
      case 'variable':
        this.checkVariable(token);
        return { ...at, kind: 'variable', name: token.text, chain: [] };
      case 'nil':
        return { ...at, kind: 'nil' };
      case 'literal':
        return { ...at, kind: 'literal', value: token.value };
      case 'lparen': {
        const pipe = this.parsePipeline('parenthesized pipeline', 'rparen');
        const end = this.tokens[this.index - 1]!.pos + 1;
        return { kind: 'pipe', pipe, chain: [], pos: token.pos, text: this.src.slice(token.pos, end) };
      }
      default:
        throw this.unexpected(token, 'operand');
    }
  }

  private checkVariable(token: Token): void {
    if (!this.vars.includes(token.text)) throw this.error(token, `undefined variable "${token.text}"`);
  }

  private expectRight(context: string): void {
    const token = this.nextNonSpace();
    if (token.kind !== 'right') throw this.unexpected(token, context);
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private nextNonSpace(): Token {
    while (this.peek().kind === 'space') this.index++;
    return this.next();
  }

  private peekNonSpace(): Token {
    let i = this.index;
    while (this.tokens[i]!.kind === 'space') i++;
    return this.tokens[i]!;
  }

  private unexpected(token: Token, context: string): TemplateError {
    const what = token.kind === 'eof' ? 'EOF' : token.kind === 'keyword' ? `<${token.text}>` : JSON.stringify(token.text);
    return this.error(token, `unexpected ${what} in ${context}`);
  }

  private error(at: { pos: number }, message: string): TemplateError {
    return parseError(this.src, at.pos, message);
  }
}

/** Go rejects literals, dot and parenthesised values as later pipeline stages at parse time. */
function isExecutable(op: Operand): boolean {
  if (op.kind === 'ident' || op.kind === 'variable') return true;
  return 'chain' in op && op.chain.length > 0;
}
