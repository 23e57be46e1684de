/**
 * Registry credentials for `berth login`, kept like the docker CLI keeps them: a config.json
 * with `auths: { "<registry>": { "auth": base64("user:password") } }`, mode 0600, in
 * $BERTH_CONFIG or ~/.berth. The daemon never stores them; each pull or push sends them in
 * X-Registry-Auth.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { encodeRegistryAuth, type RegistryAuthConfig } from '../protocol/registry-auth.ts';
import { CliExit } from './context.ts';

const DOCKER_HUB = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  [key: string]: unknown;
}

export function configDir(): string {
  return process.env.BERTH_CONFIG ?? join(homedir(), '.berth');
}

function configPath(): string {
  return join(configDir(), 'config.json');
}

/** The config file; a missing one is empty, an unreadable one an error (never overwritten). */
function readConfig(): ConfigFile {
  let text: string;
  try {
    text = readFileSync(configPath(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliExit(1, `cannot read ${configPath()}: ${(err as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as ConfigFile;
  } catch { /* reported below */ }
  throw new CliExit(1, `${configPath()} is not a JSON object; fix or remove it`);
}

/** The key docker uses for a registry: Docker Hub's legacy URL, else host[:port]. */
export function registryKey(server: string | undefined): string {
  const host = (server ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return !host || ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB : host;
}

/** The registry a reference lives on: the part before the first slash when it looks like a host. */
export function registryOf(reference: string): string {
  const first = reference.split('/')[0] ?? '';
  return reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : DOCKER_HUB;
}

export function saveCredentials(server: string, username: string, password: string): string {
  const config = readConfig();
  const key = registryKey(server);
  config.auths = { ...config.auths, [key]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  writeFileAtomic(configPath(), JSON.stringify(config, null, '\t') + '\n', 0o600);
  return key;
}

/** true when there was something to remove. */
export function removeCredentials(server: string | undefined): boolean {
  const config = readConfig();
  const key = registryKey(server);
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  writeFileAtomic(configPath(), JSON.stringify(config, null, '\t') + '\n', 0o600);
  return true;
}

/** X-Registry-Auth for a registry: base64url JSON of the stored credentials, or an empty object. */
export function registryAuthHeader(server: string): string {
  const entry = readConfig().auths?.[registryKey(server)];
  let body: RegistryAuthConfig = {};
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new CliExit(1, `the stored credentials for ${registryKey(server)} are malformed; run berth login again`);
    body = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: registryKey(server) };
  } else if (entry?.identitytoken) {
    body = { identitytoken: entry.identitytoken, serveraddress: registryKey(server) };
  }
  return encodeRegistryAuth(body);
}
