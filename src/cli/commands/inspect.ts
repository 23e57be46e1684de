/** inspect (containers, then images), container inspect, image inspect. */
import { parseGoTemplate, TemplateError, type CompiledTemplate } from '../../lib/go/template/index.ts';
import { CliExit, errorText, isNotFound, type Cli, type CommandFactory } from '../context.ts';

type Kind = 'container' | 'image';

/** Compiles `-f`, as docker: a bad template is "template parsing error: …", exit 1 (nothing looked up). */
export function compileTemplate(format: string | undefined): CompiledTemplate | undefined {
  if (format === undefined || format === '' || format === 'json') return undefined;
  try {
    return parseGoTemplate(format);
  } catch (err) {
    throw new CliExit(1, `template parsing error: ${(err as Error).message}`);
  }
}

/** Renders one element per line with the template, or all of them as docker's indented JSON array. */
export function printInspected(cli: Cli, results: unknown[], template: CompiledTemplate | undefined): void {
  if (!template) {
    cli.out(`${JSON.stringify(results, null, 4)}\n`);
    return;
  }
  for (const r of results) {
    try {
      cli.out(`${template.render(r)}\n`);
    } catch (err) {
      if (err instanceof TemplateError) throw new CliExit(1, `template: ${err.message}`);
      throw err;
    }
  }
}

/**
 * docker inspect: each name as the given kinds in order, moving on only when the daemon says
 * "not found"; all results are printed, then every error, and the exit status is 1 if any failed.
 */
async function inspectRefs(cli: Cli, refs: string[], kinds: Kind[], o: { format?: string; size?: boolean }): Promise<void> {
  const template = compileTemplate(o.format);
  const results: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    let found = false;
    for (const kind of kinds) {
      try {
        results.push(kind === 'container' ? await cli.client.inspectContainer(ref, { size: Boolean(o.size) }) : await cli.client.inspectImage(ref));
        found = true;
        break;
      } catch (err) {
        if (kinds.length === 1 || !isNotFound(err)) {
          errors.push(errorText(err));
          found = true; // reported
          break;
        }
      }
    }
    if (!found) errors.push(`Error: No such object: ${ref}`);
  }
  printInspected(cli, results, template);
  if (errors.length > 0) throw new CliExit(1, errors.join('\n'));
}

const TYPES: Record<string, Kind[]> = { '': ['container', 'image'], container: ['container'], image: ['image'] };

export const inspect: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Return low-level information on containers or images')
    .option('-f, --format <template>', 'format output using a custom template')
    .option('-s, --size', 'display total file sizes if the type is container')
    .option('--type <type>', 'only inspect objects of the given type (container or image)')
    .argument('<name...>')
    .action(async (refs: string[], o: { format?: string; size?: boolean; type?: string }) => {
      const kinds = TYPES[o.type ?? ''];
      if (!kinds) throw new CliExit(1, `"${o.type}" is not a valid value for --type`);
      await inspectRefs(cli, refs, kinds, o);
    });

export const containerInspect: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Display detailed information on one or more containers')
    .option('-f, --format <template>', 'format output using a custom template')
    .option('-s, --size', 'display total file sizes')
    .argument('<container...>')
    .action((refs: string[], o: { format?: string; size?: boolean }) => inspectRefs(cli, refs, ['container'], o));

export const imageInspect: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Display detailed information on one or more images')
    .option('-f, --format <template>', 'format output using a custom template')
    .argument('<image...>')
    .action((refs: string[], o: { format?: string }) => inspectRefs(cli, refs, ['image'], o));
