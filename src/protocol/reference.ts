import { invalidArgument } from './errors.ts';

/**
 * An image reference in Docker's grammar: [domain/]path[:tag][@digest]. Stored and shown
 * in Docker's "familiar" form (busybox:latest, 127.0.0.1:5000/app:1), resolved against
 * docker.io/library for registry traffic.
 */
export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const COMPONENT_SOURCE = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const COMPONENT = new RegExp(`^${COMPONENT_SOURCE}$`);
/** A repository path without its domain, as the registry API takes it ("library/busybox"). */
export const REPOSITORY_PATH = new RegExp(`^${COMPONENT_SOURCE}(?:/${COMPONENT_SOURCE})*$`);
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
export const TAG = /^[\w][\w.-]{0,127}$/;
/** The digests berth stores and names images by. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Any digest in the distribution grammar, `algorithm:encoded`; which algorithms count is DIGEST_HEX_LENGTH's. */
export const ANY_DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** The algorithms a registry's digests may use, with their length in hex digits. */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

export function parseReference(input: string): ImageReference {
  const bad = () => invalidArgument(`invalid reference format: ${input}`);
  if (input.length === 0 || input.length > 255 * 2) throw bad();
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidArgument(`invalid reference format: ${input}: digest must be sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad();
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw bad();
    domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
    parts.shift();
  }
  if (parts.length === 0 || !parts.every((c) => COMPONENT.test(c))) {
    if (rest !== rest.toLowerCase()) throw invalidArgument(`invalid reference format: repository name (${rest}) must be lowercase`);
    throw bad();
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (domain.length + path.length + 1 > 255) throw invalidArgument(`invalid reference format: repository name must not be more than 255 characters`);
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** docker.io/library/busybox → busybox; 127.0.0.1:5000/app stays. */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
}

export function fullName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** "name:tag", defaulting the tag to latest. */
export function familiarTagged(ref: ImageReference): string {
  return `${familiarName(ref)}:${ref.tag ?? 'latest'}`;
}

export function familiarDigested(ref: ImageReference, digest: string): string {
  return `${familiarName(ref)}@${digest}`;
}

/** "busybox" → "busybox:latest"; rejects what Docker would reject. */
export function normalizeReference(input: string): string {
  const ref = parseReference(input);
  if (ref.digest && ref.tag === undefined) throw invalidArgument(`invalid reference format: ${input}: a digest reference cannot be used as a tag`);
  return familiarTagged(ref);
}

/** The registry host to talk to for a domain (Docker Hub's API lives elsewhere). */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain;
}
