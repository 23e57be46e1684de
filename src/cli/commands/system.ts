/** version, info, system df. */
import { humanSize } from '../../lib/go/units.ts';
import { IMAGES_HEADERS, imagesContext } from '../format/images.ts';
import { PS_HEADERS, psContext } from '../format/ps.ts';
import { formatRows } from '../format/render.ts';
import { tabwrite } from '../format/tabwrite.ts';
import type { CommandFactory } from '../context.ts';
import { bytesSize } from '../../lib/go/units.ts';
import { compileTemplate, printInspected } from './inspect.ts';
import { BERTH_VERSION } from '../../protocol/version.ts';

export const CLI_VERSION = BERTH_VERSION;
const API_VERSION = '1.47';

const arch = (): string => (process.arch === 'x64' ? 'amd64' : process.arch);

/** The client half of `version` / `info`, with the docker CLI's template field names. */
function clientVersion(): Record<string, unknown> {
  return {
    Platform: { Name: 'berth' },
    Version: CLI_VERSION,
    APIVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: process.env.BERTH_GIT_COMMIT ?? 'unknown',
    GoVersion: `node ${process.versions.node}`,
    Os: 'linux',
    Arch: arch(),
    BuildTime: '',
    Context: 'default',
  };
}

const s = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export const version: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Show the berth version information')
    .option('-f, --format <template>', 'format output using a custom template')
    .action(async (o: { format?: string }) => {
      const template = compileTemplate(o.format);
      const client = clientVersion();
      const v = await cli.client.version();
      const { ApiVersion, ...rest } = v;
      const server = { ...rest, APIVersion: ApiVersion };
      if (template) return printInspected(cli, [{ Client: client, Server: server }], template);
      // docker's default template, aligned by a tabwriter (minwidth 20, padding 1).
      const lines: string[][] = [
        ['Client: berth'],
        [' Version:', s(client.Version)],
        [' API version:', s(client.APIVersion)],
        [' Go version:', s(client.GoVersion)],
        [' Git commit:', s(client.GitCommit)],
        [' Built:', s(client.BuildTime)],
        [' OS/Arch:', `${s(client.Os)}/${s(client.Arch)}`],
        [' Context:', s(client.Context)],
        [''],
        [`Server:${s((v.Platform as { Name?: string } | undefined)?.Name) ? ` ${s((v.Platform as { Name: string }).Name)}` : ''}`],
      ];
      const components = Array.isArray(v.Components) ? (v.Components as Array<{ Name: string; Version: string; Details?: Record<string, string> }>) : [];
      for (const c of components) {
        const d = c.Details ?? {};
        lines.push([` ${c.Name}:`]);
        if (c.Name === 'Engine') {
          lines.push(
            ['  Version:', s(c.Version)],
            ['  API version:', `${s(d.ApiVersion)} (minimum version ${s(d.MinAPIVersion)})`],
            ['  Go version:', s(d.GoVersion)],
            ['  Git commit:', s(d.GitCommit)],
            ['  Built:', s(d.BuildTime)],
            ['  OS/Arch:', `${s(d.Os)}/${s(d.Arch)}`],
            ['  Experimental:', s(d.Experimental)],
          );
        } else {
          lines.push(['  Version:', s(c.Version)], ...Object.keys(d).map((k) => [`  ${k}:`, s(d[k])]));
        }
      }
      cli.out(tabwrite(lines, { minwidth: 20, padding: 1 }));
    });

export const info: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Display system-wide information')
    .option('-f, --format <template>', 'format output using a custom template')
    .action(async (o: { format?: string }) => {
      const template = compileTemplate(o.format);
      const info = await cli.client.info();
      if (template) return printInspected(cli, [{ ...info, ClientInfo: { ...clientVersion(), Debug: false } }], template);
      const client = clientVersion();
      const runtimes = info.Runtimes && typeof info.Runtimes === 'object' ? Object.keys(info.Runtimes) : [];
      const lines = [
        'Client:',
        ` Version:    ${s(client.Version)}`,
        ` Context:    ${s(client.Context)}`,
        ' Debug Mode: false',
        '',
        'Server:',
        ` Containers: ${s(info.Containers)}`,
        `  Running: ${s(info.ContainersRunning)}`,
        `  Paused: ${s(info.ContainersPaused)}`,
        `  Stopped: ${s(info.ContainersStopped)}`,
        ` Images: ${s(info.Images)}`,
        ` Server Version: ${s(info.ServerVersion)}`,
        ` Storage Driver: ${s(info.Driver)}`,
        ` Logging Driver: ${s(info.LoggingDriver)}`,
        ` Cgroup Driver: ${s(info.CgroupDriver)}`,
        ` Cgroup Version: ${s(info.CgroupVersion)}`,
        ` Swarm: ${s((info.Swarm as { LocalNodeState?: string } | undefined)?.LocalNodeState) || 'inactive'}`,
        ` Runtimes: ${runtimes.join(' ')}`,
        ` Default Runtime: ${s(info.DefaultRuntime)}${info.DefaultRuntimeReason ? ` (${s(info.DefaultRuntimeReason)})` : ''}`,
        ` Kernel Version: ${s(info.KernelVersion)}`,
        ` Operating System: ${s(info.OperatingSystem)}`,
        ` OSType: ${s(info.OSType)}`,
        ` Architecture: ${s(info.Architecture)}`,
        ` CPUs: ${s(info.NCPU)}`,
        ` Total Memory: ${bytesSize(Number(info.MemTotal ?? 0))}`,
        ` Name: ${s(info.Name)}`,
        ` ID: ${s(info.ID)}`,
        ` Docker Root Dir: ${s(info.DockerRootDir)}`,
        ` Debug Mode: ${s(info.Debug ?? false)}`,
        ` Experimental: ${s(info.ExperimentalBuild ?? false)}`,
        ` Live Restore Enabled: ${s(info.LiveRestoreEnabled)}`,
      ];
      cli.out(`${lines.join('\n')}\n\n`);
      for (const w of Array.isArray(info.Warnings) ? (info.Warnings as string[]) : []) cli.err(`WARNING: ${w}\n`);
    });

// ------------------------------------------------------------------ system df

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const active = (c: Json): boolean => ['running', 'paused', 'restarting'].includes(String(c.State));

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** "1.2MB (50%)", as the docker CLI's disk usage contexts print reclaimable space. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes)} (${Math.trunc((bytes * 100) / total)}%)` : humanSize(bytes);
}

/** The four rows of `docker system df`. */
export function diskUsageRows(df: Json): Array<Record<string, string>> {
  const images = list(df.Images);
  const containers = list(df.Containers);
  const volumes = list(df.Volumes);
  const cache = list(df.BuildCache);
  const layers = num(df.LayersSize);
  const usedByImages = images
    .filter((i) => num(i.Containers) !== 0 && i.Size !== -1 && i.SharedSize !== -1)
    .reduce((sum, i) => sum + num(i.Size) - num(i.SharedSize), 0);
  const containersSize = containers.reduce((sum, c) => sum + num(c.SizeRw), 0);
  const volumeSize = (v: Json) => Math.max(0, num((v.UsageData as Json | undefined)?.Size));
  const volumesSize = volumes.reduce((sum, v) => sum + volumeSize(v), 0);
  const cacheSize = cache.filter((c) => !c.Shared).reduce((sum, c) => sum + num(c.Size), 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => num(i.Containers) > 0).length), Size: humanSize(layers), Reclaimable: reclaimable(layers - usedByImages, layers) },
    {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.filter(active).length),
      Size: humanSize(containersSize),
      Reclaimable: reclaimable(containers.filter((c) => !active(c)).reduce((sum, c) => sum + num(c.SizeRw), 0), containersSize),
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => num((v.UsageData as Json | undefined)?.RefCount) > 0).length),
      Size: humanSize(volumesSize),
      Reclaimable: reclaimable(volumes.filter((v) => num((v.UsageData as Json | undefined)?.RefCount) === 0).reduce((sum, v) => sum + volumeSize(v), 0), volumesSize),
    },
    {
      Type: 'Build Cache',
      TotalCount: String(cache.length),
      Active: String(cache.filter((c) => c.InUse).length),
      Size: humanSize(cacheSize),
      Reclaimable: humanSize(cache.filter((c) => !c.InUse && !c.Shared).reduce((sum, c) => sum + num(c.Size), 0)),
    },
  ];
}

function verboseDiskUsage(df: Json): string {
  const images = list(df.Images).map((i) => imagesContext(i, { trunc: true }));
  const containers = list(df.Containers).map((c) => ({ ...psContext(c, { trunc: true }), Size: humanSize(num(c.SizeRw)) }));
  const cacheSize = list(df.BuildCache).reduce((sum, c) => sum + num(c.Size), 0);
  return [
    'Images space usage:\n\n',
    formatRows('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', images, '', IMAGES_HEADERS),
    '\nContainers space usage:\n\n',
    formatRows('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', containers, '', PS_HEADERS),
    '\nLocal Volumes space usage:\n\n',
    tabwrite([['VOLUME NAME', 'LINKS', 'SIZE']]),
    `\nBuild cache usage: ${humanSize(cacheSize)}\n\n`,
    tabwrite([['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED']]),
  ].join('');
}

export const df: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Show docker disk usage')
    .option('-v, --verbose', 'show detailed information on space usage')
    .option('--format <template>', "format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .action(async (o: { verbose?: boolean; format?: string }) => {
      const usage = await cli.client.diskUsage();
      if (o.verbose && o.format === undefined) return cli.out(verboseDiskUsage(usage));
      cli.out(formatRows(o.format, diskUsageRows(usage), DF_TABLE, DF_HEADERS));
    });

/** berth's own: containers still running under another data root, and a way to stop them. */
export const orphans: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('List containers left running under another data root; --stop ends them')
    .option('--stop <id...>', 'stop these orphans (and let their shims go)')
    .action(async (o: { stop?: string[] }) => {
      for (const id of o.stop ?? []) {
        await cli.client.json('POST', `/berth/orphans/${encodeURIComponent(id)}/stop`);
        cli.out(`${id}\n`);
      }
      if (o.stop) return;
      const list = await cli.client.json<Array<{ id: string; dataRoot: string }>>('GET', '/berth/orphans');
      cli.out(tabwrite([['CONTAINER ID', 'DATA ROOT'], ...list.map((x) => [x.id.slice(0, 12), x.dataRoot])]));
    });
