/** logs: a container's json-file log, demultiplexed to stdout and stderr. */
import { CliExit, type CommandFactory } from '../context.ts';
import { pumpOutput } from '../streams.ts';
import { apiTimestamp } from '../../protocol/timestamps.ts';
import { followLogs } from '../reconnect.ts';

interface LogsOptions {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  details?: boolean;
}

/** `--since`/`--until` as the API takes them (docker converts on the client, relative to its clock). */
export function timestampFlag(value: string | undefined, now = new Date()): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return apiTimestamp(value, now);
  } catch (err) {
    throw new CliExit(1, (err as Error).message);
  }
}

export const logs: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Fetch the logs of a container')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--until <time>', 'show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('--details', 'show extra details provided to logs')
    .argument('<container>')
    .action(async (ref: string, o: LogsOptions) => {
      const now = new Date();
      const since = timestampFlag(o.since, now);
      const until = timestampFlag(o.until, now);
      const api = cli.client;
      const c = await api.inspectContainer(ref);
      if (o.follow && c.Config.Tty !== true) {
        await followLogs(api, c.Id, { tail: o.tail, timestamps: Boolean(o.timestamps), details: Boolean(o.details), since, until }, (stream, data) => void (stream === 2 ? process.stderr : process.stdout).write(data));
        return;
      }
      const res = await api.containerLogs(c.Id, {
        follow: o.follow || undefined,
        tail: o.tail,
        timestamps: o.timestamps || undefined,
        since,
        until,
        details: o.details || undefined,
      });
      await pumpOutput(res, c.Config.Tty === true);
    });
