import { invalidArgument } from '../protocol/errors.ts';
import type { ImageContainerConfig } from '../protocol/records.ts';
import { checkDigest } from './content-store.ts';

/** The OCI image config (application/vnd.oci.image.config.v1+json), which Docker's config extends. */
export interface ImageConfigBlob {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  comment?: string;
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

const stringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const stringMap = (v: unknown): v is Record<string, string> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');
const objectMap = (v: unknown): v is Record<string, object> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check an image config from an untrusted source. */
export function parseImageConfig(bytes: Buffer): ImageConfigBlob {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`image config is not valid JSON: ${(err as Error).message}`);
  }
  const c = doc as Partial<ImageConfigBlob>;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalidArgument('image config is not a JSON object');
  if (typeof c.rootfs !== 'object' || c.rootfs === null || !Array.isArray(c.rootfs.diff_ids)) throw invalidArgument('image config has no rootfs.diff_ids');
  c.rootfs.diff_ids.forEach((d) => checkDigest(d, 'diff ID in image config'));
  if (c.config !== undefined && c.config !== null && (typeof c.config !== 'object' || Array.isArray(c.config))) throw invalidArgument('image config: "config" is not an object');
  if (c.history !== undefined && !Array.isArray(c.history)) throw invalidArgument('image config: "history" is not an array');
  return { ...c, architecture: typeof c.architecture === 'string' ? c.architecture : '', os: typeof c.os === 'string' ? c.os : '' } as ImageConfigBlob;
}

/** What `create` takes from an image: only well-typed fields, so a bad image cannot break a container record. */
export function containerConfigOf(blob: ImageConfigBlob): ImageContainerConfig {
  const c = blob.config ?? {};
  const out: ImageContainerConfig = {};
  if (stringArray(c.Env)) out.Env = c.Env;
  if (stringArray(c.Cmd)) out.Cmd = c.Cmd;
  if (stringArray(c.Entrypoint)) out.Entrypoint = c.Entrypoint;
  if (typeof c.WorkingDir === 'string' && c.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (typeof c.User === 'string' && c.User) out.User = c.User;
  if (stringMap(c.Labels)) out.Labels = c.Labels;
  if (typeof c.StopSignal === 'string' && c.StopSignal) out.StopSignal = c.StopSignal;
  if (objectMap(c.ExposedPorts)) out.ExposedPorts = c.ExposedPorts;
  if (objectMap(c.Volumes)) out.Volumes = c.Volumes;
  const hc = c.Healthcheck as Record<string, unknown> | undefined;
  if (hc && stringArray(hc.Test)) {
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    out.Healthcheck = {
      Test: hc.Test,
      ...(num(hc.Interval) !== undefined ? { Interval: num(hc.Interval)! } : {}),
      ...(num(hc.Timeout) !== undefined ? { Timeout: num(hc.Timeout)! } : {}),
      ...(num(hc.StartPeriod) !== undefined ? { StartPeriod: num(hc.StartPeriod)! } : {}),
      ...(num(hc.Retries) !== undefined ? { Retries: num(hc.Retries)! } : {}),
    };
  }
  return out;
}

/** The platform this host runs, in OCI terms. */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  return arch === 'arm64' ? { os: 'linux', architecture: arch, variant: 'v8' } : { os: 'linux', architecture: arch };
}

/** "linux/arm64/v8" → its parts; throws on nonsense. */
export function parsePlatform(spec: string): { os: string; architecture: string; variant?: string } {
  const parts = spec.toLowerCase().split('/');
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) throw invalidArgument(`"${spec}": unknown operating system or architecture: invalid argument`);
  const [os, architecture = hostPlatform().architecture, variant] = parts as [string, string?, string?];
  const arch = ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64' } as Record<string, string>)[architecture] ?? architecture;
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}
