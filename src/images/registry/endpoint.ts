import { BlockList, isIP } from 'node:net';
import { registryHost } from '../../protocol/reference.ts';

export interface RegistryEndpoint {
  /** host[:port] to connect to. */
  host: string;
  /** Plain HTTP: loopback registries and those listed in insecure-registries, as in Docker. */
  insecure: boolean;
}

/** Where to reach the registry of a reference's domain, and whether over plain HTTP. */
export function registryEndpoint(domain: string, insecureRegistries: readonly string[]): RegistryEndpoint {
  const host = registryHost(domain);
  return { host, insecure: isInsecure(host, insecureRegistries) };
}

function isInsecure(host: string, insecureRegistries: readonly string[]): boolean {
  const hostname = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (insecureRegistries.includes(host) || insecureRegistries.includes(hostname)) return true;
  const family = isIP(hostname);
  if (hostname === 'localhost') return true;
  if (family === 0) return false;
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  for (const entry of insecureRegistries) {
    const [net, bits] = entry.split('/');
    if (!net || bits === undefined || isIP(net) === 0) continue;
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return list.check(hostname, family === 6 ? 'ipv6' : 'ipv4');
}
