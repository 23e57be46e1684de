/** stats and top: what is running inside containers. */
import { humanSize } from '../../lib/go/units.ts';
import { truncateId } from '../format/fields.ts';
import { formatRows } from '../format/render.ts';
import { tabwrite } from '../format/tabwrite.ts';
import { CliExit, errorText, type Cli, type CommandFactory } from '../context.ts';
import { bytesSize } from '../../lib/go/units.ts';

export const STATS_DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export const STATS_HEADERS: Readonly<Record<string, string>> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The numbers the docker CLI derives from one stats JSON (cli/command/container/stats_helpers.go). */
export interface StatsEntry {
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
}

export function statsEntry(v: Json): StatsEntry {
  const cpu = obj(v.cpu_stats);
  const precpu = obj(v.precpu_stats);
  // calculateCPUPercentUnix
  const cpuDelta = n(obj(cpu.cpu_usage).total_usage) - n(obj(precpu.cpu_usage).total_usage);
  const systemDelta = n(cpu.system_cpu_usage) - n(precpu.system_cpu_usage);
  let onlineCpus = n(cpu.online_cpus);
  if (onlineCpus === 0) onlineCpus = Array.isArray(obj(cpu.cpu_usage).percpu_usage) ? (obj(cpu.cpu_usage).percpu_usage as unknown[]).length : 0;
  const cpuPercentage = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;
  // calculateMemUsageUnixNoCache: usage minus inactive file cache (cgroup v1, then v2 name).
  const mem = obj(v.memory_stats);
  const usage = n(mem.usage);
  const memStats = obj(mem.stats);
  let memory = usage;
  if ('total_inactive_file' in memStats && n(memStats.total_inactive_file) < usage) memory = usage - n(memStats.total_inactive_file);
  else if (n(memStats.inactive_file) < usage) memory = usage - n(memStats.inactive_file);
  const memoryLimit = n(mem.limit);
  // calculateBlockIO
  let blockRead = 0;
  let blockWrite = 0;
  const io = obj(v.blkio_stats).io_service_bytes_recursive;
  for (const entry of Array.isArray(io) ? io.map(obj) : []) {
    const op = typeof entry.op === 'string' ? entry.op : '';
    if (op[0] === 'r' || op[0] === 'R') blockRead += n(entry.value);
    else if (op[0] === 'w' || op[0] === 'W') blockWrite += n(entry.value);
  }
  // calculateNetwork
  let networkRx = 0;
  let networkTx = 0;
  for (const net of Object.values(obj(v.networks)).map(obj)) {
    networkRx += n(net.rx_bytes);
    networkTx += n(net.tx_bytes);
  }
  return {
    name: typeof v.name === 'string' ? v.name : '',
    id: typeof v.id === 'string' ? v.id : '',
    cpuPercentage,
    memory,
    memoryLimit,
    memoryPercentage: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: n(obj(v.pids_stats).current),
  };
}

/** The `docker stats` formatting context (field names as in its templates). */
export function statsContext(container: string, e: StatsEntry, trunc: boolean): Record<string, string> {
  return {
    Container: container,
    Name: e.name.length > 1 ? e.name.slice(1) : '--',
    ID: trunc ? truncateId(e.id) : e.id,
    CPUPerc: `${e.cpuPercentage.toFixed(2)}%`,
    MemUsage: `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    MemPerc: `${e.memoryPercentage.toFixed(2)}%`,
    NetIO: `${humanSize(e.networkRx, 3)} / ${humanSize(e.networkTx, 3)}`,
    BlockIO: `${humanSize(e.blockRead, 3)} / ${humanSize(e.blockWrite, 3)}`,
    PIDs: String(e.pidsCurrent),
  };
}

interface StatsOptions {
  all?: boolean;
  stream: boolean;
  trunc: boolean;
  format?: string;
}

/** The containers to show: those named, or every running one (every one with -a), by short ID. */
async function targets(cli: Cli, refs: string[], all: boolean): Promise<string[]> {
  if (refs.length > 0) return refs;
  const list = await cli.client.listContainers({ all });
  return list.map((c) => truncateId(String(c.Id)));
}

async function sampleAll(cli: Cli, containers: string[], trunc: boolean, failOnError: boolean): Promise<Array<Record<string, string>>> {
  const errors: string[] = [];
  const rows = await Promise.all(containers.map(async (container) => {
    try {
      return statsContext(container, statsEntry(await cli.client.containerStats(container)), trunc);
    } catch (err) {
      errors.push(errorText(err));
      return undefined;
    }
  }));
  if (errors.length > 0 && failOnError) throw new CliExit(1, errors.join('\n'));
  return rows.filter((r): r is Record<string, string> => r !== undefined);
}

export const stats: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Display a live stream of container(s) resource usage statistics')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <template>', "format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'")
    .argument('[container...]')
    .action(async (refs: string[], o: StatsOptions) => {
      const render = (rows: Array<Record<string, string>>) => formatRows(o.format, rows, STATS_DEFAULT_TABLE, STATS_HEADERS);
      if (!o.stream) {
        cli.out(render(await sampleAll(cli, await targets(cli, refs, Boolean(o.all)), o.trunc, true)));
        return;
      }
      // Streaming: redraw every second (clearing the screen on a terminal), as docker does.
      for (let first = true; ; first = false) {
        const rows = await sampleAll(cli, await targets(cli, refs, Boolean(o.all)), o.trunc, first && refs.length > 0);
        cli.out(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${render(rows)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });

export const top: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Display the running processes of a container')
    .argument('<container>').argument('[ps-options...]')
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (ref: string, psArgs: string[]) => {
      const res = await cli.client.topContainer(ref, psArgs.length > 0 ? psArgs.join(' ') : undefined);
      cli.out(tabwrite([res.Titles, ...res.Processes], { minwidth: 20, padding: 3 }));
    });
