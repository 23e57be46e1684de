import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBody, type ContainerOptions } from './container-flags.ts';

const base: ContainerOptions = { restart: 'no', pull: 'missing', healthcheck: true };
const hostConfig = (o: Partial<ContainerOptions>) => createBody('busybox', [], { ...base, ...o }).HostConfig as Record<string, unknown>;

test('--security-opt seccomp=<file> sends the file content, as the docker CLI does; others pass through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  try {
    const profile = join(dir, 'profile.json');
    writeFileSync(profile, '{"defaultAction":"SCMP_ACT_ALLOW"}');
    assert.deepEqual(hostConfig({ securityOpt: [`seccomp=${profile}`, 'seccomp=unconfined', 'no-new-privileges', 'label=disable'] }).SecurityOpt,
      ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'seccomp=unconfined', 'no-new-privileges', 'label=disable']);
    assert.throws(() => hostConfig({ securityOpt: [`seccomp=${join(dir, 'missing.json')}`] }), /opening seccomp profile .*missing\.json.* no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no --security-opt: no SecurityOpt in the body', () => {
  assert.equal(hostConfig({}).SecurityOpt, undefined);
});
