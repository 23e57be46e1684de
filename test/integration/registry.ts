/**
 * Starts a real OCI registry (Debian's docker-registry, i.e. distribution v2.8) on a loopback
 * port for tests, optionally behind htpasswd or token authentication. Token auth uses a small
 * token server in the test process that signs ES256 JWTs with a throwaway self-signed
 * certificate the registry trusts (its `rootcertbundle`); the certificate travels in the JWT
 * `x5c` header, which distribution verifies against that bundle.
 *
 * The registry is killed by its PID and its temp dir removed by stop(), and — should a test
 * crash before calling it — when the test process exits.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, randomBytes, sign, timingSafeEqual, X509Certificate } from 'node:crypto';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** Set for htpasswd and token auth: the one user the registry accepts. */
  username?: string;
  password?: string;
  /** Token auth only: a refresh token the token server accepts (grant_type=refresh_token). */
  identitytoken?: string;
  /** clientCertificates only: a client certificate and key (PEM) the registry accepts. */
  client?: { cert: string; key: string };
  /** tls only: the registry's (and an HTTPS token service's) self-signed certificate, to trust as a CA. */
  certificate?: string;
  /** Token auth only: every request the token service received, in order. */
  tokenRequests: TokenRequestSeen[];
  stop(): Promise<void>;
}

export interface TokenRequestSeen {
  method: string;
  /** Path and query. */
  url: string;
  authorization?: string;
  body: string;
}

export interface StartRegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  /** Serve HTTPS with a throwaway self-signed certificate (no CA trusts it). */
  tls?: boolean;
  /** With tls: require a client certificate signed by a throwaway CA (see TestRegistry.client); an HTTPS token service requires it too. */
  clientCertificates?: boolean;
  /** Token auth: the token service's scheme; default https with tls (same certificate as the registry), else http. */
  tokenRealm?: 'http' | 'https';
}

const REGISTRY_BIN = '/usr/bin/docker-registry';
export const TEST_USER = 'berth-test';
export const TEST_PASSWORD = 's3cret-Pa55';
const TEST_REFRESH_TOKEN = 'berth-test-refresh-token';
/** bcrypt of TEST_PASSWORD (`htpasswd -nbB -C 10`), fixed so the tests need no bcrypt tool. */
const TEST_HTPASSWD = `${TEST_USER}:$2y$10$0CNEDMXIJRi0APKsLIsoKOTPEWqZnUFcK6rXVmmarSPXdTv65uNnm\n`;
const TOKEN_SERVICE = 'berth-test-registry';
const TOKEN_ISSUER = 'berth-test-token-issuer';

/** Registries still running, killed and removed synchronously if the test process exits first. */
const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      if (entry.child.exitCode === null && entry.child.signalCode === null && entry.child.pid !== undefined) {
        try {
          process.kill(entry.child.pid, 'SIGKILL');
        } catch { /* gone */ }
      }
      rmSync(entry.dir, { recursive: true, force: true });
    }
  });
}

/** A currently free loopback TCP port (listen on 0, note the port, close). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? 'none';
  installExitHook();
  const dir = mkdtempSync('/tmp/berth-registry-');
  let tokenServer: Server | undefined;
  const tokenRequests: TokenRequestSeen[] = [];
  let child: ChildProcess | undefined;
  const entry = { child: undefined as unknown as ChildProcess, dir };
  const logPath = join(dir, 'registry.log');

  const stop = async (): Promise<void> => {
    if (child !== undefined) await killChild(child);
    live.delete(entry);
    if (tokenServer !== undefined) {
      tokenServer.closeAllConnections();
      await new Promise<void>((resolve) => tokenServer!.close(() => resolve()));
      tokenServer = undefined;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    let tlsConfig = '';
    if (opts.tls) {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      tlsConfig = `  tls:\n    certificate: ${join(dir, 'tls.crt')}\n    key: ${join(dir, 'tls.key')}`;
      if (opts.clientCertificates) {
        const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
        ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=berth-test-client-ca', '-days', '2']);
        ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'client.key'), '-out', join(dir, 'client.csr'), '-subj', '/CN=berth-test-client']);
        ssl(['x509', '-req', '-in', join(dir, 'client.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'client.cert'), '-days', '2']);
        tlsConfig += `\n    clientcas:\n      - ${join(dir, 'ca.crt')}`;
      }
    }
    let authConfig = '';
    if (auth === 'htpasswd') {
      writeFileSync(join(dir, 'htpasswd'), TEST_HTPASSWD);
      authConfig = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      const scheme = opts.tokenRealm ?? (opts.tls ? 'https' : 'http');
      if (scheme === 'https' && !opts.tls) throw new Error('an HTTPS token service needs tls: true (it uses the registry certificate)');
      const { server, realm } = await startTokenServer(dir, tokenRequests, scheme === 'https' ? { clientCertificates: Boolean(opts.clientCertificates) } : undefined);
      tokenServer = server;
      authConfig = [
        'auth:',
        '  token:',
        `    realm: ${realm}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${join(dir, 'token.crt')}`,
        '',
      ].join('\n');
    }

    // After the token service is listening, so this port cannot be its port.
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: ${host}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      tlsConfig,
      authConfig,
    ].join('\n');
    writeFileSync(join(dir, 'config.yml'), config);

    const logFd = openSync(logPath, 'a');
    child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd], cwd: dir });
    closeSync(logFd);
    entry.child = child;
    live.add(entry);
    await waitReady(host, child, logPath, Boolean(opts.tls));

    const registry: TestRegistry = { host, stop, tokenRequests };
    if (opts.tls) registry.certificate = readFileSync(join(dir, 'tls.crt'), 'utf8');
    if (auth !== 'none') {
      registry.username = TEST_USER;
      registry.password = TEST_PASSWORD;
    }
    if (auth === 'token') registry.identitytoken = TEST_REFRESH_TOKEN;
    if (opts.clientCertificates) registry.client = { cert: readFileSync(join(dir, 'client.cert'), 'utf8'), key: readFileSync(join(dir, 'client.key'), 'utf8') };
    return registry;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(host: string, child: ChildProcess, logPath: string, tls: boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (;;) {
    if (exited || child.exitCode !== null) {
      throw new Error(`docker-registry exited during startup (code ${child.exitCode}):\n${readLog(logPath)}`);
    }
    try {
      if (tls) {
        // Any TLS answer will do: the certificate is not trusted here, on purpose.
        await new Promise<void>((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port: Number(host.split(':')[1]), rejectUnauthorized: false }, () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        });
        return;
      }
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`docker-registry did not become ready on ${host}:\n${readLog(logPath)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. Only ever signals this child's PID. */
async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch { /* already gone */ }
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

// ---- token server ----------------------------------------------------------------------------

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/**
 * A Docker-token-spec server on a loopback port: GET /token with basic auth (or anonymous),
 * POST /token with the OAuth2 form (password or refresh_token grant). The test user gets
 * every action it asks for; anonymous and unknown clients get a token with no access.
 */
async function startTokenServer(dir: string, seen: TokenRequestSeen[], https: { clientCertificates: boolean } | undefined): Promise<{ server: Server; realm: string }> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-subj', '/CN=berth-test-token-issuer', '-days', '2',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');

  const issue = (access: Access[], subject: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer] };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: TOKEN_SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const received = req.method === 'POST' ? await readBody(req) : '';
    seen.push({ method: req.method ?? '', url: req.url ?? '', ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }), body: received });
    if (url.pathname !== '/token') return reply(res, 404, { details: 'not found' });
    let params: URLSearchParams;
    let user: string | undefined;
    if (req.method === 'POST') {
      params = new URLSearchParams(received);
      const grant = params.get('grant_type');
      if (grant === 'refresh_token') {
        if (params.get('refresh_token') !== TEST_REFRESH_TOKEN) return reply(res, 401, { error: 'invalid_grant', error_description: 'invalid refresh token' });
        user = TEST_USER;
      } else if (grant === 'password') {
        if (!credentialsMatch(params.get('username'), params.get('password'))) return reply(res, 401, { details: 'incorrect username or password' });
        user = TEST_USER;
      } else {
        return reply(res, 400, { error: 'unsupported_grant_type' });
      }
    } else if (req.method === 'GET') {
      params = url.searchParams;
      const authz = req.headers.authorization;
      if (authz !== undefined) {
        const [scheme, value] = authz.split(' ', 2);
        const decoded = scheme?.toLowerCase() === 'basic' && value ? Buffer.from(value, 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        if (colon < 0 || !credentialsMatch(decoded.slice(0, colon), decoded.slice(colon + 1))) {
          return reply(res, 401, { details: 'incorrect username or password' });
        }
        user = TEST_USER;
      }
    } else {
      return reply(res, 405, { details: 'method not allowed' });
    }
    if (params.get('service') !== TOKEN_SERVICE) return reply(res, 400, { details: `unknown service ${params.get('service')}` });
    const requested = params.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const access = user === undefined ? [] : requested.map(parseScope).filter((a): a is Access => a !== undefined);
    const token = issue(access, user ?? '');
    const body: Record<string, unknown> = { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
    if (req.method === 'POST' && user !== undefined) body.refresh_token = TEST_REFRESH_TOKEN;
    reply(res, 200, body);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { details: String(err) }));
  };
  const server: Server = https
    ? createHttpsServer({
        cert: readFileSync(join(dir, 'tls.crt')),
        key: readFileSync(join(dir, 'tls.key')),
        ...(https.clientCertificates ? { ca: readFileSync(join(dir, 'ca.crt')), requestCert: true, rejectUnauthorized: true } : {}),
      }, listener)
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { server, realm: `${https ? 'https' : 'http'}://127.0.0.1:${port}/token` };
}

function credentialsMatch(username: string | null, password: string | null): boolean {
  const a = Buffer.from(`${username ?? ''}:${password ?? ''}`);
  const b = Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `repository:name:pull,push` → access entry; the name may not contain ':' but the type is the first field. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter((a) => a !== '') };
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
