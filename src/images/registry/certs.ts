import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { invalidArgument } from '../../protocol/errors.ts';

/** TLS material for one registry, from Docker's certs.d layout. */
export interface RegistryTls {
  /** Extra CAs to trust, besides the system's. */
  ca: string[];
  /** A client certificate for registries that ask for one. */
  cert?: string;
  key?: string;
}

/** Where the per-registry certificates live (Docker's /etc/docker/certs.d, berth's own). */
export function certsDir(): string {
  return process.env.BERTH_CERTS_DIR ?? '/etc/berth/certs.d';
}

/**
 * `<certs.d>/<host[:port]>/`: every `*.crt` is a CA to trust; `name.cert` with `name.key` is a
 * client certificate, as the docker daemon reads them. Undefined when there is no such folder.
 */
export function registryTls(host: string, dir = certsDir()): RegistryTls | undefined {
  let names: string[];
  try {
    names = readdirSync(join(dir, host)).sort();
  } catch {
    return undefined;
  }
  const read = (name: string) => readFileSync(join(dir, host, name), 'utf8');
  const tls: RegistryTls = { ca: names.filter((n) => n.endsWith('.crt')).map(read) };
  const cert = names.find((n) => n.endsWith('.cert'));
  if (cert) {
    const key = `${cert.slice(0, -'.cert'.length)}.key`;
    if (!names.includes(key)) throw invalidArgument(`missing key ${key} for client certificate ${cert} in ${join(dir, host)}`);
    tls.cert = read(cert);
    tls.key = read(key);
  }
  return tls;
}

/** Options for a TLS connection: the system's CAs plus the registry's own, and its client certificate. */
export function connectOptions(tls: RegistryTls | undefined, verify: boolean): Record<string, unknown> {
  return {
    rejectUnauthorized: verify,
    ...(tls?.ca.length ? { ca: [...rootCertificates, ...tls.ca] } : {}),
    ...(tls?.cert ? { cert: tls.cert, key: tls.key } : {}),
  };
}
