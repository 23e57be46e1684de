/** Linux capabilities with Docker's rules for --cap-add, --cap-drop, ALL and --privileged (moby oci/caps). */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../protocol/errors.ts';

/** Every capability Linux knows, in number order (CAP_CHOWN is 0). */
const KNOWN_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** What a container gets without --cap-add/--cap-drop (moby's DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

let available: string[] | undefined;

/**
 * The capabilities this process has (its CapEff), as moby's GetAllCapabilities: what a
 * privileged container or ALL can get. Running in a restricted environment, that is less
 * than the kernel knows, and asking the runtime for more fails.
 */
export function allCapabilities(): string[] {
  if (available) return available;
  let mask = (1n << BigInt(KNOWN_CAPABILITIES.length)) - 1n;
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line) mask = BigInt(`0x${line[1]}`);
  } catch {
    // Without /proc the full list is the best guess.
  }
  available = KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return available;
}

/**
 * "net_admin", "CAP_NET_ADMIN", "ALL" → canonical names; an unknown name is refused, one the
 * kernel lacks too. `field` names the list in the error (dockerd: `invalid CapAdd: …`).
 */
export function normalizeCapabilities(names: readonly string[], field: 'CapAdd' | 'CapDrop'): string[] {
  return names.map((name) => {
    let cap = name.toUpperCase();
    if (cap === 'ALL') return cap;
    if (!cap.startsWith('CAP_')) cap = `CAP_${cap}`;
    if (!(KNOWN_CAPABILITIES as readonly string[]).includes(cap)) throw invalidArgument(`invalid ${field}: unknown capability: "${cap}"`);
    if (!allCapabilities().includes(cap)) throw invalidArgument(`invalid ${field}: capability not supported by your kernel or not available in the current environment: "${cap}"`);
    return cap;
  });
}

/** Docker's TweakCapabilities: privileged → all; ALL in add → all but the dropped; ALL in drop → only the added. */
export function containerCapabilities(add: readonly string[], drop: readonly string[], privileged: boolean): string[] {
  if (privileged) return [...allCapabilities()];
  if (add.length === 0 && drop.length === 0) return [...DEFAULT_CAPABILITIES];
  const capAdd = normalizeCapabilities(add, 'CapAdd');
  const capDrop = normalizeCapabilities(drop, 'CapDrop');
  let caps: string[];
  if (capAdd.includes('ALL')) caps = allCapabilities().filter((c) => !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = capAdd;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}
