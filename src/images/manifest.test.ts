import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, selectPlatform } from './manifest.ts';
import { MediaTypes } from './media-types.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaTypes.dockerManifest,
  config: { mediaType: MediaTypes.dockerConfig, digest: digest('a'), size: 10 },
  layers: [{ mediaType: MediaTypes.dockerLayerGzip, digest: digest('b'), size: 20 }],
  ...extra,
}));

test('manifests and indexes parse by media type or by shape', () => {
  const parsed = parseManifest(manifest());
  assert.equal(parsed.kind, 'manifest');
  const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: digest('c'), size: 5, platform: { os: 'linux', architecture: 'amd64' } }] })));
  assert.equal(index.kind, 'index');
});

test('bad manifests are refused with a reason, never half-read', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not JSON', Buffer.from('{'), /not valid JSON/],
    ['schema 1', Buffer.from(JSON.stringify({ schemaVersion: 1 })), /schema 1/],
    ['digest that is a path', manifest({ layers: [{ mediaType: MediaTypes.dockerLayerGzip, digest: 'sha256:../../etc/passwd', size: 1 }] }), /invalid layers\[0\] digest/],
    ['negative size', manifest({ config: { mediaType: MediaTypes.dockerConfig, digest: digest('a'), size: -1 } }), /invalid size/],
    ['unknown layer type', manifest({ layers: [{ mediaType: 'application/x-evil', digest: digest('b'), size: 1 }] }), /unsupported layer media type/],
    ['too large', Buffer.alloc(5 * 1024 * 1024, 0x20), /too large/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => parseManifest(bytes), (err: Error & { kind?: string }) => err.kind === 'InvalidArgument' && message.test(err.message), what);
  }
});

test('platform selection: exact variant when asked, else the plain entry, else a clear not-found', () => {
  const entry = (architecture: string, variant?: string, c = 'd') => ({ mediaType: MediaTypes.ociManifest, digest: digest(c), size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const index = { schemaVersion: 2 as const, mediaType: MediaTypes.ociIndex, manifests: [entry('arm', 'v6', '1'), entry('arm', 'v7', '2'), entry('amd64', undefined, '3'), entry('arm64', 'v8', '4')] };
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'amd64' }).digest, digest('3'));
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, digest('2'));
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm64' }).digest, digest('4'));
  assert.throws(() => selectPlatform(index, { os: 'linux', architecture: 's390x' }), /no matching manifest for linux\/s390x/);
});
