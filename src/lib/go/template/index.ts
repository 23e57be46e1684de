/**
 * A dependency-free evaluator for the subset of Go's text/template that `docker inspect -f`
 * and `docker ps --format` users rely on, with the helper functions the docker CLI registers
 * (json, join, upper, pad, ...). Data follow ../values.ts; a function-valued property is a
 * method, called as Go calls methods: `{{.Label "com.example"}}`.
 */
import { Executor } from './exec.ts';
import { BUILTINS, LAZY_BUILTINS, type Builtin } from './funcs.ts';
import { Parser } from './parse.ts';

export { TemplateError } from './lex.ts';
export { fixed as templateFunction, type Builtin as TemplateFunction } from './funcs.ts';

export interface CompiledTemplate {
  render(data: unknown): string;
}

export interface TemplateOptions {
  /** Go's `missingkey` option: "error" makes a missing map key an execution error. */
  missingKey?: 'default' | 'error';
  /** Go's Funcs: added to the builtins, replacing those of the same name. */
  functions?: Readonly<Record<string, Builtin>>;
}

export function parseGoTemplate(source: string, options: TemplateOptions = {}): CompiledTemplate {
  const functions = new Map([...BUILTINS, ...Object.entries(options.functions ?? {})]);
  const nodes = new Parser(source, (name) => functions.has(name) || LAZY_BUILTINS.has(name)).parse();
  const missingKeyError = options.missingKey === 'error';
  return {
    render(data: unknown): string {
      const executor = new Executor(source, data, { missingKeyError, functions });
      executor.walkList(nodes, executor.root);
      return executor.out;
    },
  };
}

export function renderGoTemplate(source: string, data: unknown, options?: TemplateOptions): string {
  return parseGoTemplate(source, options).render(data);
}
