import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newDaemon, runShell, waitFor, sleep } from './harness.ts';

const LINES = 52_500; // ~5 MiB of 100-byte lines
const PAD = 'x'.repeat(88);

test('a container writing 5 MiB while the daemon is down never stalls and loses no line', async (t) => {
  const daemon = newDaemon(t, { liveRestore: true });
  await daemon.start();
  await daemon.importBusybox();
  const progress = join(daemon.root, 'progress');
  mkdirSync(progress);
  const script = `while [ ! -e /progress/go ]; do sleep 0.05; done; i=0; while [ $i -lt ${LINES} ]; do echo "line $i ${PAD}"; i=$((i+1)); done; touch /progress/done; sleep 1000`;
  const id = await runShell(daemon, script, { HostConfig: { Binds: [`${progress}:/progress`] } });

  await daemon.stop('SIGTERM');
  const downFrom = Date.now();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(progress, 'go'), '');
  // The container finishes all its output while no daemon exists: it never blocked on a pipe.
  await waitFor('the container to finish writing while the daemon is down', () => existsSync(join(progress, 'done')) || undefined, 120_000);
  await sleep(500);
  const downUntil = Date.now();
  await daemon.start();

  const res = await daemon.client.containerLogs(id, { timestamps: true });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const { FrameDecoder } = await import('../../src/protocol/stdcopy.ts');
  const lines: string[] = [];
  const decoder = new FrameDecoder();
  decoder.push(Buffer.concat(chunks), (_stream, payload) => lines.push(payload.toString()));
  assert.equal(lines.length, LINES, 'every line is in the log');
  lines.forEach((line, i) => {
    const space = line.indexOf(' ');
    const time = Date.parse(line.slice(0, space));
    if (line.slice(space + 1) !== `line ${i} ${PAD}\n`) assert.fail(`line ${i} is out of place: ${line.slice(space + 1, space + 30)}`);
    if (!(time >= downFrom - 1 && time <= downUntil)) assert.fail(`line ${i} was stamped ${line.slice(0, space)}, outside the downtime`);
  });
});
