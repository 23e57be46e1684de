import { conflict, invalidArgument } from '../../protocol/errors.ts';
import { parseFilters, validateFilterKeys } from '../../protocol/filters.ts';
import { isActive, type ImageContainerConfig, type ImageRecord } from '../../protocol/records.ts';
import type { ImagesBackend } from '../../api/routes/images.ts';
import { imageInspect, imageSummary } from '../../api/views.ts';
import type { ImageStore } from '../../images/image-store.ts';
import { importRootfs } from '../../images/import.ts';
import { parsePlatform, type HistoryEntry } from '../../images/image-config.ts';
import { loadArchive } from '../../images/archive-load.ts';
import { resolveSaveNames, saveImages } from '../../images/archive-save.ts';
import { pullImage } from '../../images/pull.ts';
import { pushImage } from '../../images/push.ts';
import { familiarName, normalizeReference, parseReference, DEFAULT_DOMAIN } from '../../protocol/reference.ts';
import { chainIds } from '../../images/layer-store.ts';
import { registryEndpoint } from '../../images/registry/endpoint.ts';
import { RegistryClient } from '../../images/registry/registry-client.ts';
import type { RegistryCredentials } from '../../protocol/registry-auth.ts';
import type { Progress } from '../../protocol/json-message.ts';
import type { ContainerService } from '../containers/container-service.ts';
import type { EventBus } from '../events/events.ts';
import type { DaemonConfig } from '../config.ts';
import type { DaemonPaths } from '../host/paths.ts';

export interface ImageBackendDeps {
  images: ImageStore;
  service: ContainerService;
  events: EventBus;
  paths: DaemonPaths;
  config: () => DaemonConfig;
  storageDriver: string;
}

const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'];
const PRUNE_FILTERS = ['dangling', 'label', 'until'];

/** The image endpoints over the image store, with Docker's rules for tags, users and events. */
export function imagesBackend(d: ImageBackendDeps): ImagesBackend {
  const { images, events } = d;
  const usersOf = (id: string) => d.service.store.all().filter((r) => r.imageId === id);
  const emit = (action: string, id: string, name: string) => events.publish('image', action, id, { name });

  const remove = (ref: string, force: boolean): Array<Record<string, string>> => {
    const image = images.resolve(ref);
    const tag = image.repoTags.find((t) => t === tryNormalize(ref));
    const digestRef = image.repoDigests.find((d) => d === tryDigestReference(ref));
    const references = image.repoTags.length + image.repoDigests.length;
    // A tag (or name@digest) of an image that has other references: only that reference goes.
    if (tag && image.repoTags.length > 1) {
      images.untag(image.id, tag);
      emit('untag', image.id, tag);
      return [{ Untagged: tag }];
    }
    if (digestRef && references > 1) {
      images.removeRepoDigest(image.id, digestRef);
      emit('untag', image.id, digestRef);
      return [{ Untagged: digestRef }];
    }
    // By ID, an image with several tags needs -f (Docker's "referenced in multiple repositories").
    if (!tag && !digestRef && image.repoTags.length > 1 && !force) {
      throw conflict(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const users = usersOf(image.id);
    if (users.some((u) => isActive(u.state.Status))) {
      throw conflict(`conflict: unable to delete ${image.id.slice(7, 19)} (cannot be forced) - image is being used by running container ${users[0]!.id.slice(0, 12)}`);
    }
    if (users.length && !force) {
      throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`);
    }
    const untagged = [...image.repoTags, ...image.repoDigests].map((t) => {
      emit('untag', image.id, t);
      return { Untagged: t };
    });
    for (const t of image.repoTags) images.untag(image.id, t);
    // Forced while containers still use it: the image stays, untagged (dangling), as in Docker.
    if (users.length) return untagged;
    images.remove(image.id);
    emit('delete', image.id, image.id);
    return [...untagged, { Deleted: image.id }];
  };

  /** What every registry transfer takes: who we are, where plain HTTP is allowed, where progress goes. */
  const registryAccess = (credentials: RegistryCredentials | undefined, signal: AbortSignal, progress: Progress) => ({
    ...(credentials ? { credentials } : {}),
    insecureRegistries: d.config().insecureRegistries,
    progress,
    signal,
  });

  return {
    list: ({ all, filters: raw }) => {
      void all;
      const filters = parseFilters(raw);
      validateFilterKeys(filters, LIST_FILTERS);
      const match = imageMatcher(images, filters);
      const tagMatches = referenceMatcher(filters);
      return images.list().filter(match).sort((a, b) => b.created.localeCompare(a.created)).map((image) => {
        // As dockerd: with a reference filter, an image lists only the tags that matched it.
        const summary = imageSummary(image, usersOf(image.id).length);
        return tagMatches ? { ...summary, RepoTags: image.repoTags.filter(tagMatches) } : summary;
      });
    },
    inspect: (ref) => {
      const image = images.resolve(ref);
      return imageInspect(image, images.configBlob(image), { name: d.storageDriver, lowerDirs: images.lowerDirs(image) });
    },
    history: (ref) => imageHistory(images, images.resolve(ref)),
    importTarball: async (source, request) => {
      const image = await images.transfer(() => importRootfs(images, source, {
        ...(request.reference ? { reference: request.reference } : {}),
        config: parseChanges(request.changes),
        ...(request.message ? { message: request.message } : {}),
        ...(request.platform ? { platform: parsePlatform(request.platform) } : {}),
      }));
      emit('import', image.id, request.reference ? normalizeReference(request.reference) : image.id);
      return image.id;
    },
    pull: async ({ reference, platform, credentials, signal }, progress) => {
      const result = await images.transfer(() => pullImage(images, {
        ...registryAccess(credentials, signal, progress),
        reference,
        ...(platform ? { platform } : {}),
        maxConcurrentDownloads: d.config().maxConcurrentDownloads,
      }));
      const name = result.tag ?? result.repoDigest;
      emit('pull', result.image.id, name);
      progress({ status: `Status: ${result.updated ? 'Downloaded newer image' : 'Image is up to date'} for ${name}` });
    },
    push: async ({ name, tag, credentials, signal }, progress) => {
      const pushed = await images.transfer(() => pushImage(images, {
        ...registryAccess(credentials, signal, progress),
        name,
        ...(tag ? { tag } : {}),
        maxConcurrentUploads: d.config().maxConcurrentUploads,
      }));
      for (const p of pushed) emit('push', p.imageId, p.reference);
    },
    load: async (source, progress) => {
      const loaded = await images.transfer(() => loadArchive(images, source, (line) => progress({ stream: `${line}\n` })));
      for (const l of loaded) emit('load', l.id, l.tags[0] ?? l.id);
    },
    save: async (names) => {
      const items = resolveSaveNames(images, names);
      const archive = await images.transfer(() => saveImages(images, items, d.paths.tmpDir));
      for (const item of items) emit('save', item.image.id, item.tags[0] ?? item.image.id);
      return archive;
    },
    tag: (ref, repo, tag) => {
      const image = images.resolve(ref);
      if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw invalidArgument(`invalid tag format: ${tag}`);
      const name = images.tag(image.id, tag ? `${repo}:${tag}` : repo);
      emit('tag', image.id, name);
    },
    remove,
    prune: (raw) => {
      const filters = parseFilters(raw);
      validateFilterKeys(filters, PRUNE_FILTERS);
      const danglingOnly = (filters.get('dangling') ?? ['true']).every((v) => v === 'true' || v === '1');
      const until = filters.get('until')?.map(parseUntil);
      const labelMatch = imageMatcher(images, new Map([...filters].filter(([k]) => k === 'label')));
      const layerBytes = () => images.layers.list().reduce((sum, l) => sum + l.size, 0);
      const before = layerBytes();
      const deleted: Array<Record<string, string>> = [];
      for (const image of images.list()) {
        if (danglingOnly && image.repoTags.length > 0) continue;
        if (usersOf(image.id).length > 0) continue;
        if (until && !until.every((t) => Date.parse(image.created) < t)) continue;
        if (!labelMatch(image)) continue;
        // Unused (no container), so forcing only skips the several-tags check, as Docker's prune does.
        deleted.push(...remove(image.id, true));
      }
      const after = layerBytes();
      events.publish('image', 'prune', '', { reclaimed: String(before - after) });
      return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: before - after };
    },
    login: async (request) => {
      const server = request.serveraddress?.replace(/^https?:\/\//, '').replace(/\/.*$/, '') || DEFAULT_DOMAIN;
      const domain = server === 'index.docker.io' || server === 'registry-1.docker.io' ? DEFAULT_DOMAIN : server;
      const endpoint = registryEndpoint(domain, d.config().insecureRegistries);
      const credentials = { ...(request.username ? { username: request.username } : {}), ...(request.password ? { password: request.password } : {}), ...(request.identitytoken ? { identitytoken: request.identitytoken } : {}), ...(request.registrytoken ? { registrytoken: request.registrytoken } : {}) };
      await new RegistryClient({ host: endpoint.host, insecure: endpoint.insecure, credentials, userAgent: 'berth/0.2' }).ping();
      return { Status: 'Login Succeeded', IdentityToken: '' };
    },
  };
}

/** "name@sha256:…" in the familiar form the image records keep, or undefined. */
function tryDigestReference(ref: string): string | undefined {
  try {
    const parsed = parseReference(ref);
    return parsed.digest ? `${familiarName(parsed)}@${parsed.digest}` : undefined;
  } catch {
    return undefined;
  }
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeReference(ref);
  } catch {
    return undefined;
  }
}

function parseUntil(value: string): number {
  const n = Number(value);
  if (Number.isFinite(n)) return n * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  const m = /^(\d+)(s|m|h)$/.exec(value);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  throw invalidArgument(`invalid filter 'until=${value}'`);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Docker's image list filters: dangling, label, before, since, reference. */
function imageMatcher(images: ImageStore, filters: Map<string, string[]>): (image: ImageRecord) => boolean {
  const dangling = filters.get('dangling');
  if (dangling?.some((v) => !['true', 'false', '1', '0'].includes(v))) throw invalidArgument(`invalid filter 'dangling=${dangling.join(',')}'`);
  const createdOf = (ref: string) => Date.parse(images.resolve(ref).created);
  const before = filters.get('before')?.map(createdOf);
  const since = filters.get('since')?.map(createdOf);
  const until = filters.get('until')?.map(parseUntil);
  const tagMatches = referenceMatcher(filters);
  const labels = filters.get('label');
  return (image) => {
    if (dangling?.length && dangling.some((v) => (v === 'true' || v === '1') !== (image.repoTags.length === 0))) return false;
    const created = Date.parse(image.created);
    if (before && !before.every((t) => created < t)) return false;
    if (since && !since.every((t) => created > t)) return false;
    if (until && !until.every((t) => created < t)) return false;
    if (labels && !labels.every((l) => {
      const eq = l.indexOf('=');
      const value = image.config.Labels?.[eq < 0 ? l : l.slice(0, eq)];
      return eq < 0 ? value !== undefined : value === l.slice(eq + 1);
    })) return false;
    if (tagMatches && !image.repoTags.some(tagMatches)) return false;
    return true;
  };
}

/** The `reference` filter as a test of one name:tag (a glob on "name:tag" or on "name"), if given. */
function referenceMatcher(filters: Map<string, string[]>): ((tag: string) => boolean) | undefined {
  const patterns = filters.get('reference')?.map(globToRegExp);
  if (!patterns) return undefined;
  return (tag) => patterns.some((p) => p.test(tag) || p.test(tag.slice(0, tag.lastIndexOf(':'))));
}

/** `docker history`: the config's history, newest first, with each layer's size. */
function imageHistory(images: ImageStore, image: ImageRecord): Record<string, unknown>[] {
  const config = images.configBlob(image);
  const sizes = chainIds(image.diffIds).map((c) => images.layers.get(c)?.size ?? 0);
  const history: HistoryEntry[] = config.history?.length ? config.history : image.diffIds.map(() => ({ created: image.created }));
  let layer = 0;
  const rows = history.map((h) => {
    const size = h.empty_layer ? 0 : (sizes[layer++] ?? 0);
    return { Id: '<missing>', Created: Math.floor(Date.parse(h.created ?? image.created) / 1000) || 0, CreatedBy: h.created_by ?? '', Tags: null as string[] | null, Size: size, Comment: h.comment ?? '' };
  }).reverse();
  if (rows[0]) {
    rows[0].Id = image.id;
    rows[0].Tags = image.repoTags.length ? image.repoTags : null;
  }
  return rows;
}

/** `import --change`: the Dockerfile instructions that make sense for a rootfs import. */
function parseChanges(changes: string[]): ImageContainerConfig {
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
