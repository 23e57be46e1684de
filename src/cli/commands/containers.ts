/** Container lifecycle and listing: stop, kill, restart, rm, wait, rename, pause, unpause, prune, ps. */
import { Option } from 'commander';
import { createInterface } from 'node:readline';
import { humanSize } from '../../lib/go/units.ts';
import { formatUsesSize, PS_DEFAULT_TABLE, psContext, psFormat } from '../format/ps.ts';
import { formatRows } from '../format/render.ts';
import { waitSurvivingRestarts } from '../reconnect.ts';
import { CliExit, collect, eachRef, filtersJson, forEachRef, intFlag, isNotFound, isNotModified, type Cli, type CommandFactory } from '../context.ts';

interface StopOptions {
  time?: string;
  timeout?: string;
  signal?: string;
}

const timeOptions = (verb: string) => [
  new Option('-t, --time <seconds>', `seconds to wait before killing the container`),
  new Option('--timeout <seconds>', `seconds to wait before killing the container`).hideHelp(),
  new Option('-s, --signal <signal>', `signal to send to the container to ${verb} it`),
];

const stopTimeout = (o: StopOptions): number | undefined => intFlag(o.time ?? o.timeout, o.time !== undefined ? 'time' : 'timeout');

export const stop: CommandFactory = (parent, cli, name) => {
  const cmd = parent.command(name).description('Stop one or more running containers').argument('<container...>');
  for (const option of timeOptions('stop')) cmd.addOption(option);
  return cmd.action(async (refs: string[], o: StopOptions) => {
    const timeout = stopTimeout(o);
    await forEachRef(cli, refs, async (ref) => {
      await cli.client.stopContainerWith(ref, { ...(timeout !== undefined ? { timeout } : {}), ...(o.signal ? { signal: o.signal } : {}) }).catch((err: unknown) => {
        if (!isNotModified(err)) throw err;
      });
      cli.out(`${ref}\n`);
    });
  });
};

export const restart: CommandFactory = (parent, cli, name) => {
  const cmd = parent.command(name).description('Restart one or more containers').argument('<container...>');
  for (const option of timeOptions('restart').slice(0, 2)) cmd.addOption(option);
  return cmd.action(async (refs: string[], o: StopOptions) => {
    const timeout = stopTimeout(o);
    await forEachRef(cli, refs, async (ref) => {
      await cli.client.restartContainer(ref, timeout);
      cli.out(`${ref}\n`);
    });
  });
};

export const kill: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Kill one or more running containers')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .argument('<container...>')
    .action(async (refs: string[], o: { signal?: string }) => {
      await forEachRef(cli, refs, async (ref) => {
        await cli.client.killContainer(ref, o.signal || undefined);
        cli.out(`${ref}\n`);
      });
    });

export const rm: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Remove one or more containers')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .option('-l, --link', 'remove the specified link')
    .argument('<container...>')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean; link?: boolean }) => {
      if (o.link) throw new CliExit(1, 'Error response from daemon: links are not supported');
      // As docker: with --force, a container that does not exist is reported but is no failure.
      await forEachRef(cli, refs, async (ref) => {
        await cli.client.removeContainerWith(ref, { force: Boolean(o.force), volumes: Boolean(o.volumes) });
        cli.out(`${ref}\n`);
      }, (err) => Boolean(o.force) && isNotFound(err));
    });

export const wait: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Block until one or more containers stop, then print their exit codes').argument('<container...>')
    .action(async (refs: string[]) => {
      await forEachRef(cli, refs, async (ref) => {
        const result = await waitSurvivingRestarts(cli.client, () => cli.client.waitContainer(ref));
        cli.out(`${result.StatusCode}\n`);
      });
    });

export const rename: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Rename a container').argument('<container>').argument('<new-name>')
    .action(async (ref: string, newName: string) => {
      const oldName = ref.trim();
      const next = newName.trim();
      if (!oldName || !next) throw new CliExit(1, 'Error: Neither old nor new names may be empty');
      const failed = await eachRef(cli, [oldName], (r) => cli.client.renameContainer(r, next));
      if (failed.length > 0) throw new CliExit(1, `Error: failed to rename container named ${oldName}`);
    });

export const pause: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Pause all processes within one or more containers').argument('<container...>')
    .action(async (refs: string[]) => {
      await forEachRef(cli, refs, async (ref) => {
        await cli.client.pauseContainer(ref);
        cli.out(`${ref}\n`);
      });
    });

export const unpause: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Unpause all processes within one or more containers').argument('<container...>')
    .action(async (refs: string[]) => {
      await forEachRef(cli, refs, async (ref) => {
        await cli.client.unpauseContainer(ref);
        cli.out(`${ref}\n`);
      });
    });

/** docker's prompt.Confirm: "[y/N]", yes only for "y"/"Y" (stdin closed or anything else: no). */
export async function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.out(`${message}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export const prune: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <filter>', 'provide filter values (e.g. "until=<timestamp>")', collect)
    .action(async (o: { force?: boolean; filter?: string[] }) => {
      const filters = filtersJson(o.filter);
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) return;
      const report = await cli.client.pruneContainers(filters);
      const deleted = report.ContainersDeleted ?? [];
      if (deleted.length > 0) cli.out(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
      cli.out(`Total reclaimed space: ${humanSize(deleted.length > 0 ? report.SpaceReclaimed : 0)}\n`);
    });

interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  last?: string;
  latest?: boolean;
  size?: boolean;
  filter?: string[];
  format?: string;
}

export const ps: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('List containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('--no-trunc', "don't truncate output")
    .option('-n, --last <n>', 'show n last created containers (includes all states)')
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('-s, --size', 'display total file sizes')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect)
    .option('--format <template>', "format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .action(async (o: PsOptions) => {
      const last = intFlag(o.last, 'last');
      const limit = o.latest ? 1 : last !== undefined && last > 0 ? last : undefined;
      const format = psFormat(o.format, { quiet: Boolean(o.quiet), size: Boolean(o.size) });
      const list = await cli.client.listContainers({
        all: o.all,
        ...(limit !== undefined ? { limit } : {}),
        size: Boolean(o.size) || formatUsesSize(format),
        filters: filtersJson(o.filter),
      });
      cli.out(formatRows(format, list.map((c) => psContext(c, { trunc: o.trunc })), PS_DEFAULT_TABLE));
    });
