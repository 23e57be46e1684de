/** images, tag, rmi, import, save, load, history, image prune. */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { humanSize } from '../../lib/go/units.ts';
import { imageContexts, imagesFormat, historyContext, historyFormat, HISTORY_DEFAULT_TABLE, HISTORY_HEADERS, IMAGES_DEFAULT_TABLE } from '../format/images.ts';
import { formatRows } from '../format/render.ts';
import { CliExit, collect, eachRef, filtersJson, isNotFound, type CommandFactory } from '../context.ts';
import { splitReference } from './run.ts';

interface ImagesOptions {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  digests?: boolean;
  filter?: string[];
  format?: string;
}

export const images: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('List images')
    .option('-a, --all', 'show all images (default hides intermediate images)')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', "don't truncate output")
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect)
    .option('--format <template>', "format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .action(async (repository: string | undefined, o: ImagesOptions) => {
      const filters = [...(o.filter ?? []), ...(repository ? [`reference=${repository}`] : [])];
      const list = await cli.client.listImages({ all: o.all, filters: filtersJson(filters) });
      const format = imagesFormat(o.format, { quiet: Boolean(o.quiet), digests: Boolean(o.digests) });
      const rows = list.flatMap((i) => imageContexts(i, { trunc: o.trunc, digests: Boolean(o.digests), format }));
      cli.out(formatRows(format, rows, IMAGES_DEFAULT_TABLE));
    });

export const tag: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]').argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source: string, target: string) => {
      const { name: repo, tag: targetTag } = splitReference(target);
      if (target.includes('@')) throw new CliExit(1, `refusing to create a tag with a digest reference`);
      await cli.client.tagImage(source, repo, targetTag);
    });

export const rmi: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Remove one or more images')
    .option('-f, --force', 'force removal of the image')
    .option('--no-prune', 'do not delete untagged parents')
    .argument('<image...>')
    .action(async (refs: string[], o: { force?: boolean; prune: boolean }) => {
      let fatal = false;
      const failed = await eachRef(cli, refs, async (ref) => {
        try {
          for (const item of await cli.client.removeImage(ref, { force: Boolean(o.force), noPrune: !o.prune })) {
            if (item.Deleted) cli.out(`Deleted: ${item.Deleted}\n`);
            else if (item.Untagged) cli.out(`Untagged: ${item.Untagged}\n`);
          }
        } catch (err) {
          if (!isNotFound(err)) fatal = true;
          throw err;
        }
      });
      // As docker: with --force, images that do not exist are reported but are no failure.
      if (failed.length > 0 && (!o.force || fatal)) throw new CliExit(1);
    });

export const importImage: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Import the contents from a tarball to create a filesystem image')
    .option('-c, --change <instruction>', 'apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <message>', 'set commit message for imported image')
    .argument('<file>', 'tarball path, or - for standard input').argument('[reference]', 'REPOSITORY[:TAG]')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .action(async (file: string, reference: string | undefined, o: { change?: string[]; message?: string; platform?: string }) => {
      const source = file === '-' ? process.stdin : createReadStream(file);
      if (file !== '-') {
        await new Promise<void>((resolve, reject) => {
          source.once('open', () => resolve());
          source.once('error', (err: NodeJS.ErrnoException) => reject(new CliExit(1, `open ${file}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`)));
        });
      }
      const result = await cli.client.importImage(source, reference, o.change ?? [], { ...(o.message ? { message: o.message } : {}), ...(o.platform ? { platform: o.platform } : {}) });
      cli.out(`${result.status}\n`);
    });

export const save: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .argument('<image...>')
    .action(async (refs: string[], o: { output?: string }) => {
      if (!o.output && process.stdout.isTTY) throw new CliExit(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const res = await cli.client.saveImages(refs);
      if (res.statusCode !== 200) throw await apiErrorOf(res);
      if (!o.output) {
        await pipeline(res, process.stdout);
        return;
      }
      // Written beside the target and renamed, so a failed save never leaves a partial archive under the name.
      const tmp = join(dirname(o.output), `.${basename(o.output)}.${process.pid}.tmp`);
      try {
        await pipeline(res, createWriteStream(tmp));
        renameSync(tmp, o.output);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
    });

export const load: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'suppress the load output')
    .action(async (o: { input?: string; quiet?: boolean }) => {
      if (!o.input && process.stdin.isTTY) throw new CliExit(1, 'requested load from stdin, but stdin is empty');
      const source = o.input ? createReadStream(o.input) : process.stdin;
      if (o.input) {
        await new Promise<void>((resolve, reject) => {
          source.once('open', () => resolve());
          source.once('error', (err: NodeJS.ErrnoException) => reject(new CliExit(1, `open ${o.input}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`)));
        });
      }
      await cli.client.loadImages(source, Boolean(o.quiet), (m) => {
        if (m.stream) cli.out(m.stream);
      });
    });

export const history: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Show the history of an image')
    .option('-H, --human [bool]', 'print sizes and dates in human readable format', true)
    .option('--no-trunc', "don't truncate output")
    .option('-q, --quiet', 'only show image IDs')
    .option('--format <template>', 'format output using a custom template')
    .argument('<image>')
    .action(async (ref: string, o: { human: boolean | string; trunc: boolean; quiet?: boolean; format?: string }) => {
      const rows = await cli.client.imageHistory(ref);
      const human = o.human !== false && o.human !== 'false';
      const contexts = rows.map((r) => historyContext(r, { human, trunc: o.trunc }));
      if (o.quiet) {
        cli.out(contexts.map((c) => `${c.ID}\n`).join(''));
        return;
      }
      cli.out(formatRows(historyFormat(o.format), contexts, HISTORY_DEFAULT_TABLE, HISTORY_HEADERS));
    });

export const imagePrune: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (e.g. "until=<timestamp>")', collect)
    .action(async (o: { all?: boolean; force?: boolean; filter?: string[] }) => {
      if (!o.force && process.stdin.isTTY) throw new CliExit(1, 'berth image prune asks for no confirmation: pass --force');
      const filters = [...(o.filter ?? []), ...(o.all ? ['dangling=false'] : [])];
      const result = await cli.client.pruneImages(filtersJson(filters));
      if (result.ImagesDeleted?.length) {
        cli.out('Deleted Images:\n');
        for (const item of result.ImagesDeleted) cli.out(item.Untagged ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted}\n`);
        cli.out('\n');
      }
      cli.out(`Total reclaimed space: ${humanSize(result.SpaceReclaimed)}\n`);
    });

async function apiErrorOf(res: import('node:http').IncomingMessage): Promise<CliExit> {
  let text = '';
  for await (const chunk of res) text += (chunk as Buffer).toString();
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch { /* not JSON */ }
  return new CliExit(1, `Error response from daemon: ${message}`);
}
