/**
 * Registry credentials as they cross from the client to the daemon: the X-Registry-Auth
 * header, base64url JSON of Docker's AuthConfig. The daemon never stores them.
 */
import { invalidArgument } from './errors.ts';

/** What the daemon uses to authenticate to a registry. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** A refresh token from an earlier OAuth2 login; exchanged at the token realm with grant_type=refresh_token. */
  identitytoken?: string;
  /** A bearer token to send as is; no token exchange happens. */
  registrytoken?: string;
}

/** The header's JSON document, as the docker CLI fills it. */
export interface RegistryAuthConfig extends RegistryCredentials {
  serveraddress?: string;
}

export function encodeRegistryAuth(config: RegistryAuthConfig): string {
  return Buffer.from(JSON.stringify(config)).toString('base64url');
}

/** The credentials in an X-Registry-Auth value; undefined when there is none or it carries none. */
export function decodeRegistryAuth(header: string | string[] | undefined): RegistryCredentials | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw invalidArgument('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined);
  const credentials: RegistryCredentials = {};
  if (str('username')) credentials.username = str('username')!;
  if (str('password')) credentials.password = str('password')!;
  if (str('identitytoken')) credentials.identitytoken = str('identitytoken')!;
  if (str('registrytoken')) credentials.registrytoken = str('registrytoken')!;
  return Object.keys(credentials).length ? credentials : undefined;
}
