/** `docker ps`: its formats, header texts and the context of each row (the CLI's ContainerContext). */
import { quote } from '../../lib/go/strconv.ts';
import { goTimeString } from '../../lib/go/time.ts';
import { humanDuration, humanSize } from '../../lib/go/units.ts';
import { cmp, displayReference, ellipsis, isRecord, num, QUIET_FORMAT, str, stringList, stringMap, truncateId } from './fields.ts';

export const PS_DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_RAW_FORMAT = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;

/** Header text of each ps field (the CLI's ContainerContext header map). */
export const PS_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

/** docker ps: the format to use for --format/--quiet/--size (the CLI's NewContainerFormat). */
export function psFormat(format: string | undefined, opts: { quiet?: boolean; size?: boolean } = {}): string {
  // The CLI warns "Ignoring custom format, because both --format and --quiet are set."
  if (opts.quiet) return format === 'raw' ? 'container_id: {{.ID}}' : QUIET_FORMAT;
  if (!format || format === 'table') return PS_DEFAULT_TABLE + (opts.size ? '\t{{.Size}}' : '');
  if (format === 'raw') return PS_RAW_FORMAT + (opts.size ? 'size: {{.Size}}\n' : '');
  return format;
}

/** Whether a ps format shows .Size (the CLI then asks the daemon for sizes: `size=1`). */
export function formatUsesSize(format: string | undefined): boolean {
  return format !== undefined && /\.Size\b/.test(format);
}

/** `docker ps` context for one `GET /containers/json` entry. */
export function psContext(summary: Record<string, unknown>, opts: { trunc: boolean; now?: number }): Record<string, unknown> {
  const now = opts.now ?? Date.now();
  const created = num(summary.Created);
  const labels = stringMap(summary.Labels);
  const mounts = Array.isArray(summary.Mounts) ? summary.Mounts.filter(isRecord) : [];
  const names = stringList(summary.Names).map((n) => n.slice(1));
  let shownNames = names;
  if (opts.trunc) {
    // Legacy link names ("/other/alias") are left out unless there is nothing else.
    const own = names.find((n) => !n.includes('/'));
    if (own !== undefined) shownNames = [own];
  }
  const networkSettings = isRecord(summary.NetworkSettings) ? summary.NetworkSettings : {};
  const networks = isRecord(networkSettings.Networks) ? Object.keys(networkSettings.Networks).sort() : [];
  const sizeRw = num(summary.SizeRw);
  const sizeRootFs = num(summary.SizeRootFs);
  // Keys in the order Go's JSON encoding of the context prints them (sorted).
  return {
    Command: quote(opts.trunc ? ellipsis(str(summary.Command), 20) : str(summary.Command)),
    CreatedAt: goTimeString(created),
    ID: opts.trunc ? truncateId(str(summary.Id)) : str(summary.Id),
    Image: psImage(str(summary.Image), str(summary.ImageID), opts.trunc),
    Label: (name: string): string => labels[name] ?? '',
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    LocalVolumes: String(mounts.filter((m) => m.Driver === 'local').length),
    Mounts: mounts
      .map((m) => {
        const name = str(m.Name) || str(m.Source);
        return opts.trunc ? ellipsis(name, 15) : name;
      })
      .join(','),
    Names: shownNames.join(','),
    Networks: networks.join(','),
    Ports: displayablePorts(Array.isArray(summary.Ports) ? summary.Ports.filter(isRecord) : []),
    RunningFor: `${humanDuration(now - created * 1000)} ago`,
    Size: sizeRootFs > 0 ? `${humanSize(sizeRw, 3)} (virtual ${humanSize(sizeRootFs, 3)})` : humanSize(sizeRw, 3),
    State: str(summary.State),
    Status: str(summary.Status),
  };
}

function psImage(image: string, imageId: string, trunc: boolean): string {
  if (image === '') return '<no image>';
  if (!trunc) return image;
  const short = truncateId(imageId);
  if (short !== '' && short === truncateId(image)) return short;
  const ref = displayReference(image);
  if (!ref) return image;
  return ref.tag ? `${ref.name}:${ref.tag}` : ref.name;
}

/** The CLI's DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/tcp". */
export function displayablePorts(ports: Array<Record<string, unknown>>): string {
  const list = ports.map((p) => ({ ip: str(p.IP), priv: num(p.PrivatePort), pub: num(p.PublicPort), type: str(p.Type) }));
  list.sort((a, b) => a.priv - b.priv || cmp(a.ip, b.ip) || a.pub - b.pub || cmp(a.type, b.type));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of list) {
    let key = port.type;
    if (port.ip !== '') {
      if (port.pub !== port.priv) {
        hostMappings.push(`${joinHostPort(port.ip, String(port.pub))}->${port.priv}/${port.type}`);
        continue;
      }
      key = `${port.ip}/${port.type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: port.priv, last: port.priv });
      continue;
    }
    if (port.priv === group.last + 1) {
      group.last = port.priv;
      continue;
    }
    result.push(formGroup(key, group.first, group.last));
    // Go replaces the map value (keeping the key's first-insertion place in its key list).
    groups.set(key, { first: port.priv, last: port.priv });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

