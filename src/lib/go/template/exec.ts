/** text/template's executor: walks the tree over the data, calling functions and methods. */
import { formatValue } from '../fmt.ts';
import { goTypeName, isMap, isMethod, mapGet, NO_VALUE, sortedEntries } from '../values.ts';
import { checkArity, FunctionError, GO_PARAM_TYPES, LAZY_BUILTINS, truth, type Builtin, type ParamType } from './funcs.ts';
import { lineOf, TemplateError } from './lex.ts';
import type { Command, ControlNode, Located, Operand, Pipeline, TemplateNode } from './parse.ts';

interface CallArgs {
  ops: Operand[];
  final: unknown;
}

/** Marks "no value piped in from a previous command". */
const NO_FINAL = Symbol('no final');
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

export class Executor {
  readonly root: unknown;
  out = '';
  private readonly src: string;
  private readonly missingKeyError: boolean;
  private readonly functions: ReadonlyMap<string, Builtin>;
  private readonly vars: { name: string; value: unknown }[];

  constructor(src: string, data: unknown, options: { missingKeyError: boolean; functions: ReadonlyMap<string, Builtin> }) {
    this.src = src;
    this.root = data ?? NO_VALUE;
    this.missingKeyError = options.missingKeyError;
    this.functions = options.functions;
    this.vars = [{ name: '$', value: this.root }];
  }

  walkList(nodes: TemplateNode[], dot: unknown): void {
    for (const node of nodes) this.walk(node, dot);
  }

  private walk(node: TemplateNode, dot: unknown): void {
    switch (node.kind) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out += value === NO_VALUE ? '<no value>' : formatValue(value);
        return;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(node, dot);
      case 'range':
        return this.walkRange(node, dot);
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkIfOrWith(node: ControlNode, dot: unknown): void {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    if (truth(value)) this.walkList(node.list, node.kind === 'with' ? value : dot);
    else this.walkList(node.elseList, dot);
    this.vars.length = mark;
  }

  private walkRange(node: ControlNode, dot: unknown): void {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    const declBase = this.vars.length - (node.pipe.isAssign ? 0 : node.pipe.decl.length);
    let empty = true;
    for (const [key, elem] of this.rangeItems(node.pipe, value)) {
      empty = false;
      this.setRangeVariables(node.pipe, declBase, key, elem);
      const iterationMark = this.vars.length;
      try {
        this.walkList(node.list, elem);
      } catch (err) {
        if (err === BREAK) break;
        if (err !== CONTINUE) throw err;
      } finally {
        this.vars.length = iterationMark;
      }
    }
    if (empty) this.walkList(node.elseList, dot);
    this.vars.length = mark;
  }

  private *rangeItems(pipe: Pipeline, value: unknown): Iterable<[unknown, unknown]> {
    if (value === NO_VALUE || value === null || value === undefined) return;
    if (Array.isArray(value)) yield* value.map((elem, i): [unknown, unknown] => [i, elem]);
    else if (isMap(value)) yield* sortedEntries(value);
    else if (typeof value === 'number' && Number.isInteger(value)) {
      if (pipe.decl.length > 1) this.fail(pipe, `can't use ${value} to iterate over more than one variable`);
      for (let i = 0; i < value; i++) yield [i, i];
    } else this.fail(pipe, `range can't iterate over ${formatValue(value)}`);
  }

  /** With one variable it receives the element; with two, the index (or key) and the element. */
  private setRangeVariables(pipe: Pipeline, declBase: number, key: unknown, elem: unknown): void {
    const values = pipe.decl.length > 1 ? [key, elem] : [elem];
    pipe.decl.forEach((name, i) => {
      if (pipe.isAssign) this.lookup(name).value = values[i];
      else this.vars[declBase + i]!.value = values[i];
    });
  }

  private evalPipeline(dot: unknown, pipe: Pipeline): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.lookup(name).value = value;
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const [first, ...rest] = cmd.args;
    if (first.kind === 'ident') return this.callFunction(dot, first.name, cmd, rest, final);
    const hasArgs = rest.length > 0 || final !== NO_FINAL;
    if (hasArgs && !('chain' in first && first.chain.length > 0)) {
      this.fail(cmd, `can't give argument to non-function ${first.text}`);
    }
    return this.evalOperand(dot, first, hasArgs ? { ops: rest, final } : undefined);
  }

  /** `args` are what follows the operand in its command; only a method at the end of a chain takes them. */
  private evalOperand(dot: unknown, op: Operand, args?: CallArgs): unknown {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'nil':
        return null;
      case 'ident':
        return this.callFunction(dot, op.name, op, [], NO_FINAL);
      case 'dot':
        return this.evalChain(dot, op, dot, op.chain, args);
      case 'variable':
        return this.evalChain(dot, op, this.lookup(op.name).value, op.chain, args);
      case 'pipe':
        return this.evalChain(dot, op, this.evalPipeline(dot, op.pipe), op.chain, args);
    }
  }

  private evalChain(dot: unknown, at: Located, receiver: unknown, chain: string[], args: CallArgs | undefined): unknown {
    chain.forEach((name, i) => {
      receiver = this.evalField(dot, at, receiver, name, i === chain.length - 1 ? args : undefined);
    });
    return receiver;
  }

  private evalField(dot: unknown, at: Located, receiver: unknown, name: string, args: CallArgs | undefined): unknown {
    if (receiver === NO_VALUE || receiver === undefined) {
      if (this.missingKeyError) this.fail(at, `nil data; no entry for key "${name}"`);
      return NO_VALUE;
    }
    if (receiver === null) this.fail(at, `nil pointer evaluating interface {}.${name}`);
    if (!isMap(receiver)) this.fail(at, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    const method = Object.hasOwn(receiver, name) ? receiver[name] : undefined;
    if (isMethod(method)) return this.callMethod(dot, at, receiver, name, method, args);
    if (args) this.fail(at, `${name} is not a method but has arguments`);
    const value = mapGet(receiver, name);
    if (value !== NO_VALUE) return value;
    if (this.missingKeyError) this.fail(at, `map has no entry for key "${name}"`);
    return NO_VALUE;
  }

  /** Go calls a method as it reads the field, with the command's arguments if it is the chain's last. */
  private callMethod(dot: unknown, at: Located, receiver: unknown, name: string, method: (...args: unknown[]) => unknown, args: CallArgs | undefined): unknown {
    const values = (args?.ops ?? []).map((op) => this.evalOperand(dot, op));
    if (args && args.final !== NO_FINAL) values.push(args.final);
    if (values.length !== method.length) this.fail(at, `wrong number of args for ${name}: want ${method.length} got ${values.length}`);
    let result: unknown;
    try {
      result = Reflect.apply(method, receiver, values.map((v) => (v === NO_VALUE ? null : v)));
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.fail(at, `error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return result === undefined ? NO_VALUE : result;
  }

  private callFunction(dot: unknown, name: string, at: Located, argOps: Operand[], final: unknown): unknown {
    const thunks = argOps.map((op) => () => this.evalOperand(dot, op));
    if (final !== NO_FINAL) thunks.push(() => final);
    const lazy = this.functions.has(name) ? undefined : LAZY_BUILTINS.get(name);
    if (lazy) {
      if (thunks.length === 0) this.fail(at, `wrong number of args for ${name}: want at least 1 got 0`);
      return lazy(thunks);
    }
    const fn = this.functions.get(name)!;
    const arityProblem = checkArity(name, fn, thunks.length);
    if (arityProblem) this.fail(at, arityProblem);
    const args = thunks.map((thunk, i) => this.coerce(at, thunk(), fn.params[i] ?? fn.rest ?? 'any'));
    try {
      return fn.call(args);
    } catch (err) {
      if (err instanceof FunctionError) this.fail(at, `error calling ${name}: ${err.message}`);
      throw err;
    }
  }

  /** Checks a value against a Go parameter type, as text/template does before calling a function. */
  private coerce(at: Located, value: unknown, type: ParamType): unknown {
    if (type === 'any') return value === NO_VALUE ? null : value;
    const ok = type === 'string' ? typeof value === 'string' : type === 'int' ? Number.isInteger(value) : Array.isArray(value);
    if (ok) return value;
    const expected = GO_PARAM_TYPES[type];
    if (value === NO_VALUE) this.fail(at, `invalid value; expected ${expected}`);
    this.fail(at, `wrong type for value; expected ${expected}; got ${goTypeName(value)}`);
  }

  private lookup(name: string): { name: string; value: unknown } {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!;
    }
    throw new TemplateError(`template: undefined variable: ${name}`);
  }

  private fail(at: Located, message: string): never {
    const before = this.src.slice(0, at.pos);
    const column = at.pos - (before.lastIndexOf('\n') + 1);
    const context = at.text.length > 20 ? `${at.text.slice(0, 20)}...` : at.text;
    throw new TemplateError(`template: :${lineOf(this.src, at.pos)}:${column}: executing "" at <${context}>: ${message}`);
  }
}
