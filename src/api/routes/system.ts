import type { Router } from '../router.ts';
import { sendJson } from '../router.ts';
import { API_VERSION, MIN_API_VERSION } from '../server.ts';
import { release } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EngineError } from '../../protocol/errors.ts';

export interface SystemBackend {
  info(): Record<string, unknown>;
  /** berth's own: running containers of another data root, and stopping one. */
  orphans(): ReadonlyArray<{ id: string; dataRoot: string; message: string }>;
  stopOrphan(id: string): Promise<void>;
  diskUsage(): Promise<Record<string, unknown>>;
  version(): { version: string; gitCommit: string; nodeVersion: string };
}

export function systemRoutes(router: Router, backend: SystemBackend): void {
  const ping = ({ req, res }: { req: IncomingMessage; res: ServerResponse }) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Length': 2 });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  };
  router
    .add('GET', '/_ping', ping)
    .add('HEAD', '/_ping', ping)
    .add('GET', '/info', ({ res }) => sendJson(res, 200, backend.info()))
    .add('GET', '/system/df', async ({ res }) => sendJson(res, 200, await backend.diskUsage()))
    .add('GET', '/berth/orphans', ({ res }) => sendJson(res, 200, backend.orphans()))
    .add('POST', '/berth/orphans/:id/stop', async ({ res, params }) => {
      await backend.stopOrphan(params.id!);
      res.writeHead(204);
      res.end();
    })
    .add('GET', '/version', ({ res }) => {
      const v = backend.version();
      sendJson(res, 200, {
        Platform: { Name: 'berth' },
        Components: [
          { Name: 'Engine', Version: v.version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: v.gitCommit, GoVersion: `node ${v.nodeVersion}`, Os: 'linux', Arch: archName(), KernelVersion: kernel(), Experimental: 'false', BuildTime: '' } },
          { Name: 'berth', Version: v.version, Details: { GitCommit: v.gitCommit } },
        ],
        Version: v.version,
        ApiVersion: API_VERSION,
        MinAPIVersion: MIN_API_VERSION,
        GitCommit: v.gitCommit,
        GoVersion: `node ${v.nodeVersion}`,
        Os: 'linux',
        Arch: archName(),
        KernelVersion: kernel(),
        BuildTime: '',
      });
    });
  for (const prefix of ['/swarm', '/services', '/nodes', '/tasks', '/secrets', '/configs', '/plugins', '/build']) {
    const notSupported = () => {
      throw new EngineError('NotImplemented', `${prefix.slice(1)}: not supported by berth (berth has no swarm mode, plugins or image builds)`);
    };
    for (const method of ['GET', 'POST', 'DELETE']) {
      router.add(method, `${prefix}`, notSupported).add(method, `${prefix}/.*`, notSupported);
    }
  }
}

export function archName(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

function kernel(): string {
  return release();
}
