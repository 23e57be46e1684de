/**
 * RegistryClient against a real registry (docker-registry 2.8 via ./registry.ts), with no
 * auth, htpasswd and token auth, plus a fake loopback registry that serves wrong bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { EngineError, type ErrorKind } from '../../src/protocol/errors.ts';
import { RegistryClient } from '../../src/images/registry/registry-client.ts';
import type { RegistryCredentials } from '../../src/protocol/registry-auth.ts';
import { fetchToken } from '../../src/images/registry/auth.ts';
import { freePort, startRegistry, type TestRegistry } from './registry.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const ALL_MANIFESTS = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function client(host: string, credentials?: RegistryCredentials): RegistryClient {
  return new RegistryClient({ host, insecure: true, userAgent: 'berth-test', ...(credentials ? { credentials } : {}) });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `total` pseudo-random bytes in 64 KiB chunks, produced on demand; `digest()` is valid once consumed. */
function randomStream(total: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = total;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(left, 64 * 1024));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  let digest: string | undefined;
  return { stream, digest: () => (digest ??= `sha256:${hash.digest('hex')}`) };
}

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, message: RegExp | string): Promise<EngineError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a ${kind} error, got success`);
  assert.ok(EngineError.is(caught), `expected an EngineError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, `kind of: ${caught.message}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
}

interface Pushed {
  digest: string;
  size: number;
}

/** Pushes a config and `layers` as blobs and returns descriptors. */
async function pushBlobs(c: RegistryClient, repo: string, layers: Buffer[]): Promise<{ config: Pushed; layers: Pushed[] }> {
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const config = await c.uploadBlob(repo, Readable.from([configBytes]), sha256(configBytes));
  const pushed: Pushed[] = [];
  for (const layer of layers) pushed.push(await c.uploadBlob(repo, Readable.from([layer])));
  return { config, layers: pushed };
}

function imageManifest(mediaType: string, configType: string, layerType: string, blobs: { config: Pushed; layers: Pushed[] }): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: configType, ...blobs.config },
    layers: blobs.layers.map((l) => ({ mediaType: layerType, ...l })),
  }, null, 2));
}

describe('registry without auth', () => {
  let registry: TestRegistry;
  let c: RegistryClient;
  before(async () => {
    registry = await startRegistry();
    c = client(registry.host);
  });
  after(() => registry?.stop());

  test('ping', async () => {
    await c.ping();
  });

  test('blobs: streamed 5 MB upload, small uploads with and without a known digest, hasBlob, fetchBlob', async () => {
    const big = randomStream(5 * 1024 * 1024 + 123);
    const uploaded = await c.uploadBlob('test/blobs', big.stream);
    assert.equal(uploaded.digest, big.digest());
    assert.equal(uploaded.size, 5 * 1024 * 1024 + 123);
    assert.equal(await c.hasBlob('test/blobs', uploaded.digest), true);
    const back = await c.fetchBlob('test/blobs', uploaded.digest, uploaded.size);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of back) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    assert.equal(`sha256:${hash.digest('hex')}`, uploaded.digest);
    assert.equal(size, uploaded.size);

    const small = [randomBytes(1), randomBytes(1000), randomBytes(70_000), Buffer.alloc(0)];
    for (const [i, bytes] of small.entries()) {
      // Alternate: digest given up front (verified) and computed while streaming.
      const known = i % 2 === 0 ? sha256(bytes) : undefined;
      const result = await c.uploadBlob('test/blobs', Readable.from(bytes.length > 0 ? [bytes.subarray(0, 7), bytes.subarray(7)] : []), known);
      assert.deepEqual(result, { digest: sha256(bytes), size: bytes.length });
      assert.equal(await c.hasBlob('test/blobs', result.digest), true);
      assert.deepEqual(await readAll(await c.fetchBlob('test/blobs', result.digest, bytes.length)), bytes);
      assert.deepEqual(await readAll(await c.fetchBlob('test/blobs', result.digest)), bytes);
    }
    assert.equal(await c.hasBlob('test/blobs', sha256('never uploaded')), false);
    assert.equal(await c.hasBlob('test/other', uploaded.digest), false, 'blobs are per repository');
  });

  test('upload whose bytes do not match the given digest is refused and not committed', async () => {
    const bytes = randomBytes(2000);
    const claimed = sha256('something else');
    await rejectsWith(c.uploadBlob('test/blobs', Readable.from([bytes]), claimed), 'InvalidArgument', /content has digest sha256:[0-9a-f]{64}, expected sha256:/);
    assert.equal(await c.hasBlob('test/blobs', claimed), false);
    assert.equal(await c.hasBlob('test/blobs', sha256(bytes)), false);
  });

  test('a failing source stream fails the upload with its own error', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await rejectsWith(c.uploadBlob('test/blobs', source), 'Internal', 'disk on fire');
  });

  test('fetchBlob with a wrong expected size is InvalidArgument', async () => {
    const bytes = randomBytes(500);
    const { digest } = await c.uploadBlob('test/size', Readable.from([bytes]));
    await rejectsWith(c.fetchBlob('test/size', digest, 499), 'InvalidArgument', /registry declared 500 bytes, expected 499/);
  });

  test('manifests: OCI manifest, Docker schema 2, OCI index and Docker manifest list by tag and by digest', async () => {
    const repo = 'test/images';
    const blobs = await pushBlobs(c, repo, [randomBytes(3000), randomBytes(10)]);
    const oci = imageManifest(OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, blobs);
    const docker = imageManifest(DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, blobs);
    assert.equal(await c.putManifest(repo, 'oci', OCI_MANIFEST, oci), sha256(oci));
    assert.equal(await c.putManifest(repo, 'docker', DOCKER_MANIFEST, docker), sha256(docker));

    const platform = { architecture: 'amd64', os: 'linux' };
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(oci), size: oci.length, platform }],
    }));
    const list = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [{ mediaType: DOCKER_MANIFEST, digest: sha256(docker), size: docker.length, platform }],
    }));
    assert.equal(await c.putManifest(repo, 'index', OCI_INDEX, index), sha256(index));
    // Pushed by digest: the reference is checked against the body before sending.
    assert.equal(await c.putManifest(repo, sha256(list), DOCKER_LIST, list), sha256(list));
    await rejectsWith(c.putManifest(repo, sha256(list), DOCKER_LIST, index), 'InvalidArgument', /not the reference/);

    const cases: Array<[string | undefined, string, Buffer]> = [
      ['oci', OCI_MANIFEST, oci],
      ['docker', DOCKER_MANIFEST, docker],
      ['index', OCI_INDEX, index],
      [undefined, DOCKER_LIST, list],
    ];
    for (const [tag, mediaType, body] of cases) {
      for (const reference of tag === undefined ? [sha256(body)] : [tag, sha256(body)]) {
        const got = await c.getManifest(repo, reference, ALL_MANIFESTS);
        assert.equal(got.mediaType, mediaType, `${reference}`);
        assert.equal(got.digest, sha256(body), `${reference}`);
        assert.deepEqual(got.body, body, `${reference}`);
      }
    }

    // A pushed manifest's blobs are fetchable and match.
    assert.deepEqual(sha256(await readAll(await c.fetchBlob(repo, blobs.config.digest, blobs.config.size))), blobs.config.digest);

    // A manifest referencing a blob that is not in the repository is refused.
    const dangling = imageManifest(OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, { config: blobs.config, layers: [{ digest: sha256('missing layer'), size: 13 }] });
    const err = await rejectsWith(c.putManifest(repo, 'dangling', OCI_MANIFEST, dangling), 'InvalidArgument', /^manifest blob unknown: /);
    assert.equal(err.code, 'MANIFEST_BLOB_UNKNOWN');
  });

  test('mountBlob across repositories', async () => {
    const bytes = randomBytes(4096);
    const { digest } = await c.uploadBlob('mount/source', Readable.from([bytes]));
    assert.equal(await c.hasBlob('mount/target', digest), false);
    assert.equal(await c.mountBlob('mount/target', 'mount/source', digest), true);
    assert.equal(await c.hasBlob('mount/target', digest), true);
    assert.deepEqual(await readAll(await c.fetchBlob('mount/target', digest, bytes.length)), bytes);
    // Nothing to mount: the registry offers a normal upload instead.
    assert.equal(await c.mountBlob('mount/target', 'mount/source', sha256('not there')), false);
  });

  test('404s are NotFound with clear messages', async () => {
    const repo = 'test/notfound';
    await c.uploadBlob(repo, Readable.from([Buffer.from('x')])); // the repository exists …
    let err = await rejectsWith(c.getManifest(repo, 'nope', ALL_MANIFESTS), 'NotFound',
      `manifest for ${registry.host}/${repo}:nope not found: manifest unknown: manifest unknown`);
    assert.equal(err.code, 'MANIFEST_UNKNOWN');
    const missing = sha256('missing');
    await rejectsWith(c.getManifest(repo, missing, ALL_MANIFESTS), 'NotFound',
      new RegExp(`^manifest for ${registry.host}/${repo}@${missing} not found: manifest unknown: `));
    // … and one that does not.
    err = await rejectsWith(c.getManifest('test/no-such-repo', 'latest', ALL_MANIFESTS), 'NotFound',
      new RegExp(`^manifest for ${registry.host}/test/no-such-repo:latest not found: (manifest|name) unknown: `));
    await rejectsWith(c.fetchBlob(repo, missing), 'NotFound', new RegExp(`^blob ${missing} not found in ${registry.host}/${repo}: blob unknown: blob unknown to registry$`));
  });

  test('invalid names and digests are refused before any request', async () => {
    await rejectsWith(c.getManifest('../etc', 'latest', []), 'InvalidArgument', /invalid repository name/);
    await rejectsWith(c.getManifest('Upper/case', 'latest', []), 'InvalidArgument', /invalid repository name/);
    await rejectsWith(c.getManifest('ok', 'bad tag', []), 'InvalidArgument', /invalid tag/);
    await rejectsWith(c.fetchBlob('ok', 'sha256:abc'), 'InvalidArgument', /invalid digest/);
    await rejectsWith(c.hasBlob('ok', 'md5:d41d8cd98f00b204e9800998ecf8427e'), 'InvalidArgument', /unsupported digest algorithm/);
  });
});

test('an unreachable registry is Unavailable and named', async () => {
  const host = `127.0.0.1:${await freePort()}`;
  await rejectsWith(client(host).ping(), 'Unavailable', new RegExp(`^registry ${host.replaceAll('.', '\\.')} is unavailable: GET http://${host}/v2/: .*ECONNREFUSED`));
});

describe('a registry that lies', () => {
  const good = randomBytes(10_000);
  const goodDigest = sha256(good);
  const lieDigest = sha256('the bytes it should have sent');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));
  const manifestDigest = sha256(manifest);
  const seenAuthorization: Record<string, string | undefined> = {};
  let liar: Server;
  let storage: Server;
  let host: string;

  const listen = async (server: Server): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const close = (server: Server | undefined) =>
    server === undefined ? undefined : new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  before(async () => {
    // Blob storage elsewhere (another origin), as registries redirect blob GETs to S3 and the like.
    storage = createServer((req: IncomingMessage, res: ServerResponse) => {
      seenAuthorization.storage = req.headers.authorization;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': good.length });
      res.end(good);
    });
    const storagePort = await listen(storage);
    liar = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      seenAuthorization[url] = req.headers.authorization;
      if (url === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      if (url === `/v2/liar/blobs/${lieDigest}`) {
        return void res.writeHead(200, { 'Content-Length': good.length }).end(good);
      }
      if (url === `/v2/liar/blobs/${goodDigest}`) {
        return void res.writeHead(307, { Location: `http://127.0.0.1:${storagePort}/blob?sig=1` }).end();
      }
      if (url === `/v2/liar/blobs/${sha256(good.subarray(0, 100))}`) {
        // Chunked (no Content-Length) and longer than the blob it claims to be.
        res.writeHead(200);
        res.write(good.subarray(0, 100));
        return void res.end(good.subarray(100, 300));
      }
      if (url === `/v2/liar/manifests/${manifestDigest}` || url === '/v2/liar/manifests/latest') {
        // A different manifest than the digest asked for.
        const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [], evil: true }));
        return void res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Content-Length': other.length }).end(other);
      }
      if (url === '/v2/liar/manifests/gzipped') {
        // Compressed although the client asked for identity; fetch undoes it and the length is not checked against it.
        seenAuthorization.acceptEncoding = req.headers['accept-encoding'];
        const gz = gzipSync(manifest);
        return void res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Content-Encoding': 'gzip', 'Content-Length': gz.length }).end(gz);
      }
      if (url === '/v2/liar/manifests/broken') return void res.writeHead(503, { 'Content-Type': 'text/plain' }).end('upstream down');
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
    });
    host = `127.0.0.1:${await listen(liar)}`;
  });
  after(async () => {
    await close(liar);
    await close(storage);
  });

  test('a blob whose bytes do not match its digest errors the stream with InvalidArgument', async () => {
    const stream = await client(host).fetchBlob('liar', lieDigest);
    await rejectsWith(readAll(stream), 'InvalidArgument', `blob ${lieDigest} failed verification: content has digest ${goodDigest}`);
  });

  test('a blob longer than its size errors the stream with InvalidArgument', async () => {
    const digest = sha256(good.subarray(0, 100));
    const stream = await client(host).fetchBlob('liar', digest, 100);
    await rejectsWith(readAll(stream), 'InvalidArgument', `blob ${digest}: received more than the expected 100 bytes`);
  });

  test('a manifest fetched by digest whose body does not match is InvalidArgument', async () => {
    await rejectsWith(client(host).getManifest('liar', manifestDigest, ALL_MANIFESTS), 'InvalidArgument', new RegExp(`^manifest verification failed for digest ${manifestDigest}`));
    // By tag there is nothing to verify against: the digest is computed from what was served.
    const byTag = await client(host).getManifest('liar', 'latest', ALL_MANIFESTS);
    assert.equal(byTag.digest, sha256(byTag.body));
    assert.equal(byTag.mediaType, OCI_MANIFEST);
  });

  test('a content-coded manifest is decoded and hashed as its plain bytes', async () => {
    const got = await client(host).getManifest('liar', 'gzipped', ALL_MANIFESTS);
    assert.deepEqual(got.body, manifest);
    assert.equal(got.digest, manifestDigest);
    assert.equal(seenAuthorization.acceptEncoding, 'identity');
  });

  test('redirects are followed, without the registry credentials going to the other origin', async () => {
    const stream = await client(host, { registrytoken: 'secret-token' }).fetchBlob('liar', goodDigest, good.length);
    assert.deepEqual(await readAll(stream), good);
    assert.equal(seenAuthorization[`/v2/liar/blobs/${goodDigest}`], 'Bearer secret-token');
    assert.equal(seenAuthorization.storage, undefined);
  });

  test('server errors are Unavailable', async () => {
    await rejectsWith(client(host).getManifest('liar', 'broken', ALL_MANIFESTS), 'Unavailable', new RegExp(`^registry ${host} answered 503 Service Unavailable`));
  });
});

describe('registry with htpasswd auth', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
  });
  after(() => registry?.stop());

  test('no credentials: unauthorized', async () => {
    const anonymous = client(registry.host);
    await rejectsWith(anonymous.ping(), 'Unauthenticated', 'unauthorized: authentication required');
    await rejectsWith(anonymous.getManifest('private/app', 'latest', ALL_MANIFESTS), 'Unauthenticated', 'unauthorized: authentication required');
    await rejectsWith(anonymous.uploadBlob('private/app', Readable.from([Buffer.from('x')])), 'Unauthenticated', 'unauthorized: authentication required');
  });

  test('wrong password: unauthorized', async () => {
    const wrong = client(registry.host, { username: registry.username!, password: 'wrong' });
    const err = await rejectsWith(wrong.ping(), 'Unauthenticated', 'unauthorized: authentication required');
    assert.equal(err.code, 'UNAUTHORIZED');
    await rejectsWith(wrong.hasBlob('private/app', sha256('x')), 'Unauthenticated', /^unauthorized/);
  });

  test('right password: push and pull work', async () => {
    const c = client(registry.host, { username: registry.username!, password: registry.password! });
    await c.ping();
    const blobs = await pushBlobs(c, 'private/app', [randomBytes(100)]);
    const manifest = imageManifest(OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, blobs);
    await c.putManifest('private/app', 'v1', OCI_MANIFEST, manifest);
    const got = await c.getManifest('private/app', 'v1', ALL_MANIFESTS);
    assert.deepEqual(got.body, manifest);
    assert.equal(await c.hasBlob('private/app', blobs.layers[0]!.digest), true);
  });
});

describe('registry with token auth', () => {
  let registry: TestRegistry;
  let creds: RegistryCredentials;
  before(async () => {
    registry = await startRegistry({ auth: 'token' });
    creds = { username: registry.username!, password: registry.password! };
  });
  after(() => registry?.stop());

  test('ping: good credentials pass, bad ones fail', async () => {
    await client(registry.host, creds).ping();
    await rejectsWith(client(registry.host, { username: creds.username!, password: 'nope' }).ping(), 'Unauthenticated', 'unauthorized: incorrect username or password');
    await rejectsWith(client(registry.host, { username: 'someone-else', password: creds.password! }).ping(), 'Unauthenticated', /^unauthorized: /);
  });

  test('anonymous push and pull are denied', async () => {
    const anonymous = client(registry.host);
    await rejectsWith(anonymous.uploadBlob('secure/app', Readable.from([Buffer.from('x')])), 'Unauthenticated', /^unauthorized: /);
    await rejectsWith(anonymous.getManifest('secure/app', 'latest', ALL_MANIFESTS), 'Unauthenticated', /^unauthorized: /);
  });

  test('with credentials push, pull and mount work', async () => {
    const c = client(registry.host, creds);
    const big = randomStream(1024 * 1024);
    const layer = await c.uploadBlob('secure/app', big.stream);
    assert.equal(layer.digest, big.digest());
    const blobs = await pushBlobs(c, 'secure/app', []);
    blobs.layers.push(layer);
    const manifest = imageManifest(DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, blobs);
    const digest = await c.putManifest('secure/app', 'latest', DOCKER_MANIFEST, manifest);

    const reader = client(registry.host, creds);
    const got = await reader.getManifest('secure/app', 'latest', ALL_MANIFESTS);
    assert.equal(got.digest, digest);
    assert.equal(got.mediaType, DOCKER_MANIFEST);
    const hash = createHash('sha256');
    for await (const chunk of await reader.fetchBlob('secure/app', layer.digest, layer.size)) hash.update(chunk as Buffer);
    assert.equal(`sha256:${hash.digest('hex')}`, layer.digest);

    // Mount needs pull on the source and push on the target in one token.
    assert.equal(await reader.mountBlob('secure/copy', 'secure/app', layer.digest), true);
    assert.equal(await reader.hasBlob('secure/copy', layer.digest), true);
  });

  test('an identity token is exchanged with the OAuth2 refresh_token grant', async () => {
    const c = client(registry.host, { identitytoken: registry.identitytoken! });
    await c.ping();
    const { digest } = await c.uploadBlob('secure/oauth', Readable.from([Buffer.from('via oauth')]));
    assert.equal(await c.hasBlob('secure/oauth', digest), true);
    await rejectsWith(client(registry.host, { identitytoken: 'stale' }).ping(), 'Unauthenticated', 'unauthorized: invalid refresh token');
  });

  test('a registry token is used as the bearer token as is', async () => {
    const writer = client(registry.host, creds);
    const { digest } = await writer.uploadBlob('secure/fixed', Readable.from([Buffer.from('fixed token')]));
    // A token for pull on secure/fixed only, from the realm the registry's challenge names.
    const res = await fetch(`http://${registry.host}/v2/`);
    await res.body?.cancel();
    const challenge = /realm="([^"]+)",service="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '');
    assert.ok(challenge, 'registry sends a Bearer challenge');
    const token = await fetchToken({ realm: challenge[1]!, service: challenge[2]!, scopes: ['repository:secure/fixed:pull'], credentials: creds, userAgent: 'berth-test', registry: { host: registry.host, https: false } });
    const fixed = client(registry.host, { registrytoken: token });
    assert.equal(await fixed.hasBlob('secure/fixed', digest), true);
    await rejectsWith(fixed.uploadBlob('secure/fixed', Readable.from([Buffer.from('no push')])), 'Unauthenticated', /^unauthorized: /);
  });
});
