import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../../protocol/errors.ts';
import type { Progress } from '../../protocol/json-message.ts';
import { decodeRegistryAuth, type RegistryAuthConfig, type RegistryCredentials } from '../../protocol/registry-auth.ts';
import { JsonMessageStream } from '../json-stream.ts';
import type { Router } from '../router.ts';
import { boolParam, readJsonBody, sendJson } from '../router.ts';

export interface ImportRequest {
  reference: string | undefined;
  changes: string[];
  message: string | undefined;
  platform: string | undefined;
}

export interface ImagesBackend {
  list(options: { all: boolean; digests: boolean; filters: string | null }): Record<string, unknown>[];
  inspect(ref: string): Record<string, unknown>;
  history(ref: string): Record<string, unknown>[];
  importTarball(source: IncomingMessage, request: ImportRequest): Promise<string>;
  pull(request: { reference: string; platform: string | undefined; credentials: RegistryCredentials | undefined; signal: AbortSignal }, progress: Progress): Promise<void>;
  push(request: { name: string; tag: string | undefined; credentials: RegistryCredentials | undefined; signal: AbortSignal }, progress: Progress): Promise<void>;
  load(source: IncomingMessage, progress: Progress): Promise<void>;
  save(names: string[]): Promise<Readable>;
  tag(ref: string, repo: string, tag: string | undefined): void;
  remove(ref: string, force: boolean): Array<Record<string, string>>;
  prune(filters: string | null): { ImagesDeleted: Array<Record<string, string>> | null; SpaceReclaimed: number };
  login(request: RegistryAuthConfig): Promise<{ Status: string; IdentityToken: string }>;
}

export function imageRoutes(router: Router, backend: ImagesBackend): void {
  router
    .add('GET', '/images/json', ({ res, query }) => sendJson(res, 200, backend.list({ all: boolParam(query, 'all'), digests: boolParam(query, 'digests'), filters: query.get('filters') })))
    .add('GET', '/images/get', async ({ res, query }) => {
      const names = query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean);
      if (names.length === 0) throw invalidArgument('no image names given');
      await sendTar(res, await backend.save(names));
    })
    .add('POST', '/images/load', async ({ req, res, query }) => {
      const quiet = boolParam(query, 'quiet');
      const stream = new JsonMessageStream(res);
      await stream.run(() => backend.load(req, (m) => (quiet && !m.stream && !m.error ? undefined : stream.send(m))));
    })
    .add('POST', '/images/prune', ({ res, query }) => sendJson(res, 200, backend.prune(query.get('filters'))))
    .add('POST', '/images/create', async ({ req, res, query, signal }) => {
      const stream = new JsonMessageStream(res);
      const fromSrc = query.get('fromSrc');
      const fromImage = query.get('fromImage');
      const tag = query.get('tag') || undefined;
      const platform = query.get('platform') || undefined;
      if (fromSrc !== null) {
        if (fromSrc !== '-') throw invalidArgument('import: only fromSrc=- (the request body) is supported; berthd does not fetch URLs');
        const repo = query.get('repo') || undefined;
        const reference = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
        await stream.run(async () => {
          const id = await backend.importTarball(req, { reference, changes: query.getAll('changes'), message: query.get('message') || undefined, platform });
          stream.send({ status: id });
        });
        return;
      }
      if (!fromImage) throw invalidArgument('fromImage or fromSrc is required');
      const reference = withTag(fromImage, tag);
      const credentials = decodeRegistryAuth(req.headers['x-registry-auth']);
      await stream.run(() => backend.pull({ reference, platform, credentials, signal }, stream.send));
    })
    .add('POST', '/auth', async ({ req, res }) => {
      const body = (await readJsonBody(req)) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('auth: expected a JSON object');
      const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
      sendJson(res, 200, await backend.login({ username: str('username'), password: str('password'), serveraddress: str('serveraddress'), identitytoken: str('identitytoken'), registrytoken: str('registrytoken') }));
    })
    .add('GET', '/images/(.+)/json', ({ res, req }) => sendJson(res, 200, backend.inspect(imageName(req.url!, '/json'))))
    .add('GET', '/images/(.+)/history', ({ res, req }) => sendJson(res, 200, backend.history(imageName(req.url!, '/history'))))
    .add('GET', '/images/(.+)/get', async ({ res, req }) => {
      await sendTar(res, await backend.save([imageName(req.url!, '/get')]));
    })
    .add('POST', '/images/(.+)/push', async ({ req, res, query, signal }) => {
      const stream = new JsonMessageStream(res);
      const credentials = decodeRegistryAuth(req.headers['x-registry-auth']);
      await stream.run(() => backend.push({ name: imageName(req.url!, '/push'), tag: query.get('tag') || undefined, credentials, signal }, stream.send));
    })
    .add('POST', '/images/(.+)/tag', ({ res, req, query }) => {
      const repo = query.get('repo');
      if (!repo) throw invalidArgument('repository name must have at least one component');
      backend.tag(imageName(req.url!, '/tag'), repo, query.get('tag') || undefined);
      res.writeHead(201);
      res.end();
    })
    .add('DELETE', '/images/(.+)', ({ res, req, query }) => {
      sendJson(res, 200, backend.remove(imageName(req.url!, ''), boolParam(query, 'force')));
    });
}

async function sendTar(res: import('node:http').ServerResponse, archive: Readable): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(archive, res).catch(() => res.destroy());
}

/**
 * fromImage + tag as Docker combines them: the tag parameter (a tag, or a digest for
 * name@digest pulls) replaces whatever tag fromImage carries.
 */
function withTag(fromImage: string, tag: string | undefined): string {
  if (!tag) return fromImage;
  const name = fromImage.includes('@') ? fromImage.slice(0, fromImage.indexOf('@')) : fromImage.lastIndexOf(':') > fromImage.lastIndexOf('/') ? fromImage.slice(0, fromImage.lastIndexOf(':')) : fromImage;
  return tag.startsWith('sha256:') ? `${name}@${tag}` : `${name}:${tag}`;
}

/** Image names contain slashes, so they are taken from the raw path rather than a single segment. */
function imageName(url: string, suffix: string): string {
  const path = new URL(url, 'http://berth').pathname.replace(/^\/v\d+\.\d+/, '');
  const name = path.slice('/images/'.length, suffix ? path.length - suffix.length : undefined);
  return decodeURIComponent(name);
}
