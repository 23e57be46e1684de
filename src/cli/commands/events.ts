/** events: the daemon's event stream, printed as docker prints it. */
import { createInterface } from 'node:readline';
import { CliExit, collect, filtersJson, type CommandFactory } from '../context.ts';
import { compileTemplate } from './inspect.ts';
import { timestampFlag } from './logs.ts';
import { rfc3339NanoFixed } from '../../lib/go/time.ts';

interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number;
}

/**
 * docker's default line: `<time> <type> <action> <actor id> (k=v, …)`, attributes sorted by
 * key, the time as RFC3339 with nine fraction digits in the local zone. `nanos` is taken
 * from the raw JSON so no digit is lost to floating point.
 */
export function prettyEvent(event: EventMessage, nanos: bigint | undefined): string {
  let line = '';
  if (nanos !== undefined && nanos !== 0n) line += `${rfc3339NanoFixed(nanos)} `;
  else if (event.time) line += `${rfc3339NanoFixed(BigInt(event.time) * 1_000_000_000n)} `;
  line += `${event.Type ?? ''} ${event.Action ?? ''} ${event.Actor?.ID ?? ''}`;
  const attributes = event.Actor?.Attributes ?? {};
  const keys = Object.keys(attributes).sort();
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${attributes[k]}`).join(', ')})`;
  return `${line}\n`;
}

/** The event as the CLI's Go struct (events.Message): what `--format` templates see. */
function templateView(e: EventMessage): Record<string, unknown> {
  return {
    Status: e.status ?? '',
    ID: e.id ?? '',
    From: e.from ?? '',
    Type: e.Type ?? '',
    Action: e.Action ?? '',
    Actor: { ID: e.Actor?.ID ?? '', Attributes: e.Actor?.Attributes ?? {} },
    Scope: e.scope ?? '',
    Time: e.time ?? 0,
    TimeNano: e.timeNano ?? 0,
  };
}

export const events: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Get real time events from the server')
    .option('--since <time>', 'show all events created since timestamp')
    .option('--until <time>', 'stream events until this timestamp')
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect)
    .option('--format <template>', "format output using a custom template: 'json' or 'TEMPLATE'")
    .action(async (o: { since?: string; until?: string; filter?: string[]; format?: string }) => {
      const now = new Date();
      const since = timestampFlag(o.since, now);
      const until = timestampFlag(o.until, now);
      const filters = filtersJson(o.filter);
      const json = o.format === 'json' || (o.format !== undefined && /^\{\{\s*json\s+\.\s*\}\}$/.test(o.format));
      const template = json ? undefined : compileTemplate(o.format);
      const res = await cli.client.events({ since, until, filters });
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        const event = JSON.parse(line) as EventMessage;
        if (json) cli.out(`${line.trim()}\n`);
        else if (template) {
          try {
            cli.out(`${template.render(templateView(event))}\n`);
          } catch (err) {
            throw new CliExit(1, `template: ${(err as Error).message}`);
          }
        } else {
          const nanos = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
          cli.out(prettyEvent(event, nanos === undefined ? undefined : BigInt(nanos)));
        }
      }
    });
