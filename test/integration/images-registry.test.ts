/**
 * Images through registries and archives, end to end: OCI layouts built by ./oci-builder.ts
 * (independently of berth's image code) are pushed with skopeo to a real registry
 * (docker-registry 2.8 via ./registry.ts) and pulled, pushed, saved and loaded with the real
 * docker CLI (v28) against a real berthd. What is checked is what a user sees: the files in
 * a container, image IDs, diff IDs and digests, exit codes and error messages, and that the
 * data root keeps nothing it should not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { ApiError } from '../../src/client/client.ts';
import { busyboxTarball, TestDaemon, waitFor } from './harness.ts';
import { buildOciIndexLayout, buildOciLayout, OCI_MANIFEST, type BuiltImage, type LayerSpec } from './oci-builder.ts';
import { startRegistry, type TestRegistry } from './registry.ts';

const DOCKER = process.env.DOCKER_CLI ?? '/usr/local/bin/docker';
const SKOPEO = 'skopeo';

before(() => {
  for (const [tool, args] of [[DOCKER, ['--version']], [SKOPEO, ['--version']]] as const) {
    const probe = spawnSync(tool, args, { encoding: 'utf8' });
    assert.equal(probe.status, 0, `${tool} is required for this suite: ${probe.error?.message ?? probe.stderr}`);
  }
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Commands get at most this long; one that hangs (e.g. a CLI prompt) is killed by its PID and fails the test. */
const COMMAND_TIMEOUT_MS = 90_000;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n[test: ${cmd} ${args.join(' ')} did not finish within ${COMMAND_TIMEOUT_MS} ms; killed]`;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.stdin.end(input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The docker CLI against `daemon`, with its own config dir (credentials from `docker login` live there). */
function docker(daemon: TestDaemon, args: string[], input?: string): Promise<Run> {
  const home = join(daemon.root, 'docker-config');
  mkdirSync(home, { recursive: true });
  return run(DOCKER, args, { PATH: process.env.PATH, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: home, HOME: home }, input);
}

/** docker, expected to succeed: returns stdout. */
async function dockerOk(daemon: TestDaemon, args: string[], input?: string): Promise<string> {
  const r = await docker(daemon, args, input);
  assert.equal(r.code, 0, `docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- berthd log (tail) ---\n${daemon.log().slice(-3000)}`);
  return r.stdout;
}

function skopeo(args: string[]): Promise<Run> {
  return run(SKOPEO, ['--insecure-policy', ...args], { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' });
}

async function skopeoOk(args: string[]): Promise<string> {
  const r = await skopeo(args);
  assert.equal(r.code, 0, `skopeo ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return r.stdout;
}

interface InspectedImage {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
  Variant?: string;
  Os: string;
  RootFS: { Type: string; Layers: string[] };
}

/**
 * POST /images/create without credentials, as a client that does not prompt would send it:
 * the HTTP status and the error message, whether the daemon refused before streaming
 * (status) or reported the failure in the progress stream (errorDetail).
 */
async function apiPull(daemon: TestDaemon, fromImage: string, tag: string): Promise<{ status: number; message: string }> {
  try {
    const res = await daemon.client.raw('POST', '/images/create', { query: { fromImage, tag } });
    let body = '';
    for await (const chunk of res) body += (chunk as Buffer).toString();
    const errors = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { error?: string }).filter((m) => m.error);
    return { status: res.statusCode ?? 0, message: errors.map((e) => e.error).join('; ') };
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, message: err.message };
    throw err;
  }
}

async function inspectImage(daemon: TestDaemon, ref: string): Promise<InspectedImage> {
  const out = await dockerOk(daemon, ['image', 'inspect', ref]);
  const list = JSON.parse(out) as InspectedImage[];
  assert.equal(list.length, 1);
  return list[0]!;
}

/** The data root's blobs (every entry below content/) and unpacked layers (the entries of layers/), sorted. */
function storeEntries(daemon: TestDaemon): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      out.push(relative(daemon.dataRoot, path));
      if (depth > 1 && statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path, depth - 1);
    }
  };
  walk(join(daemon.dataRoot, 'content'), 3);
  walk(join(daemon.dataRoot, 'layers'), 1);
  return out.sort();
}

async function startDaemon(): Promise<TestDaemon> {
  // Short path: shim sockets live below it and unix socket paths are limited to 108 bytes.
  const daemon = new TestDaemon(mkdtempSync('/tmp/bt-'), {});
  try {
    await daemon.start();
  } catch (err) {
    await daemon.cleanup();
    throw err;
  }
  return daemon;
}

/** Wait for all (so after() finds everything that did start), then throw the first failure. */
async function settleAll(...promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

// ---- the three-layer test image ------------------------------------------------------------

/** Layer 2 adds files; layer 3 deletes /data/a (whiteout) and replaces /opt/dir (opaque) with only y. */
const THREE_LAYERS: LayerSpec[] = [
  { '/data/a': 'alpha\n', '/data/b': 'bravo\n', '/etc/keep': 'kept\n', '/opt/dir/x': 'x-ray\n', '/etc/bravo-link': { symlink: '/data/b' } },
  { '/data/a': { whiteout: true }, '/opt/dir': { opaque: true }, '/opt/dir/y': 'yankee\n' },
];

/** What a container of the three-layer image prints for THREE_LAYERS_SCRIPT. */
const THREE_LAYERS_SCRIPT = [
  'echo "data: $(ls -A /data | tr "\\n" " ")"',
  'echo "opt/dir: $(ls -A /opt/dir | tr "\\n" " ")"',
  'cat /data/b /etc/keep /opt/dir/y /etc/bravo-link',
  '[ -e /data/a ] && echo "a present" || echo "a absent"',
  '[ -e /opt/dir/x ] && echo "x present" || echo "x absent"',
].join('; ');
const THREE_LAYERS_SEEN = 'data: b \nopt/dir: y \nbravo\nkept\nyankee\nbravo\na absent\nx absent\n';

async function assertThreeLayerFiles(daemon: TestDaemon, image: string): Promise<void> {
  const out = await dockerOk(daemon, ['run', '--rm', image, 'sh', '-c', THREE_LAYERS_SCRIPT]);
  assert.equal(out, THREE_LAYERS_SEEN, `files seen in a container of ${image}`);
}

function newWorkDir(): string {
  return mkdtempSync('/tmp/berth-imgreg-');
}

// ---- a plain registry: pull, pull by digest, push, multi-platform, archives -----------------

describe('berthd with a registry (no auth) and the docker CLI', () => {
  let daemon: TestDaemon | undefined;
  let registry: TestRegistry | undefined;
  let work = '';
  let three: BuiltImage;
  /** Manifest digest of HOST/test/three:v1 as skopeo pushed it. */
  let threeDigest = '';
  let host = '';

  before(async () => {
    work = newWorkDir();
    three = buildOciLayout(join(work, 'three'), { tag: 'v1', layers: THREE_LAYERS, config: { Cmd: ['sh'], Labels: { 'test.berth': 'three' } } });
    await settleAll(startDaemon().then((x) => (daemon = x)), startRegistry().then((x) => (registry = x)));
    host = registry!.host;
    const digestFile = join(work, 'three.digest');
    await skopeoOk(['copy', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${join(work, 'three')}:v1`, `docker://${host}/test/three:v1`]);
    threeDigest = readFileSync(digestFile, 'utf8').trim();
    assert.match(threeDigest, /^sha256:[0-9a-f]{64}$/);
  });

  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('docker pull of a 3-layer OCI image: whiteouts and opaque dirs apply, diff IDs and repo digest are right', async () => {
    const d = daemon!;
    const pulled = await dockerOk(d, ['pull', `${host}/test/three:v1`]);
    assert.match(pulled, new RegExp(`Digest: ${threeDigest}`));
    const image = await inspectImage(d, `${host}/test/three:v1`);
    assert.equal(image.Id, three.config.digest, 'the image ID is the config digest');
    assert.deepEqual(image.RootFS.Layers, three.diffIds, 'RootFS.Layers are the diff IDs of the uncompressed layer tars');
    assert.ok(image.RepoDigests.includes(`${host}/test/three@${threeDigest}`), `RepoDigests ${JSON.stringify(image.RepoDigests)} should name ${host}/test/three@${threeDigest}`);
    assert.equal(image.Architecture, 'amd64');
    assert.equal(image.Os, 'linux');
    await assertThreeLayerFiles(d, `${host}/test/three:v1`);
  });

  test('docker pull by digest gives the same image', async () => {
    const d = daemon!;
    // Start without the image so that this is a real pull by digest.
    await docker(d, ['rmi', `${host}/test/three:v1`]);
    assert.equal((await dockerOk(d, ['images', '-q'])).trim(), '', 'no image left before the pull by digest');
    const ref = `${host}/test/three@${threeDigest}`;
    await dockerOk(d, ['pull', ref]);
    const image = await inspectImage(d, ref);
    assert.equal(image.Id, three.config.digest);
    assert.deepEqual(image.RepoDigests, [ref]);
    assert.deepEqual(image.RootFS.Layers, three.diffIds);
    await assertThreeLayerFiles(d, ref);
    // A digest the registry does not have is an error, not some other image.
    const wrong = `${host}/test/three@sha256:${'0'.repeat(64)}`;
    const missing = await docker(d, ['pull', wrong]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found|unknown/i);
  });

  test('docker push to another repository, rmi leaves no content or layers behind, pulling again gives the same files', async () => {
    const d = daemon!;
    await dockerOk(d, ['pull', `${host}/test/three:v1`]);
    await dockerOk(d, ['tag', `${host}/test/three:v1`, `${host}/other/three:v2`]);
    const pushed = await dockerOk(d, ['push', `${host}/other/three:v2`]);
    const m = /v2: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(pushed);
    assert.ok(m, `docker push prints the manifest digest:\n${pushed}`);
    const pushedDigest = m[1]!;

    const remote = JSON.parse(await skopeoOk(['inspect', '--tls-verify=false', `docker://${host}/other/three:v2`])) as { Digest: string; Layers: string[]; Architecture: string };
    assert.equal(remote.Digest, pushedDigest, 'the registry serves the manifest docker push reported');
    assert.deepEqual(remote.Layers, three.layers.map((l) => l.digest), 'the pushed layers are the blobs that were pulled');
    assert.equal(remote.Architecture, 'amd64');
    const remoteConfig = Buffer.from(await skopeoOk(['inspect', '--tls-verify=false', '--config', '--raw', `docker://${host}/other/three:v2`]));
    assert.equal(sha256(remoteConfig), three.config.digest, 'the pushed config is byte for byte the one pulled');
    assert.ok((await inspectImage(d, `${host}/other/three:v2`)).RepoDigests.includes(`${host}/other/three@${pushedDigest}`));

    // Delete it locally: every image this daemon has, then nothing may be left in the stores.
    const leftovers = (await dockerOk(d, ['images', '-q', '--no-trunc'])).split('\n').filter((id) => id && id !== three.config.digest);
    if (leftovers.length) await dockerOk(d, ['rmi', '-f', ...leftovers]);
    const removed = await dockerOk(d, ['rmi', `${host}/test/three:v1`, `${host}/other/three:v2`]);
    assert.match(removed, new RegExp(`Deleted: ${three.config.digest}`));
    assert.equal((await dockerOk(d, ['images', '-aq'])).trim(), '');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'layers')), [], 'layers/ is empty after the last image is removed');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'content', 'sha256')), [], 'content/sha256/ is empty after the last image is removed');

    // Pull what was pushed: everything is downloaded again and the container sees the same files.
    const again = await dockerOk(d, ['pull', `${host}/other/three:v2`]);
    assert.doesNotMatch(again, /Already exists/);
    assert.equal(again.match(/Pull complete/g)?.length, 3, `three layers downloaded and unpacked:\n${again}`);
    const image = await inspectImage(d, `${host}/other/three:v2`);
    assert.equal(image.Id, three.config.digest);
    assert.deepEqual(image.RootFS.Layers, three.diffIds);
    await assertThreeLayerFiles(d, `${host}/other/three:v2`);
  });

  test('a two-platform index: the default pull picks amd64, --platform linux/arm64 picks arm64', async () => {
    const d = daemon!;
    // arm64 first in the index, so that "the first entry" is not mistaken for "the host's".
    const multi = buildOciIndexLayout(join(work, 'multi'), {
      tag: 'v1',
      platforms: [
        { architecture: 'arm64', variant: 'v8', layers: [{ '/etc/platform': 'arm64\n' }] },
        { architecture: 'amd64', layers: [{ '/etc/platform': 'amd64\n' }] },
      ],
    });
    const [arm64, amd64] = multi.images as [BuiltImage, BuiltImage];
    const digestFile = join(work, 'multi.digest');
    await skopeoOk(['copy', '--all', '--dest-tls-verify=false', '--digestfile', digestFile, `oci:${multi.dir}:v1`, `docker://${host}/test/multi:v1`]);
    const indexDigest = readFileSync(digestFile, 'utf8').trim();
    const raw = JSON.parse(await skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${host}/test/multi:v1`])) as { manifests: Array<{ platform: { architecture: string } }> };
    assert.deepEqual(raw.manifests.map((m) => m.platform.architecture), ['arm64', 'amd64'], 'the registry holds the index');

    await dockerOk(d, ['pull', `${host}/test/multi:v1`]);
    const def = await inspectImage(d, `${host}/test/multi:v1`);
    assert.equal(def.Architecture, 'amd64');
    assert.equal(def.Id, amd64.config.digest);
    assert.deepEqual(def.RootFS.Layers, amd64.diffIds);
    assert.ok(def.RepoDigests.includes(`${host}/test/multi@${indexDigest}`), `RepoDigests ${JSON.stringify(def.RepoDigests)} name the index digest ${indexDigest}`);
    assert.equal(await dockerOk(d, ['run', '--rm', `${host}/test/multi:v1`, 'cat', '/etc/platform']), 'amd64\n');

    await dockerOk(d, ['pull', '--platform', 'linux/arm64', `${host}/test/multi:v1`]);
    const arm = await inspectImage(d, `${host}/test/multi:v1`);
    assert.equal(arm.Architecture, 'arm64');
    assert.equal(arm.Variant, 'v8');
    assert.equal(arm.Id, arm64.config.digest);
    assert.deepEqual(arm.RootFS.Layers, arm64.diffIds);
    // The amd64 image is still there, by ID, now untagged.
    assert.equal((await inspectImage(d, amd64.config.digest)).Architecture, 'amd64');
  });

  test('skopeo docker-archive and oci-archive load into berthd; berth\'s docker save is read by skopeo', async () => {
    const d = daemon!;
    const img = buildOciLayout(join(work, 'archived'), {
      tag: 'v1',
      layers: [
        { '/srv/archive/note': 'first\n', '/srv/archive/old': 'old\n' },
        // Deletes a file of the busybox base and one of the layer below; replaces note.
        { '/srv/archive/note': 'second\n', '/srv/archive/old': { whiteout: true }, '/etc/group': { whiteout: true } },
      ],
    });
    const script = 'cat /srv/archive/note; ls -A /srv/archive; [ -e /etc/group ] && echo "group present" || echo "group absent"; [ -e /etc/passwd ] && echo "passwd present"';
    const seen = 'second\nnote\ngroup absent\npasswd present\n';

    // docker-archive from skopeo, tagged in the archive.
    const dockerArchive = join(work, 'docker-archive.tar');
    await skopeoOk(['copy', `oci:${img.dir}:v1`, `docker-archive:${dockerArchive}:arch/test:v1`]);
    const loaded1 = await dockerOk(d, ['load', '-i', dockerArchive]);
    assert.match(loaded1, /Loaded image: arch\/test:v1/);
    const fromDocker = await inspectImage(d, 'arch/test:v1');
    assert.equal(fromDocker.Id, img.config.digest);
    assert.deepEqual(fromDocker.RootFS.Layers, img.diffIds);
    assert.equal(await dockerOk(d, ['run', '--rm', 'arch/test:v1', 'sh', '-c', script]), seen);
    await dockerOk(d, ['rmi', 'arch/test:v1']);
    assert.equal((await docker(d, ['image', 'inspect', img.config.digest])).code, 1, 'removed before the next load');

    // oci-archive from skopeo: its ref.name is a bare tag, so the image loads by ID.
    const ociArchive = join(work, 'oci-archive.tar');
    await skopeoOk(['copy', `oci:${img.dir}:v1`, `oci-archive:${ociArchive}:v1`]);
    const loaded2 = await dockerOk(d, ['load', '-i', ociArchive]);
    assert.match(loaded2, new RegExp(`Loaded image( ID)?: ${img.config.digest}`));
    const fromOci = await inspectImage(d, img.config.digest);
    assert.deepEqual(fromOci.RootFS.Layers, img.diffIds);
    assert.equal(await dockerOk(d, ['run', '--rm', img.config.digest, 'sh', '-c', script]), seen);

    // berth's own archive: skopeo reads it both as a docker-archive and as an oci-archive.
    await dockerOk(d, ['tag', img.config.digest, 'arch/saved:v1']);
    const saved = join(work, 'saved.tar');
    await dockerOk(d, ['save', '-o', saved, 'arch/saved:v1']);
    for (const transport of [`docker-archive:${saved}`, `oci-archive:${saved}`]) {
      const info = JSON.parse(await skopeoOk(['inspect', transport])) as { Architecture: string; Os: string; Layers: string[] };
      assert.equal(info.Architecture, 'amd64', transport);
      assert.equal(info.Os, 'linux', transport);
      assert.equal(info.Layers.length, 3, transport);
      const config = Buffer.from(await skopeoOk(['inspect', '--config', '--raw', transport]));
      assert.equal(sha256(config), img.config.digest, `${transport}: the saved config is the image's, byte for byte`);
      assert.deepEqual((JSON.parse(config.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, img.diffIds, transport);
    }
    await skopeoOk(['copy', '--dest-tls-verify=false', `docker-archive:${saved}`, `docker://${host}/saved/from-docker-archive:v1`]);
    await skopeoOk(['copy', '--dest-tls-verify=false', `oci-archive:${saved}`, `docker://${host}/saved/from-oci-archive:v1`]);
    for (const repo of ['from-docker-archive', 'from-oci-archive']) {
      const config = Buffer.from(await skopeoOk(['inspect', '--tls-verify=false', '--config', '--raw', `docker://${host}/saved/${repo}:v1`]));
      assert.equal(sha256(config), img.config.digest, `${repo}: the registry has the saved image`);
    }
    // And what skopeo pushed from berth's archive pulls back into a working container.
    await dockerOk(d, ['rmi', '-f', img.config.digest]);
    await dockerOk(d, ['pull', `${host}/saved/from-docker-archive:v1`]);
    assert.equal(await dockerOk(d, ['run', '--rm', `${host}/saved/from-docker-archive:v1`, 'sh', '-c', script]), seen);
  });
});

// ---- token auth ----------------------------------------------------------------------------

describe('berthd with a token-auth registry and docker login', () => {
  let daemon: TestDaemon | undefined;
  let registry: TestRegistry | undefined;
  let work = '';
  let three: BuiltImage;

  before(async () => {
    work = newWorkDir();
    three = buildOciLayout(join(work, 'three'), { tag: 'v1', layers: THREE_LAYERS });
    await settleAll(startDaemon().then((x) => (daemon = x)), startRegistry({ auth: 'token' }).then((x) => (registry = x)));
    await skopeoOk(['copy', '--dest-tls-verify=false', '--dest-creds', `${registry!.username}:${registry!.password}`, `oci:${join(work, 'three')}:v1`, `docker://${registry!.host}/secure/three:v1`]);
  });

  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('anonymous pull is refused; login checks the password; push and pull work with the stored credentials', async () => {
    const d = daemon!;
    const { host, username, password } = registry! as Required<TestRegistry>;

    // The daemon answers an anonymous pull with 401 and says why: Docker's contract, on which
    // the CLI decides to ask for credentials.
    const anonymous = await apiPull(d, `${host}/secure/three`, 'v1');
    assert.equal(anonymous.status, 401, `anonymous pull: ${JSON.stringify(anonymous)}`);
    assert.match(anonymous.message, /unauthorized|authentication required/i);
    // The docker CLI then prompts "Login prior to pull"; an empty answer ends it with an error.
    const anonymousCli = await docker(d, ['pull', `${host}/secure/three:v1`], '\n');
    assert.notEqual(anonymousCli.code, 0, anonymousCli.stdout);
    assert.match(anonymousCli.stdout, /Login prior to pull/);
    assert.equal((await dockerOk(d, ['images', '-q'])).trim(), '');

    const wrong = await docker(d, ['login', '-u', username, '--password-stdin', host], 'not-the-password\n');
    assert.notEqual(wrong.code, 0, `login with a wrong password fails:\n${wrong.stdout}`);
    assert.match(wrong.stderr, /unauthorized|incorrect|denied|authentication/i);
    const configPath = join(d.root, 'docker-config', 'config.json');
    const storedAfterWrong = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as { auths?: Record<string, unknown> }).auths ?? {} : {};
    assert.equal(storedAfterWrong[host], undefined, 'no credentials stored for a failed login');

    const right = await docker(d, ['login', '-u', username, '--password-stdin', host], `${password}\n`);
    assert.equal(right.code, 0, `login with the right password: ${right.stderr}\n${d.log().slice(-2000)}`);
    assert.match(right.stdout, /Login Succeeded/);

    await dockerOk(d, ['pull', `${host}/secure/three:v1`]);
    const image = await inspectImage(d, `${host}/secure/three:v1`);
    assert.equal(image.Id, three.config.digest);
    await assertThreeLayerFiles(d, `${host}/secure/three:v1`);

    await dockerOk(d, ['tag', `${host}/secure/three:v1`, `${host}/secure/pushed:v2`]);
    const pushed = await dockerOk(d, ['push', `${host}/secure/pushed:v2`]);
    const m = /v2: digest: (sha256:[0-9a-f]{64})/.exec(pushed);
    assert.ok(m, pushed);
    const creds = `${username}:${password}`;
    const remote = JSON.parse(await skopeoOk(['inspect', '--tls-verify=false', '--creds', creds, `docker://${host}/secure/pushed:v2`])) as { Digest: string; Layers: string[] };
    assert.equal(remote.Digest, m[1]);
    assert.deepEqual(remote.Layers, three.layers.map((l) => l.digest));
    // The push really needed the credentials: anonymous access to it is refused.
    const anonInspect = await skopeo(['inspect', '--tls-verify=false', '--no-creds', `docker://${host}/secure/pushed:v2`]);
    assert.notEqual(anonInspect.code, 0);

    // A logout drops them again: pulls are refused.
    assert.match(await dockerOk(d, ['logout', host]), /Removing login credentials/);
    await dockerOk(d, ['rmi', `${host}/secure/pushed:v2`]);
    const afterLogout = await apiPull(d, `${host}/secure/pushed`, 'v2');
    assert.equal(afterLogout.status, 401, `pull after logout: ${JSON.stringify(afterLogout)}`);
    assert.equal((await docker(d, ['image', 'inspect', `${host}/secure/pushed:v2`])).code, 1);
  });
});

// ---- a registry that serves wrong bytes --------------------------------------------------------

describe('berthd with a registry that lies about a layer', () => {
  let daemon: TestDaemon | undefined;
  let server: Server | undefined;
  let work = '';
  let host = '';
  let image: BuiltImage;

  before(async () => {
    work = newWorkDir();
    // Busybox base (berthd has it already, imported below) and one layer that will be served wrong.
    image = buildOciLayout(join(work, 'liar'), { tag: 'v1', layers: [{ '/lie': 'the truth\n'.repeat(1000) }] });
    const blob = (digest: string) => readFileSync(join(work, 'liar', 'blobs', 'sha256', digest.slice('sha256:'.length)));
    const bad = image.layers[1]!;
    const corrupted = Buffer.from(blob(bad.digest));
    // Same length, different bytes: only the digest can tell.
    for (let i = 20; i < corrupted.length - 20; i += 97) corrupted[i] = corrupted[i]! ^ 0xff;
    assert.notEqual(sha256(corrupted), bad.digest);
    const manifestBytes = blob(image.manifest.digest);
    const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer) => {
      res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
      res.end(body);
    };
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const head = req.method === 'HEAD';
      const send = (status: number, headers: Record<string, string>, body: Buffer) => (head ? (res.writeHead(status, { ...headers, 'Content-Length': String(body.length) }), res.end()) : reply(res, status, headers, body));
      if (path === '/v2/' || path === '/v2') return send(200, { 'Content-Type': 'application/json', 'Docker-Distribution-API-Version': 'registry/2.0' }, Buffer.from('{}'));
      const manifest = /^\/v2\/liar\/image\/manifests\/(.+)$/.exec(path);
      if (manifest && (manifest[1] === 'v1' || manifest[1] === image.manifest.digest)) {
        return send(200, { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': image.manifest.digest }, manifestBytes);
      }
      const blobMatch = /^\/v2\/liar\/image\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
      if (blobMatch) {
        const digest = blobMatch[1]!;
        if (digest === bad.digest) return send(200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest }, corrupted);
        if (digest === image.config.digest || digest === image.layers[0]!.digest) return send(200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest }, blob(digest));
      }
      send(404, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'not here' }] })));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', resolve);
    });
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    daemon = await startDaemon();
    await dockerOk(daemon, ['import', busyboxTarball(), 'busybox:base']);
  });

  after(async () => {
    await daemon?.cleanup();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a layer whose bytes do not match its digest fails the pull and leaves nothing behind', async () => {
    const d = daemon!;
    const imagesBefore = await dockerOk(d, ['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(imagesBefore, /^busybox:base sha256:[0-9a-f]{64}\n$/);
    const storeBefore = storeEntries(d);

    const pull = await docker(d, ['pull', `${host}/liar/image:v1`]);
    assert.notEqual(pull.code, 0, `the pull must fail:\n${pull.stdout}`);
    assert.ok(pull.stderr.includes(image.layers[1]!.digest), `the error names the layer digest:\n${pull.stderr}`);
    assert.match(pull.stderr, /digest|verification/i);
    assert.match(pull.stderr, /mismatch|did not match|does not match|failed verification|verification failed/i);

    assert.equal(await dockerOk(d, ['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), imagesBefore, 'docker images is unchanged');
    assert.equal((await docker(d, ['image', 'inspect', `${host}/liar/image:v1`])).code, 1);
    const names = new Map<string, string>([[image.config.digest, 'the config'], [image.manifest.digest, 'the manifest'], ...image.layers.map((l, i) => [l.digest, `layer ${i + 1}`] as [string, string])]);
    const added = storeEntries(d).filter((e) => !storeBefore.includes(e)).map((e) => `${e} (${names.get(`sha256:${e.split('/').at(-1)}`) ?? '?'})`);
    assert.deepEqual(added, [], `content/ and layers/ hold nothing new after the failed pull (no blob, no half-written layer)\n--- berthd log (tail) ---\n${d.log().slice(-2000)}`);
    assert.deepEqual(storeEntries(d), storeBefore);
  });
});


// ---- a daemon killed in the middle of a pull --------------------------------------------------

describe('berthd killed while it pulls', () => {
  let daemon: TestDaemon | undefined;
  let registry: TestRegistry | undefined;
  let work = '';

  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a pull interrupted by SIGKILL leaves nothing that the restarted daemon trusts; the pull then completes', async () => {
    work = newWorkDir();
    // Base64 noise: gzip keeps most of it, so the download takes long enough to be interrupted.
    const noise = (n: number) => randomBytes(n).toString('base64');
    buildOciLayout(join(work, 'big'), { tag: 'v1', layers: [{ '/big/one': noise(24 << 20) }, { '/big/two': noise(24 << 20) }], config: { Cmd: ['sh'] } });
    await settleAll(startDaemon().then((x) => (daemon = x)), startRegistry().then((x) => (registry = x)));
    const d = daemon!;
    const ref = `${registry!.host}/test/big:v1`;
    await skopeoOk(['copy', '--dest-tls-verify=false', `oci:${join(work, 'big')}:v1`, `docker://${ref}`]);

    const pulling = docker(d, ['pull', ref]);
    await waitFor('the pull to be writing a blob', () => {
      const tmp = join(d.dataRoot, 'tmp');
      return existsSync(tmp) && readdirSync(tmp).some((n) => n.startsWith('blob-') && statSync(join(tmp, n), { throwIfNoEntry: false })?.size);
    }, 60_000);
    await d.stop('SIGKILL');
    assert.notEqual((await pulling).code, 0, 'the client sees the pull fail');

    await d.start();
    assert.equal((await docker(d, ['image', 'inspect', ref])).code, 1, 'no image from the interrupted pull');
    assert.deepEqual(storeEntries(d).filter((e) => e !== 'content/sha256'), [], 'no blob or layer left behind');
    await dockerOk(d, ['pull', ref]);
    const out = await dockerOk(d, ['run', '--rm', ref, 'sh', '-c', 'wc -c < /big/one; wc -c < /big/two']);
    assert.equal(out, `${4 * Math.ceil((24 << 20) / 3)}\n${4 * Math.ceil((24 << 20) / 3)}\n`);
  });
});

// ---- HTTPS: an insecure registry speaking TLS with a certificate nobody trusts ----------------

describe('berthd with a registry that serves HTTPS', () => {
  let daemon: TestDaemon | undefined;
  let registry: TestRegistry | undefined;

  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
  });

  test('a loopback registry on HTTPS is used over HTTPS (certificate not checked, as Docker does for insecure registries)', async () => {
    await settleAll(startDaemon().then((x) => (daemon = x)), startRegistry({ tls: true }).then((x) => (registry = x)));
    const d = daemon!;
    const ref = `${registry!.host}/tls/busybox:1`;
    await dockerOk(d, ['import', busyboxTarball(), ref]);
    const pushed = await dockerOk(d, ['push', ref]);
    assert.match(pushed, /1: digest: sha256:[0-9a-f]{64}/);
    // skopeo reads it back over HTTPS: the registry really has it.
    const inspected = JSON.parse(await skopeoOk(['inspect', '--tls-verify=false', `docker://${ref}`])) as { Layers: string[] };
    assert.equal(inspected.Layers.length, 1);
    await dockerOk(d, ['rmi', ref]);
    await dockerOk(d, ['pull', ref]);
    assert.equal(await dockerOk(d, ['run', '--rm', ref, 'echo', 'over-tls']), 'over-tls\n');
  });
});

// ---- certs.d: a registry that wants a client certificate --------------------------------------

describe('berthd with a registry that requires a client certificate (certs.d)', () => {
  let daemon: TestDaemon | undefined;
  let registry: TestRegistry | undefined;
  let certs = '';

  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  test('the client certificate in <certs.d>/<host:port>/ is presented; without it the registry refuses', async () => {
    certs = newWorkDir();
    daemon = new TestDaemon(mkdtempSync('/tmp/bt-'), { env: { BERTH_CERTS_DIR: certs } });
    await settleAll(daemon.start(), startRegistry({ tls: true, clientCertificates: true }).then((x) => (registry = x)));
    const d = daemon;
    const ref = `${registry!.host}/mtls/busybox:1`;
    await dockerOk(d, ['import', busyboxTarball(), ref]);
    const refused = await docker(d, ['push', ref]);
    assert.notEqual(refused.code, 0, `without a client certificate the push fails:\n${refused.stdout}`);
    const hostDir = join(certs, registry!.host);
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, 'client.cert'), registry!.client!.cert);
    writeFileSync(join(hostDir, 'client.key'), registry!.client!.key);
    assert.match(await dockerOk(d, ['push', ref]), /1: digest: sha256:[0-9a-f]{64}/);
    await dockerOk(d, ['rmi', ref]);
    await dockerOk(d, ['pull', ref]);
    assert.equal(await dockerOk(d, ['run', '--rm', ref, 'echo', 'mtls']), 'mtls\n');
  });
});
