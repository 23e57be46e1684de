/** `docker import --change`: the Dockerfile instructions that make sense for a rootfs import. */
import { invalidArgument } from '../../protocol/errors.ts';
import type { ImageContainerConfig } from '../../protocol/records.ts';

export function parseChanges(changes: string[]): ImageContainerConfig {
  const config: ImageContainerConfig = {};
  for (const change of changes.flatMap((c) => c.split('\n')).filter((c) => c.trim())) {
    const match = /^\s*(\w+)\s+(.*)$/s.exec(change);
    if (!match) throw invalidArgument(`invalid change: ${change}`);
    const [, instruction, rest] = match as unknown as [string, string, string];
    const list = (): string[] => {
      if (!rest.trim().startsWith('[')) return ['/bin/sh', '-c', rest];
      let parsed: unknown;
      try {
        parsed = JSON.parse(rest);
      } catch {
        throw invalidArgument(`invalid change: ${change}: not a JSON array`);
      }
      if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) throw invalidArgument(`invalid change: ${change}: expected a JSON array of strings`);
      return parsed;
    };
    const pairs = (): Array<[string, string]> => {
      const text = rest.trim();
      if (!text.includes('=')) return [[text.split(/\s+/)[0]!, text.replace(/^\S+\s*/, '')]];
      return [...text.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((m) => [m[1]!, m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!]);
    };
    switch (instruction.toUpperCase()) {
      case 'CMD': config.Cmd = list(); break;
      case 'ENTRYPOINT': config.Entrypoint = list(); break;
      case 'ENV': for (const [k, v] of pairs()) (config.Env ??= []).push(`${k}=${v}`); break;
      case 'LABEL': for (const [k, v] of pairs()) (config.Labels ??= {})[k] = v; break;
      case 'WORKDIR': config.WorkingDir = rest.trim(); break;
      case 'USER': config.User = rest.trim(); break;
      case 'STOPSIGNAL': config.StopSignal = rest.trim(); break;
      case 'EXPOSE': for (const port of rest.trim().split(/\s+/)) (config.ExposedPorts ??= {})[port.includes('/') ? port : `${port}/tcp`] = {}; break;
      case 'VOLUME': for (const v of rest.trim().startsWith('[') ? list() : rest.trim().split(/\s+/)) (config.Volumes ??= {})[v] = {}; break;
      default: throw invalidArgument(`${instruction} is not a valid change command`);
    }
  }
  return config;
}
