import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { invalidArgument } from '../../protocol/errors.ts';
import { parseFilters, validateFilterKeys } from '../../protocol/filters.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import type { ImagesBackend, ImportRequest } from '../../api/routes/images.ts';
import { imageInspect, imageSummary } from '../../api/views.ts';
import type { ImageStore } from '../../images/image-store.ts';
import { importRootfs } from '../../images/import.ts';
import { parsePlatform, type HistoryEntry } from '../../images/image-config.ts';
import { loadArchive } from '../../images/archive-load.ts';
import { resolveSaveNames, saveImages } from '../../images/archive-save.ts';
import { pullImage } from '../../images/pull.ts';
import { pushImage } from '../../images/push.ts';
import { normalizeReference, DEFAULT_DOMAIN } from '../../protocol/reference.ts';
import { chainIds } from '../../images/layer-store.ts';
import { registryEndpoint } from '../../images/registry/endpoint.ts';
import { RegistryClient } from '../../images/registry/registry-client.ts';
import type { RegistryCredentials } from '../../protocol/registry-auth.ts';
import type { Progress } from '../../protocol/json-message.ts';
import type { ContainerService } from '../containers/container-service.ts';
import type { EventBus } from '../events/events.ts';
import type { DaemonConfig } from '../config/config.ts';
import type { DaemonPaths } from '../host/paths.ts';
import { removeImage, type RemovalContext, type RemovalResult } from './image-remove.ts';
import { imageMatcher, LIST_FILTERS, parseUntil, PRUNE_FILTERS, referenceMatcher } from './image-filters.ts';
import { parseChanges } from './import-changes.ts';

export interface ImageServiceDeps {
  images: ImageStore;
  /** Which containers use an image (rmi, prune and the list's Containers count ask). */
  containers: ContainerService;
  events: EventBus;
  paths: DaemonPaths;
  config: () => DaemonConfig;
  storageDriver: string;
}

/** The image endpoints over the image store, with Docker's rules for tags, users and events. */
export class ImageService implements ImagesBackend {
  readonly #images: ImageStore;
  readonly #containers: ContainerService;
  readonly #events: EventBus;
  readonly #paths: DaemonPaths;
  readonly #config: () => DaemonConfig;
  readonly #storageDriver: string;
  readonly #removal: RemovalContext;

  constructor(deps: ImageServiceDeps) {
    this.#images = deps.images;
    this.#containers = deps.containers;
    this.#events = deps.events;
    this.#paths = deps.paths;
    this.#config = deps.config;
    this.#storageDriver = deps.storageDriver;
    this.#removal = { images: deps.images, usersOf: (id) => this.#usersOf(id), emit: (action, id, name) => this.#emit(action, id, name) };
  }

  list({ filters: raw }: { all: boolean; digests: boolean; filters: string | null }): Record<string, unknown>[] {
    const filters = parseFilters(raw);
    validateFilterKeys(filters, LIST_FILTERS);
    const match = imageMatcher(filters, (ref) => this.#createdOf(ref));
    const tagMatches = referenceMatcher(filters);
    return this.#images.list().filter(match).sort((a, b) => b.created.localeCompare(a.created)).map((image) => {
      // As dockerd: with a reference filter, an image lists only the tags that matched it.
      const summary = imageSummary(image, this.#usersOf(image.id).length);
      return tagMatches ? { ...summary, RepoTags: image.repoTags.filter(tagMatches) } : summary;
    });
  }

  inspect(ref: string): Record<string, unknown> {
    const image = this.#images.resolve(ref);
    return imageInspect(image, this.#images.configBlob(image), { name: this.#storageDriver, lowerDirs: this.#images.lowerDirs(image) });
  }

  /** `docker history`: the config's history, newest first, with each layer's size. */
  history(ref: string): Record<string, unknown>[] {
    const image = this.#images.resolve(ref);
    const config = this.#images.configBlob(image);
    const sizes = chainIds(image.diffIds).map((c) => this.#images.layers.get(c)?.size ?? 0);
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

  async importTarball(source: IncomingMessage, request: ImportRequest): Promise<string> {
    const image = await this.#images.transfer(() => importRootfs(this.#images, source, {
      ...(request.reference ? { reference: request.reference } : {}),
      config: parseChanges(request.changes),
      ...(request.message ? { message: request.message } : {}),
      ...(request.platform ? { platform: parsePlatform(request.platform) } : {}),
    }));
    this.#emit('import', image.id, request.reference ? normalizeReference(request.reference) : image.id);
    return image.id;
  }

  async pull({ reference, platform, credentials, signal }: Parameters<ImagesBackend['pull']>[0], progress: Progress): Promise<void> {
    const result = await this.#images.transfer(() => pullImage(this.#images, {
      ...this.#registryAccess(credentials, signal, progress),
      reference,
      ...(platform ? { platform } : {}),
      maxConcurrentDownloads: this.#config().maxConcurrentDownloads,
    }));
    const name = result.tag ?? result.repoDigest;
    this.#emit('pull', result.image.id, name);
    progress({ status: `Status: ${result.updated ? 'Downloaded newer image' : 'Image is up to date'} for ${name}` });
  }

  async push({ name, tag, credentials, signal }: Parameters<ImagesBackend['push']>[0], progress: Progress): Promise<void> {
    const pushed = await this.#images.transfer(() => pushImage(this.#images, {
      ...this.#registryAccess(credentials, signal, progress),
      name,
      ...(tag ? { tag } : {}),
      maxConcurrentUploads: this.#config().maxConcurrentUploads,
    }));
    for (const p of pushed) this.#emit('push', p.imageId, p.reference);
  }

  async load(source: IncomingMessage, progress: Progress): Promise<void> {
    const loaded = await this.#images.transfer(() => loadArchive(this.#images, source, (line) => progress({ stream: `${line}\n` })));
    for (const l of loaded) this.#emit('load', l.id, l.tags[0] ?? l.id);
  }

  async save(names: string[]): Promise<Readable> {
    const items = resolveSaveNames(this.#images, names);
    const archive = await this.#images.transfer(() => saveImages(this.#images, items, this.#paths.tmpDir));
    for (const item of items) this.#emit('save', item.image.id, item.tags[0] ?? item.image.id);
    return archive;
  }

  tag(ref: string, repo: string, tag: string | undefined): void {
    const image = this.#images.resolve(ref);
    if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw invalidArgument(`invalid tag format: ${tag}`);
    const name = this.#images.tag(image.id, tag ? `${repo}:${tag}` : repo);
    this.#emit('tag', image.id, name);
  }

  remove(ref: string, force: boolean): RemovalResult {
    return removeImage(this.#removal, ref, force);
  }

  prune(raw: string | null): { ImagesDeleted: RemovalResult | null; SpaceReclaimed: number } {
    const filters = parseFilters(raw);
    validateFilterKeys(filters, PRUNE_FILTERS);
    const danglingOnly = (filters.get('dangling') ?? ['true']).every((v) => v === 'true' || v === '1');
    const until = filters.get('until')?.map((u) => parseUntil(u));
    const labelMatch = imageMatcher(new Map([...filters].filter(([k]) => k === 'label')), (ref) => this.#createdOf(ref));
    const layerBytes = () => this.#images.layers.list().reduce((sum, l) => sum + l.size, 0);
    const before = layerBytes();
    const deleted: RemovalResult = [];
    for (const image of this.#images.list()) {
      if (danglingOnly && image.repoTags.length > 0) continue;
      if (this.#usersOf(image.id).length > 0) continue;
      if (until && !until.every((t) => Date.parse(image.created) < t)) continue;
      if (!labelMatch(image)) continue;
      // Unused (no container), so forcing only skips the several-tags check, as Docker's prune does.
      deleted.push(...this.remove(image.id, true));
    }
    const after = layerBytes();
    this.#events.publish('image', 'prune', '', { reclaimed: String(before - after) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: before - after };
  }

  async login(request: Parameters<ImagesBackend['login']>[0]): Promise<{ Status: string; IdentityToken: string }> {
    const server = request.serveraddress?.replace(/^https?:\/\//, '').replace(/\/.*$/, '') || DEFAULT_DOMAIN;
    const domain = server === 'index.docker.io' || server === 'registry-1.docker.io' ? DEFAULT_DOMAIN : server;
    const endpoint = registryEndpoint(domain, this.#config().insecureRegistries);
    const credentials = { ...(request.username ? { username: request.username } : {}), ...(request.password ? { password: request.password } : {}), ...(request.identitytoken ? { identitytoken: request.identitytoken } : {}), ...(request.registrytoken ? { registrytoken: request.registrytoken } : {}) };
    await new RegistryClient({ host: endpoint.host, insecure: endpoint.insecure, credentials, userAgent: 'berth/0.2' }).ping();
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  #usersOf(imageId: string): ContainerRecord[] {
    return this.#containers.store.all().filter((r) => r.imageId === imageId);
  }

  #createdOf(ref: string): number {
    return Date.parse(this.#images.resolve(ref).created);
  }

  #emit(action: string, id: string, name: string): void {
    this.#events.publish('image', action, id, { name });
  }

  /** What every registry transfer takes: who we are, where plain HTTP is allowed, where progress goes. */
  #registryAccess(credentials: RegistryCredentials | undefined, signal: AbortSignal, progress: Progress) {
    return {
      ...(credentials ? { credentials } : {}),
      insecureRegistries: this.#config().insecureRegistries,
      progress,
      signal,
    };
  }
}
