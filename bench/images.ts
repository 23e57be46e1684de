/**
 * Image transfer benchmark (run as root: `npm run build && node bench/images.ts`). A script,
 * not a test: nothing here asserts a time. Prints a markdown section for bench/RESULTS.md.
 *
 *   1. A ~100 MB (uncompressed) multi-layer image — the busybox base plus BENCH_IMAGE_LAYERS
 *      layers of BENCH_LAYER_MB MB of base64 noise each (gzip keeps ~3/4 of it) — is built as an
 *      OCI layout and pushed by skopeo to a local registry (Debian's docker-registry on
 *      127.0.0.1).
 *   2. Pull + unpack through berthd (`POST /images/create`, the docker CLI's call), from an empty
 *      store each time (the image is removed and the store checked empty between runs), against
 *      `skopeo copy docker://… oci:DIR` on the same registry (download and verify only: skopeo does
 *      not unpack) and, where it is installed, `podman pull` (download + unpack into its store).
 *      Medians of BENCH_RUNS runs; the ratio is berth's time over the other tool's.
 *   3. `docker run --rm IMAGE true` latency for the big image and for the 2 MB busybox image:
 *      with overlay the image's size should not matter (no copy of the layers).
 *
 * Environment: BENCH_RUNS (3), BENCH_IMAGE_LAYERS (4), BENCH_LAYER_MB (25).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { machineLines, sh } from './machine.ts';
import { TestDaemon, busyboxTarball } from '../test/integration/harness.ts';
import { startRegistry } from '../test/integration/registry.ts';
import { buildOciLayout } from '../test/integration/oci-builder.ts';
import { createReadStream } from 'node:fs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LAYERS = Number(process.env.BENCH_IMAGE_LAYERS ?? 4);
const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 25);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${Math.round(x)} ms`;

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const root = mkdtempSync('/tmp/bt-bench-img-');
const registry = await startRegistry();
mkdirSync(join(root, 'd'));
const daemon = new TestDaemon(join(root, 'd'), {});
const lines: string[] = [];
try {
  const layout = join(root, 'layout');
  const noise = () => randomBytes((LAYER_MB * 1024 * 1024 * 3) / 4).toString('base64');
  const built = buildOciLayout(layout, { tag: 'big', layers: Array.from({ length: LAYERS }, (_, i) => ({ [`data/layer${i}.txt`]: noise() })), config: { Cmd: ['sh'] } });
  const compressed = built.layers.reduce((sum, l) => sum + l.size, 0);
  const ref = `${registry.host}/bench/big:1`;
  execFileSync('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${layout}:big`, `docker://${ref}`], { stdio: 'ignore' });

  await daemon.start();
  const info = await daemon.client.info();
  const berth: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    berth.push(await timed(() => daemon.client.pullImage(`${registry.host}/bench/big`, '1')));
    if (i < RUNS - 1) {
      await daemon.client.removeImage(ref);
      const left = readdirSync(join(daemon.dataRoot, 'layers')).length + readdirSync(join(daemon.dataRoot, 'content', 'sha256')).length;
      if (left !== 0) throw new Error(`the store is not empty after rmi (${left} entries)`);
    }
  }
  const unpacked = ((await daemon.client.inspectImage(ref)) as { Size: number }).Size;

  const skopeo: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dest = join(root, `skopeo-${i}`);
    skopeo.push(await timed(() => {
      execFileSync('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}:big`], { stdio: 'ignore' });
    }));
    rmSync(dest, { recursive: true, force: true });
  }

  const podmanAvailable = spawnSync('sh', ['-c', 'command -v podman']).status === 0;
  const podman: number[] = [];
  if (podmanAvailable) {
    const podRoot = join(root, 'podman');
    for (let i = 0; i < RUNS; i++) {
      const store = ['--root', join(podRoot, `root-${i}`), '--runroot', join(podRoot, `run-${i}`), '--storage-driver', 'overlay'];
      podman.push(await timed(() => {
        execFileSync('podman', [...store, 'pull', '--tls-verify=false', ref], { stdio: 'ignore' });
      }));
      spawnSync('podman', [...store, 'system', 'reset', '--force'], { stdio: 'ignore' });
    }
  }

  // run latency: the big image against busybox (2 MB), through the docker CLI.
  await daemon.client.importImage(createReadStream(busyboxTarball()), 'busybox');
  const env = { ...process.env, DOCKER_HOST: `unix://${daemon.socket}` };
  const runLatency = async (image: string) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await timed(() => { execFileSync('docker', ['run', '--rm', image, 'true'], { env, stdio: 'ignore' }); }));
    return median(times);
  };
  const runBig = await runLatency(ref);
  const runSmall = await runLatency('busybox');

  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const rate = (t: number) => `${(compressed / 1e6 / (t / 1000)).toFixed(0)} MB/s`;
  lines.push(
    `## Images: pull + unpack and run latency (${new Date().toISOString().slice(0, 10)})`,
    '',
    ...machineLines(info as Record<string, unknown>),
    `- image: busybox + ${LAYERS} layers of ${LAYER_MB} MB (base64 noise); ${mb(compressed)} MB compressed, ${mb(unpacked)} MB unpacked; local docker-registry ${sh("dpkg-query -W -f='${Version}' docker-registry")}, skopeo ${sh("dpkg-query -W -f='${Version}' skopeo")}`,
    '',
    '| what | median of ' + RUNS + ' | throughput (compressed) | vs berth |',
    '|---|---|---|---|',
    `| berth pull (download + verify + unpack) | ${ms(median(berth))} | ${rate(median(berth))} | 1.00x |`,
    `| skopeo copy to an OCI layout (download + verify, no unpack) | ${ms(median(skopeo))} | ${rate(median(skopeo))} | ${(median(berth) / median(skopeo)).toFixed(2)}x |`,
    podmanAvailable
      ? `| podman pull (download + unpack) | ${ms(median(podman))} | ${rate(median(podman))} | ${(median(berth) / median(podman)).toFixed(2)}x |`
      : '| podman pull | not installed here | | |',
    '',
    `\`docker run --rm IMAGE true\` (median of 5): ${mb(unpacked)} MB image ${ms(runBig)}, 2 MB busybox ${ms(runSmall)}.`,
    '',
    `berth runs: ${berth.map(ms).join(', ')}; skopeo runs: ${skopeo.map(ms).join(', ')}${podman.length ? `; podman runs: ${podman.map(ms).join(', ')}` : ''}.`,
  );
  console.log(lines.join('\n'));
} catch (err) {
  console.error(`benchmark failed: ${(err as Error).stack ?? String(err)}\n--- berthd log (tail) ---\n${daemon.log().split('\n').slice(-30).join('\n')}`);
  process.exitCode = 1;
} finally {
  await daemon.cleanup().catch((err: unknown) => console.error('cleanup:', err));
  await registry.stop();
  rmSync(root, { recursive: true, force: true });
}
